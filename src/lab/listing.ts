// The experiment listing behind `log`, with a cache that lets a repeated listing skip parsing the folded state:
// a small row index to filter on, plus each experiment's JSON text, valid for exactly one saved index.
import { readFile, writeFile, rename } from 'node:fs/promises'
import { createHash, randomBytes } from 'node:crypto'
import path from 'node:path'
import type { Lab } from './lab.ts'
import { checkStatus, listExperiments, type ListOptions } from './experiments.ts'
import { experimentJson, type ExperimentJson } from './json.ts'

interface Row { id: string; status: string; idea: string | null; tags: string[]; commit: string | null }
interface Cache { key: string; rows: Row[]; lines: string[] }

export interface Listing {
  length: number
  commit(i: number): string | null
  /** the experiment's --json text (compact) */
  text(i: number): string
  get(i: number): ExperimentJson
}

const CACHE = 'log-cache.jsonl'
const keyOf = (indexText: string) => createHash('sha1').update(indexText).digest('hex')

async function readCache(dir: string, key: string): Promise<Cache | null> {
  try {
    const text = await readFile(path.join(dir, CACHE), 'utf8')
    const nl = text.indexOf('\n')
    const head = JSON.parse(text.slice(0, nl)) as { key: string; rows: Row[] }
    if (head.key !== key) return null
    const lines = text.slice(nl + 1).split('\n')
    lines.pop()
    return lines.length === head.rows.length ? { key, rows: head.rows, lines } : null
  } catch {
    return null
  }
}

async function writeCache(dir: string, c: Cache): Promise<void> {
  const tmp = path.join(dir, `${CACHE}.${process.pid}.${randomBytes(4).toString('hex')}`)
  await writeFile(tmp, JSON.stringify({ key: c.key, rows: c.rows }) + '\n' + c.lines.map(l => l + '\n').join(''))
  await rename(tmp, path.join(dir, CACHE))
}

function select(c: Cache, o: ListOptions): Listing {
  let idx = c.rows.map((_, i) => i)
  if (o.status) idx = idx.filter(i => c.rows[i].status === o.status)
  if (o.tag) idx = idx.filter(i => c.rows[i].tags.includes(o.tag!))
  if (o.limit && o.limit > 0) idx = idx.slice(0, o.limit)
  return {
    length: idx.length,
    commit: i => c.rows[idx[i]].commit,
    text: i => c.lines[idx[i]],
    get: i => JSON.parse(c.lines[idx[i]]) as ExperimentJson,
  }
}

/** Experiments newest first, filtered; served from the cache when the index has not changed since it was made. */
export async function listing(lab: Lab, o: ListOptions = {}): Promise<Listing> {
  checkStatus(o.status)
  const dir = lab.store.files.dir
  // --idea resolves a prefix against every idea: that needs the state, so it takes the full path.
  if (!o.idea) {
    const fresh = await lab.store.freshIndexText()
    const cached = fresh ? await readCache(dir, keyOf(fresh)) : null
    if (cached) return select(cached, o)
  }
  const all = await listExperiments(lab, { idea: o.idea })
  const saved = o.idea ? null : await lab.store.savedIndexText()
  const c: Cache = {
    key: saved ? keyOf(saved) : '',
    rows: all.map(e => ({ id: e.id, status: e.status, idea: e.idea, tags: e.tags, commit: e.commit })),
    lines: all.map(e => JSON.stringify(experimentJson(e))),
  }
  if (saved) await writeCache(dir, c).catch(() => undefined)
  return select(c, o)
}
