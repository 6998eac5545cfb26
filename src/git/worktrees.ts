// Worktrees of runs: added and removed while other runs of the same repository are, which git itself races on.
import { readFile, realpath, rm } from 'node:fs/promises'
import path from 'node:path'
import { GitError } from '../errors.ts'
import type { Repo } from './repo.ts'
import { summarize, type RunResult } from './run.ts'

/** A detached worktree of `commit` at `dir` (which must not exist yet or be empty). */
export async function worktreeAdd(repo: Repo, dir: string, commit: string): Promise<void> {
  const r = await worktreeGit(repo, ['add', '--quiet', '--detach', dir, commit])
  if (r.code !== 0) {
    const why = summarize(r.stderr) ?? `exit code ${r.code}`
    throw new GitError(`git worktree failed: ${why}`, ['worktree', 'add', dir], r.stderr, why)
  }
}

/**
 * Removes a worktree made by worktreeAdd, with whatever the job left in it. One git cannot remove as a worktree
 * (damaged) goes by hand: its folder, and its admin folder alone, found by its .git file when that names one of
 * this repository's. (Not `git worktree prune`: it would also take the admin folders other `worktree add`s have
 * just made and not yet locked, and jobs are prepared at once.)
 */
export async function worktreeRemove(repo: Repo, dir: string): Promise<void> {
  const r = await worktreeGit(repo, ['remove', '--force', '--force', dir])
  if (r.code === 0) return
  // (a relative gitdir, as git writes with worktree.useRelativePaths, is relative to the worktree)
  const named = await readFile(path.join(dir, '.git'), 'utf8').then(t => {
    const g = /^gitdir: (.+)$/m.exec(t)?.[1].trim()
    return g ? path.resolve(dir, g) : null
  }, () => null)
  await rm(dir, { recursive: true, force: true })
  if (!named) return
  const [admins, parent] = await Promise.all([realpath(path.join(repo.commonDir, 'worktrees')), realpath(path.dirname(named))].map(p => p.catch(() => null)))
  const name = path.basename(named)
  if (admins && parent === admins && name && name !== '.' && name !== '..') await rm(path.join(admins, name), { recursive: true, force: true })
}

/**
 * `git worktree ARGS` (exit code 128 returned, not thrown), again while it fails on git's own race between worktree
 * commands: each reads every other worktree's admin files first, and dies on one that a `worktree add` has made
 * and not yet written, or that a `worktree remove` is removing (WORKTREE_RACE). Jobs of a worker and a
 * `git lab run` in one clone add and remove worktrees at once.
 */
async function worktreeGit(repo: Repo, args: string[]): Promise<RunResult> {
  for (let attempt = 1; ; attempt++) {
    const r = await repo.git(['worktree', ...args], { ok: [128] })
    if (r.code === 0 || attempt >= 8 || !WORKTREE_RACE.test(r.stderr)) return r
    await new Promise(resolve => setTimeout(resolve, 10 * attempt + Math.random() * 20))
  }
}

/**
 * What a worktree command says when another one's admin folder was half written, or being removed, as it read it:
 * `failed to read .git/worktrees/work3/commondir: Success`, `Invalid path '/r/.git/worktrees/work15': No such file`.
 */
const WORKTREE_RACE = /(failed to read|Invalid path|could not open) [^\n]*worktrees\/[^\n/']+/
