// Commit messages as git reads them, for the hooks: a commit's subject and trailers, HEAD's reflog, adding a trailer.
import type { Repo } from './repo.ts'

export interface Trailer { key: string; value: string }
export interface CommitInfo { sha: string; tree: string; subject: string; trailers: Trailer[] }
export interface ReflogEntry { sha: string; subject: string }

/**
 * A commit's id, tree, subject and trailers, parsed by git itself (`%(trailers)`: the same rules `git commit --trailer`
 * and `git interpret-trailers` follow; folded values unfolded), or null when rev names no commit.
 */
export async function commitInfo(repo: Repo, rev: string): Promise<CommitInfo | null> {
  if (rev.startsWith('-')) return null
  const r = await repo.git(['log', '-1', '--no-show-signature', '--format=%H%x00%T%x00%s%x00%(trailers:only,unfold)', rev, '--'], { ok: [128] })
  if (r.code !== 0) return null
  const [sha, tree, subject, block] = r.stdout.toString('utf8').split('\0')
  if (!sha || !tree || block === undefined) return null
  const trailers: Trailer[] = []
  for (const line of block.split('\n')) {
    // git prints each trailer of the block as `Key: value`, whatever separator the message used
    const i = line.indexOf(': ')
    if (i > 0) trailers.push({ key: line.slice(0, i), value: line.slice(i + 2).trim() })
  }
  return { sha, tree, subject, trailers }
}

/** The values of a commit's trailers named key (case-insensitive, as git matches them), in order. */
export function trailerValues(c: CommitInfo, key: string): string[] {
  const k = key.toLowerCase()
  return c.trailers.filter(t => t.key.toLowerCase() === k).map(t => t.value)
}

/** HEAD's last `n` reflog entries, newest first: what moved it (`commit (amend): ...`, `rebase (pick): ...`) and to where. */
export async function headReflog(repo: Repo, n: number): Promise<ReflogEntry[]> {
  const r = await repo.git(['log', '-g', `-${n}`, '--no-show-signature', '--format=%H%x00%gs', 'HEAD', '--'], { ok: [128] })
  if (r.code !== 0) return []
  return r.stdout.toString('utf8').split('\n').filter(Boolean).map(l => {
    const i = l.indexOf('\0')
    return { sha: l.slice(0, i), subject: l.slice(i + 1) }
  })
}

/**
 * Adds `key: value` to the trailers of the commit message in `file` (`git interpret-trailers --in-place`: above the
 * comments and any scissors line of an editor session), unless the message has that very trailer already.
 */
export async function addTrailer(repo: Repo, file: string, key: string, value: string): Promise<void> {
  await repo.git(['interpret-trailers', '--in-place', '--where', 'end', '--if-exists', 'addIfDifferent', '--trailer', `${key}: ${value}`, '--', file])
}

/** The character that starts a comment line in commit messages here (`core.commentChar`; null for `auto`). */
export async function commentChar(repo: Repo): Promise<string | null> {
  const r = await repo.git(['config', 'core.commentChar'], { ok: [1] })
  const v = r.stdout.toString('utf8').replace(/\n$/, '')
  return v === 'auto' ? null : v ? v[0] : '#'
}
