// The `Lab-Experiment: ID` trailer: `git lab checkout ID` notes what it checked out, and a commit made on top of that
// code gets the trailer (prepare-commit-msg for a message given with -m/-F/-c, commit-msg for one written in the editor).
import { readFile, writeFile, mkdir } from 'node:fs/promises'
import path from 'node:path'
import type { Lab } from './lab.ts'
import { hookOn } from './hooks.ts'
import { addTrailer, commentChar } from '../git/commits.ts'

export const TRAILER = 'Lab-Experiment'

/** Per worktree, as HEAD is: <git dir>/lab/checkout holds "ID COMMIT", which the sh hooks read too. */
const checkoutFile = (lab: Lab) => path.join(lab.repo.gitDir, 'lab', 'checkout')

/** Notes that the worktree's HEAD is now experiment id's code (called by `git lab checkout`). */
export async function recordCheckout(lab: Lab, id: string, commit: string): Promise<void> {
  await mkdir(path.dirname(checkoutFile(lab)), { recursive: true })
  await writeFile(checkoutFile(lab), `${id} ${commit}\n`)
}

/** The experiment whose code HEAD is, if `git lab checkout` put it there (and nothing moved HEAD since). */
async function checkedOut(lab: Lab): Promise<string | null> {
  const m = /^([0-9a-f]{4,64}) ([0-9a-f]{40,64})\n?$/.exec(await readFile(checkoutFile(lab), 'utf8').catch(() => ''))
  return m && (await lab.repo.head()) === m[2] ? m[1] : null
}

// Git's comment characters for core.commentChar=auto (it picks one the message does not use).
const AUTO = '#;@!$%^&|:'

/** The lines of a commit message that say something: not comments, not blank, nothing below a scissors line. */
export function messageLines(text: string, cc: string | null): string[] {
  const out: string[] = []
  for (const line of text.split('\n')) {
    const c = line[0]
    const comment = c !== undefined && (cc === null ? AUTO.includes(c) : c === cc)
    if (comment && / -{24} >8 -{24}$/.test(line)) break
    if (!comment && line.trim()) out.push(line.trim())
  }
  return out
}

/**
 * Adds the trailer to the message in `file` when HEAD is an experiment's checked-out code. A message with nothing in it
 * yet (an editor is about to open) is left alone, and one that holds nothing but our trailer loses it: git aborts a
 * commit whose message is empty, and a message of one trailer would not be.
 */
export async function hookTrailer(lab: Lab, hook: 'prepare-commit-msg' | 'commit-msg', file: string | undefined): Promise<void> {
  if (!file || !hookOn(lab, 'prepare-commit-msg') || !hookOn(lab, hook)) return
  const id = await checkedOut(lab)
  if (!id) return
  const full = path.resolve(lab.repo.topLevel ?? lab.repo.cwd, file)
  const [text, cc] = await Promise.all([readFile(full, 'utf8'), commentChar(lab.repo)])
  const ours = `${TRAILER}: ${id}`
  const lines = messageLines(text, cc)
  const rest = lines.filter(l => l !== ours)
  if (!rest.length) {
    if (lines.length) await writeFile(full, text.split('\n').filter(l => l.trim() !== ours).join('\n'))
    return
  }
  if (rest.length === lines.length) await addTrailer(lab.repo, full, TRAILER, id)
}
