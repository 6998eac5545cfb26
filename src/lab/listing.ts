// The experiment listing behind `log`, with a cache that lets a repeated listing skip parsing the folded state.
// The cache file is: a key line (valid for exactly one saved index), a row index line (to filter on), a values line
// (params and metrics, for --where and --columns) and the body: the `log --json` array itself, every row ending in
// `"at_head":false}`. An unfiltered listing is the body, written out as bytes, with only the rows at HEAD patched.
import { readFile, writeFile, rename, rm } from 'node:fs/promises'
import { createHash, randomBytes } from 'node:crypto'
import path from 'node:path'
import type { Lab } from './lab.ts'
import { checkStatus, listExperiments, type ListOptions } from './experiments.ts'
import { experimentJson, safeJson, type ExperimentJson } from './json.ts'
import { matchesAll } from './where.ts'
import type { Experiment } from '../store/state.ts'

interface Row { id: string; status: string; idea: string | null; tags: string[]; commit: string | null }
interface Index { rows: Row[]; /** byte offset in the body just past each row */ ends: number[] }
/** Per row: params as given and final metrics, 0 for none. A line of its own: only --where and --columns parse it. */
type Values = Array<[Record<string, string> | 0, Record<string, number> | 0]>
interface Cache { key: string; body: Buffer; index: () => Index; values: () => Values }

export interface Listing {
  length: number
  commit(i: number): string | null
  /** the experiment's --json text (compact), with at_head */
  text(i: number, atHead: boolean): string
  get(i: number): ExperimentJson
  /** its params as given and its final metrics (for columns) */
  values(i: number): { params: Record<string, string>; metrics: Record<string, number> }
  /** the whole listing as the compact --json array, or null when it is filtered or cut */
  array(head: string | null): Buffer | null
}

// (the layout is told by BODY in the key, so a file of another layout is never read: no new name needed)
const CACHE = 'log-cache.v2'
const OLD_CACHE = 'log-cache.jsonl'
// Part of the key: a body of another layout is never served (2: control characters escaped, as bytes out bypass the
// terminal door; 3: params, and a values line).
const BODY = '3\n'
const keyOf = (indexText: string) => createHash('sha1').update(BODY).update(indexText).digest('hex')
// Inside a JSON string every quote is escaped, so these byte runs only ever match the keys themselves.
const FALSE_END = Buffer.from(',"at_head":false}')
const TRUE_END = Buffer.from(',"at_head":true}')
const COMMIT_KEY = Buffer.from(',"commit":')

async function readCache(dir: string, key: string): Promise<Cache | null> {
  try {
    const buf = await readFile(path.join(dir, CACHE))
    const nl1 = buf.indexOf(0x0a)
    if ((JSON.parse(buf.subarray(0, nl1).toString('utf8')) as { key: string }).key !== key) return null
    const nl2 = buf.indexOf(0x0a, nl1 + 1)
    const nl3 = buf.indexOf(0x0a, nl2 + 1)
    const body = buf.subarray(nl3 + 1)
    let index: Index | null = null
    let values: Values | null = null
    // The row index (1 MB at 10,000 experiments) is parsed only when a filter or a row needs it, the values only
    // for --where and --columns.
    return {
      key, body,
      index: () => (index ??= JSON.parse(buf.subarray(nl1 + 1, nl2).toString('utf8')) as Index),
      values: () => (values ??= JSON.parse(buf.subarray(nl2 + 1, nl3).toString('utf8')) as Values),
    }
  } catch {
    return null
  }
}

async function writeCache(dir: string, c: Cache): Promise<void> {
  const tmp = path.join(dir, `${CACHE}.${process.pid}.${randomBytes(4).toString('hex')}`)
  const head = JSON.stringify({ key: c.key }) + '\n' + JSON.stringify(c.index()) + '\n' + JSON.stringify(c.values()) + '\n'
  await writeFile(tmp, Buffer.concat([Buffer.from(head), c.body]))
  await rename(tmp, path.join(dir, CACHE))
}

const some = <T>(o: Record<string, T>) => { for (const _ in o) return o; return 0 as const }

function build(key: string, all: Experiment[]): Cache {
  const rows: Row[] = all.map(e => ({ id: e.id, status: e.status, idea: e.idea, tags: e.tags, commit: e.commit }))
  const values: Values = all.map(e => [some(e.params), some(e.metrics)])
  const parts: string[] = []
  const ends: number[] = []
  let at = 1
  for (const e of all) {
    const t = safeJson(JSON.stringify(experimentJson(e))).slice(0, -1) + ',"at_head":false}'
    at += (parts.length ? 1 : 0) + Buffer.byteLength(t)
    ends.push(at)
    parts.push(t)
  }
  const index = { rows, ends }
  return { key, body: Buffer.from(`[${parts.join(',')}]\n`), index: () => index, values: () => values }
}

function select(c: Cache, o: ListOptions): Listing {
  const whole = !o.status && !o.tag && !o.where?.length
  const ix = () => c.index()
  let idx: number[] | null = null
  const pick = () => {
    if (idx) return idx
    const { rows } = ix()
    let all = rows.map((_, i) => i)
    if (o.status) all = all.filter(i => rows[i].status === o.status)
    if (o.tag) all = all.filter(i => rows[i].tags.includes(o.tag!))
    if (o.where?.length) {
      const vs = c.values()
      all = all.filter(i => matchesAll(o.where!, vs[i][0] || undefined, vs[i][1] || undefined))
    }
    if (o.limit && o.limit > 0) all = all.slice(0, o.limit)
    return (idx = all)
  }
  const rowText = (r: number) => {
    const { ends } = ix()
    return c.body.subarray(r === 0 ? 1 : ends[r - 1] + 1, ends[r]).toString('utf8')
  }
  return {
    get length() { return pick().length },
    commit: i => ix().rows[pick()[i]].commit,
    text: (i, atHead) => { const t = rowText(pick()[i]); return atHead ? t.slice(0, -6) + 'true}' : t },
    get: i => JSON.parse(rowText(pick()[i])) as ExperimentJson,
    values: i => { const [p, m] = c.values()[pick()[i]]; return { params: p || {}, metrics: m || {} } },
    array(head) {
      if (!whole || (o.limit && o.limit > 0 && (idx ?? pick()).length < ix().rows.length)) return null
      if (!head) return c.body
      // The rows at HEAD, found without the row index: inside JSON strings quotes are escaped, and the keys before
      // `commit` hold strings, so a row's first `,"commit":` is its own commit. A later one is a param of that name.
      const needle = Buffer.from(`,"commit":"${head}"`)
      const cuts: number[] = []
      for (let at = c.body.indexOf(needle); at >= 0; at = c.body.indexOf(needle, at + needle.length)) {
        const end = c.body.indexOf(FALSE_END, at)
        const start = Math.max(0, c.body.lastIndexOf(FALSE_END, at))
        if (end >= 0 && c.body.indexOf(COMMIT_KEY, start) === at) cuts.push(end)
      }
      if (!cuts.length) return c.body
      const parts: Buffer[] = []
      let from = 0
      for (const end of cuts) { parts.push(c.body.subarray(from, end), TRUE_END); from = end + FALSE_END.length }
      parts.push(c.body.subarray(from))
      return Buffer.concat(parts)
    },
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
  const c = build(saved ? keyOf(saved) : '', all)
  // (the cache file of earlier versions goes with the first write of this one)
  if (saved) await writeCache(dir, c).then(() => rm(path.join(dir, OLD_CACHE), { force: true })).catch(() => undefined)
  return select(c, o)
}

