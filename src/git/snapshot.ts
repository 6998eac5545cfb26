// A snapshot of the working tree as a tree object, made through a temporary copy of the index: the user's index,
// worktree, HEAD and stash are untouched; untracked files that look like secrets are never even hashed.
import { copyFileSync, mkdirSync, rmSync, statSync, utimesSync } from 'node:fs'
import path from 'node:path'
import { GitError } from '../errors.ts'
import { randomHex } from '../random.ts'
import { pathspecEnv } from './early.ts'
import { untrackedArgs } from './queries.ts'
import type { Repo } from './repo.ts'
import { runGit, runGitChain } from './run.ts'

export interface SnapshotOptions { leaveOut?: string[]; include?: string[] }
/** A snapshot's tree, and the untracked files it left out (paths from the top level). */
export interface Snapshot { tree: string; leftOut: string[] }

/**
 * The working tree as a tree object, leaving out untracked files that match `leaveOut` (git glob pathspecs)
 * unless `include` names them (a path from the top level, or a folder above it; '' for all). Tracked files are
 * always snapshotted with their changes. Uses a temporary copy of the index, so the user's index, worktree, HEAD
 * and stash are untouched.
 */
export async function snapshotTree(repo: Repo, o: SnapshotOptions = {}): Promise<Snapshot> {
  const top = repo.topLevel
  if (!top) throw new GitError('this repository has no working tree')
  const globs = o.leaveOut ?? []
  const penv = pathspecEnv(repo.env)
  // Only untracked files are matched: against a few files, not the whole index (which costs as much as the add).
  // (from the directory the command started in, with paths from the top level: as the launcher asks it early)
  const listing = globs.length ? runGit(untrackedArgs(globs), { cwd: repo.cwd, env: penv, envFrom: repo.env }) : null
  listing?.catch(() => undefined)
  const tmpDir = path.join(repo.gitDir, 'lab', 'tmp')
  const tmpIndex = path.join(tmpDir, `index-${process.pid}-${randomHex(4)}`)
  try {
    // Starting from the real index reuses its stat cache: only changed files are hashed. (No index yet: git makes one.)
    // The copy keeps the index's time: git rehashes a file changed in the same second as the index was written (its
    // stat looks clean, "racily"), judged by the index file's time; a copy made later would hide such a change.
    const index = path.join(repo.gitDir, 'index')
    // (at once: a file copy in the kernel; through the thread pool it cost more than it took)
    const copy = () => {
      const st = statSync(index)
      copyFileSync(index, tmpIndex)
      utimesSync(tmpIndex, st.atime, st.mtime)
    }
    try { copy() } catch {
      mkdirSync(tmpDir, { recursive: true })
      try { copy() } catch { /* no index yet */ }
    }
    const inc = o.include ?? []
    const wanted = (p: string) => inc.some(i => i === '' || p === i || p.startsWith(i.endsWith('/') ? i : `${i}/`))
    const leftOut = listing ? (await listing).stdout.toString('utf8').split('\0').filter(p => p && !wanted(p)) : []
    const env = { ...penv, GIT_INDEX_FILE: tmpIndex }
    // Excluded by name, a left-out file is never even hashed: no copy of a secret lands in the object store.
    const specs = ['.', ...leftOut.map(p => `:(exclude,literal)${p}`)]
    const tree = runGitChain([['add', '-A', '--pathspec-from-file=-', '--pathspec-file-nul'], ['write-tree']], { cwd: top, env, input: specs.join('\0') })
    return { tree: (await tree).stdout.toString('latin1').trim(), leftOut }
  } finally {
    // (one unlink: at once rather than through the thread pool and back)
    try { rmSync(tmpIndex, { force: true }) } catch { /* removed with the folder meanwhile */ }
  }
}
