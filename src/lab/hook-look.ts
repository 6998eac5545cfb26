// After this clone writes records that cannot change what the summary hooks report (it queued, tagged, noted, wrote
// an idea, read messages), their last look stays current: the next checkout need not start git-lab to find nothing.
import { readFile, writeFile, rename } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import type { Repo } from '../git/repo.ts'
import type { Op } from '../store/op.ts'
import { parseTrailers } from '../store/layout.ts'

/**
 * Kinds that change no finished experiment, no metric, no objective, and add no unread message. (Not message.send: an
 * agent of this clone writes as its writer, and its message is news to the person at the terminal.)
 */
const NEUTRAL = new Set(['experiment.queue', 'experiment.tag', 'experiment.note', 'idea.create', 'idea.link', 'idea.resolve',
  'idea.tag', 'idea.note', 'message.read'])

/**
 * Moves `ref`'s line in .git/lab/hook-refs from the commit before `tip` to `tip` (or adds it, for the first commit of
 * the log), when `tip` is the commit that wrote `ops` (its Lab-Seq is theirs), all of them are neutral, and the last
 * look saw the log right before it. Anything else (another process wrote in between, no look yet) leaves the file
 * alone: the next hook looks for itself.
 */
export async function lookStaysCurrent(repo: Repo, ref: string, tip: string | undefined, ops: Op[]): Promise<void> {
  if (!tip || !ops.length || !ops.every(op => NEUTRAL.has(op.type))) return
  const file = path.join(repo.commonDir, 'lab', 'hook-refs')
  try {
    const text = await readFile(file, 'utf8')
    const c = await repo.catFile.read(tip, 1 << 20)
    const body = c?.type === 'commit' && c.data ? c.data.toString('utf8') : ''
    if (parseTrailers(body)?.seq !== ops[ops.length - 1].seq) return
    const lines = text.split('\n').filter(Boolean)
    const i = lines.findIndex(l => l.endsWith(` ${ref}`))
    if (ops[0].seq === 1) {
      // the log's first commit: the last look saw no such ref (git lists refs sorted by name, as this sorts them)
      if (i >= 0) return
      lines.push(`${tip} ${ref}`)
      lines.sort((a, b) => { const x = a.slice(a.indexOf(' ') + 1), y = b.slice(b.indexOf(' ') + 1); return x < y ? -1 : x > y ? 1 : 0 })
    } else {
      // (a log commit's first parent is the one before it; code snapshots come after)
      const parent = /^parent ([0-9a-f]+)$/m.exec(body.slice(0, body.indexOf('\n\n')))?.[1]
      if (!parent || i < 0 || lines[i] !== `${parent} ${ref}`) return
      lines[i] = `${tip} ${ref}`
    }
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`
    await writeFile(tmp, lines.map(l => `${l}\n`).join(''))
    await rename(tmp, file)
  } catch { /* no hooks here (no file), or gone meanwhile: the next hook looks for itself */ }
}
