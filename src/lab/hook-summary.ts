// What changed in the lab since this clone last looked, in one line: what post-checkout, post-merge and post-rewrite
// print. The last look is a small file in .git/lab/; the lab refs it saw, beside it, let the sh hooks skip starting
// git-lab at all when they did not move.
import { readFile, writeFile, rename, mkdir } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import type { Lab } from './lab.ts'
import { hookOn } from './hooks.ts'
import { viewMessages } from './messages.ts'
import { WRITER_REF_PATTERNS } from '../store/layout.ts'
import { STATUSES, TERMINAL, type Experiment, type State } from '../store/state.ts'

/** What the last look saw: finished attempts (`id.attempt`), the best experiment, unread messages to me. */
export interface Seen { finished: string[]; best: string | null; messages: string[] }

const seenFile = (lab: Lab) => path.join(lab.repo.commonDir, 'lab', 'hook-seen.json')
/** Read by the sh hooks: the lab refs the last look saw, as they list them. */
const refsFile = (lab: Lab) => path.join(lab.repo.commonDir, 'lab', 'hook-refs')

/**
 * The lab refs as the sh hooks list them, `git for-each-ref --format='%(objectname) %(refname)' PATTERNS`, with the
 * patterns the store reads (a test holds the hooks to them).
 */
export async function refsListing(lab: Lab): Promise<string> {
  return (await lab.repo.forEachRef(WRITER_REF_PATTERNS)).map(r => `${r.sha} ${r.ref}\n`).join('')
}

const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every(x => typeof x === 'string')

async function readSeen(lab: Lab): Promise<Seen | null> {
  try {
    const j = JSON.parse(await readFile(seenFile(lab), 'utf8')) as Record<string, unknown>
    if (strings(j.finished) && strings(j.messages) && (j.best === null || typeof j.best === 'string')) {
      return { finished: j.finished, messages: j.messages, best: j.best as string | null }
    }
  } catch { /* none yet, or unreadable: this look becomes the first */ }
  return null
}

async function writeAtomic(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true })
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`
  await writeFile(tmp, text)
  await rename(tmp, file)
}

type Best = { id: string; metric: string; value: number }

/**
 * One pass over the experiments: the finished attempts (`id.attempt`), those not in `before`, and the best by the
 * lab's objective (succeeded, with a finite value; ties: the smaller id, for every clone alike).
 */
function scan(s: State, before: Set<string> | null): { finished: string[]; done: Experiment[]; best: Best | null } {
  const o = s.config.objective
  const finished: string[] = []
  const done: Experiment[] = []
  let best: Best | null = null
  for (const id in s.experiments) {
    const e = s.experiments[id]
    if (!TERMINAL.has(e.status)) continue
    const key = `${id}.${e.attempt}`
    finished.push(key)
    if (before && !before.has(key)) done.push(e)
    const v = o && e.status === 'succeeded' ? e.metrics[o.metric] : undefined
    if (typeof v !== 'number' || !Number.isFinite(v)) continue
    if (!best || (o!.direction === 'minimize' ? v < best.value : v > best.value) || (v === best.value && id < best.id)) best = { id, metric: o!.metric, value: v }
  }
  return { finished, done, best }
}

/** The best experiment by the lab's objective (as the summary line names it), or null. */
export const bestOf = (s: State): Best | null => scan(s, null).best

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`

/** The line for what changed between seen and now (null: nothing to say), and what to remember as seen. Pure. */
export function lookAgain(s: State, seen: Seen | null, unread: string[]): { line: string | null; seen: Seen } {
  const { finished, done, best } = scan(s, seen ? new Set(seen.finished) : null)
  const next: Seen = { finished, best: best?.id ?? null, messages: [...unread].sort() }
  if (!seen) return { line: null, seen: next }
  const parts: string[] = []
  if (done.length === 1) parts.push(`experiment ${done[0].id} ${done[0].status.replace('_', ' ')}`)
  else if (done.length > 1) {
    const by = new Map<string, number>()
    for (const e of done) by.set(e.status, (by.get(e.status) ?? 0) + 1)
    const counts = STATUSES.filter(st => by.has(st)).map(st => `${by.get(st)} ${st.replace('_', ' ')}`)
    parts.push(`${done.length} experiments finished (${counts.join(', ')})`)
  }
  const newBest = best !== null && best.id !== seen.best
  if (best && (done.length || newBest)) {
    // (the metric's name is another writer's text: one line, cut short; the CLI escapes what control it holds)
    const metric = best.metric.slice(0, 40).replace(/\s/g, ' ')
    parts.push(`${newBest ? 'new best' : 'best'} ${metric} ${Number(best.value.toPrecision(6))} (${best.id})`)
  }
  const had = new Set(seen.messages)
  const fresh = unread.filter(m => !had.has(m)).length
  if (fresh) parts.push(`${plural(fresh, 'new message')} for you ('git lab msg list --unread')`)
  return { line: parts.length ? parts.join('; ') : null, seen: next }
}

/**
 * Looks at the lab for post-checkout, post-merge or post-rewrite: returns the line to print (null: nothing changed)
 * and remembers this look. The refs are listed before the state is read, so they never claim more than was looked at.
 */
export async function hookSummary(lab: Lab, hook: string, env: NodeJS.ProcessEnv = {}): Promise<string | null> {
  if (!hookOn(lab, hook) || !lab.identity.writer) return null
  // The sh hook passes the refs it compared (LAB_HOOK_REFS, as $(...) left them: no last newline): one listing less.
  const given = env.LAB_HOOK_REFS
  const ok = given !== undefined && given.split('\n').every(l => l === '' || /^[0-9a-f]{40,64} refs\/lab\/\S+$/.test(l))
  return look(lab, !ok ? undefined : given ? `${given}\n` : '')
}

async function look(lab: Lab, given?: string): Promise<string | null> {
  const refs = given ?? await refsListing(lab)
  // git cat-file starts while the index loads: reading what a fetch brought needs it next (not an error if it fails)
  lab.repo.catFile.read('HEAD', 0).catch(() => null)
  const [state, seen] = await Promise.all([lab.state(), readSeen(lab)])
  const r = lookAgain(state, seen, viewMessages(lab, state, { unread: true }).map(m => m.id))
  await writeAtomic(seenFile(lab), JSON.stringify(r.seen) + '\n')
  await writeAtomic(refsFile(lab), refs)
  return r.line
}

/** The first look (by `git lab init`), unless there was one: hooks report only what changes after it. */
export async function firstLook(lab: Lab): Promise<void> {
  if (!(await readSeen(lab))) await look(lab)
}
