// After this clone writes records that cannot change what the summary hooks report (it queued, tagged, noted, wrote
// an idea, read messages), their last look stays current: the next checkout need not start git-lab to find nothing.
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { randomHex } from '../random.ts'
import path from 'node:path'
import type { Repo } from '../git/repo.ts'
import type { Appended } from '../store/store.ts'

/**
 * Kinds that change no finished experiment, no metric, no objective, and add no unread message. (Not message.send: an
 * agent of this clone writes as its writer, and its message is news to the person at the terminal.)
 */
const NEUTRAL = new Set(['experiment.queue', 'experiment.tag', 'experiment.note', 'idea.create', 'idea.link', 'idea.resolve',
  'idea.tag', 'idea.note', 'message.read'])

/**
 * Moves `ref`'s line in .git/lab/hook-refs from `parent` to `tip` (or adds it, for the first commit of the log), when
 * all of `ops` (which `tip` holds) are neutral and the last look saw the log right before it. Anything else (another
 * process wrote in between, no look yet) leaves the file alone: the next hook looks for itself.
 */
export async function lookStaysCurrent(repo: Repo, w: Appended): Promise<void> {
  const { ref, parent, tip, ops } = w
  if (!ops.length || !ops.every(op => NEUTRAL.has(op.type))) return
  const file = path.join(repo.commonDir, 'lab', 'hook-refs')
  try {
    // (a few lines, one per writer: read and written at once rather than through the thread pool and back)
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean)
    const i = lines.findIndex(l => l.endsWith(` ${ref}`))
    if (parent === null) {
      // the log's first commit: the last look saw no such ref (git lists refs sorted by name, as this sorts them)
      if (i >= 0) return
      lines.push(`${tip} ${ref}`)
      lines.sort((a, b) => { const x = a.slice(a.indexOf(' ') + 1), y = b.slice(b.indexOf(' ') + 1); return x < y ? -1 : x > y ? 1 : 0 })
    } else {
      if (i < 0 || lines[i] !== `${parent} ${ref}`) return
      lines[i] = `${tip} ${ref}`
    }
    const tmp = `${file}.${process.pid}.${randomHex(4)}`
    writeFileSync(tmp, lines.map(l => `${l}\n`).join(''))
    renameSync(tmp, file)
  } catch { /* no hooks here (no file), or gone meanwhile: the next hook looks for itself */ }
}
