// The working-tree snapshot a submit records, and the untracked files it leaves out because they look like secrets.
import { realpath } from 'node:fs/promises'
import path from 'node:path'
import type { Lab } from './lab.ts'
import { SECRET_GLOBS, patternGlobs } from './secret-files.ts'

export function leaveOutGlobs(lab: Lab): string[] {
  // git lowercases the key's name part: lab.snapshotExclude is read as lab.snapshotexclude.
  return [...SECRET_GLOBS, ...(lab.config.get('lab.snapshotexclude') ?? []).flatMap(patternGlobs)]
}

export interface WorktreeSnapshot {
  tree: string
  /** untracked files left out as secrets, as paths from the current directory (what --include takes) */
  leftOut: string[]
}

const posix = (p: string) => p.split(path.sep).join('/')

/** Snapshots the working tree; `include`: paths from the current directory to snapshot even if they look like secrets. */
export async function snapshotWorktree(lab: Lab, include: string[] = []): Promise<WorktreeSnapshot> {
  const top = lab.repo.topLevel ?? lab.repo.cwd
  // git reports the top level with symlinks resolved: resolve the current directory the same way.
  let cwd: string | null = null
  const here = async () => cwd ??= await realpath(lab.repo.cwd).catch(() => lab.repo.cwd)
  const inc: string[] = []
  for (const p of include) {
    const rel = posix(path.relative(top, path.resolve(await here(), p)))
    if (rel !== '..' && !rel.startsWith('../') && !path.isAbsolute(rel)) inc.push(rel)
  }
  const snap = await lab.repo.snapshotTree({ leaveOut: leaveOutGlobs(lab), include: inc })
  if (!snap.leftOut.length) return snap
  const base = await here()
  return { tree: snap.tree, leftOut: snap.leftOut.map(p => posix(path.relative(base, path.join(top, p)))) }
}
