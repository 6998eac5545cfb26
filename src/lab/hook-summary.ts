// What changed in the lab since this clone last looked, in one line: what post-checkout, post-merge and post-rewrite
// print. The last look is a small file in .git/lab/; the lab refs it saw, beside it, let the sh hooks skip starting
// git-lab at all when they did not move.
import { readFile, writeFile, rename, mkdir } from 'node:fs/promises'
import { randomHex } from '../random.ts'
import path from 'node:path'
import type { Lab } from './lab.ts'
import { hookOn } from './hooks.ts'
import { viewMessages } from './messages.ts'
import { WRITER_REF_PATTERNS } from '../store/layout.ts'
import { STATUSES } from '../store/state.ts'
import type { Best, Ended } from '../store/summaries.ts'

/** What the last look saw: the position in the index's feed of ended attempts, the best experiment, unread messages. */
export interface Seen { ended: number; best: string | null; messages: string[] }

/** What the index says now: its feed of ended attempts and the best experiment. */
export interface Now { ended: number; recent: Ended[]; best: Best | null }

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
    // (a look by a version before the feed, `finished` ids: the first look again)
    if (Number.isSafeInteger(j.ended) && strings(j.messages) && (j.best === null || typeof j.best === 'string')) {
      return { ended: j.ended as number, messages: j.messages, best: j.best as string | null }
    }
  } catch { /* none yet, or unreadable: this look becomes the first */ }
  return null
}

async function writeAtomic(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true })
  const tmp = `${file}.${process.pid}.${randomHex(4)}`
  await writeFile(tmp, text)
  await rename(tmp, file)
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`

/** The line for what changed between seen and now (null: nothing to say), and what to remember as seen. Pure. */
export function lookAgain(now: Now, seen: Seen | null, unread: string[]): { line: string | null; seen: Seen } {
  const best = now.best
  const next: Seen = { ended: now.ended, best: best?.id ?? null, messages: [...unread].sort() }
  if (!seen) return { line: null, seen: next }
  const parts: string[] = []
  // Each attempt once, as it ended last; when more ended than the feed keeps, only how many.
  const since = now.ended - Math.max(0, Math.min(seen.ended, now.ended))
  const kept = now.recent.filter(([n]) => n > seen.ended)
  const done = [...new Map(kept.map(([, id, attempt, status]) => [`${id}.${attempt}`, { id, status }])).values()]
  if (since > kept.length) parts.push(`${since} experiments finished`)
  else if (done.length === 1) parts.push(`experiment ${done[0].id} ${done[0].status.replace('_', ' ')}`)
  else if (done.length > 1) {
    const by = new Map<string, number>()
    for (const e of done) by.set(e.status, (by.get(e.status) ?? 0) + 1)
    const counts = STATUSES.filter(st => by.has(st)).map(st => `${by.get(st)} ${st.replace('_', ' ')}`)
    parts.push(`${done.length} experiments finished (${counts.join(', ')})`)
  }
  const newBest = best !== null && best.id !== seen.best
  if (best && (since > 0 || newBest)) {
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
  const [index, seen] = await Promise.all([lab.index(), readSeen(lab)])
  const r = lookAgain(index, seen, viewMessages(lab, index.state, { unread: true }).map(m => m.id))
  await writeAtomic(seenFile(lab), JSON.stringify(r.seen) + '\n')
  await writeAtomic(refsFile(lab), refs)
  return r.line
}

/** The first look (by `git lab init`), unless there was one: hooks report only what changes after it. */
export async function firstLook(lab: Lab): Promise<void> {
  if (!(await readSeen(lab))) await look(lab)
}
