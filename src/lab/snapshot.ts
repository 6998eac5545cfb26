// The working-tree snapshot a submit records, and the untracked files it leaves out because they look like secrets.
import { realpath } from 'node:fs/promises'
import path from 'node:path'
import type { Lab } from './lab.ts'

/**
 * File names that usually hold credentials, matched at any depth: dotenv files, keys and certificates, ssh keys,
 * netrc, git/npm/pypi/postgres/cloud credentials. Only untracked files are left out: a tracked `.env.example`
 * is code. `git config --add lab.snapshotExclude PATTERN` adds more.
 */
export const SECRET_FILES = [
  '.env*', '*.pem', '*.key', '*.p12', '*.pfx', 'id_rsa*', 'id_dsa*', 'id_ecdsa*', 'id_ed25519*', '.netrc', '_netrc',
  'credentials', 'credentials.json', '*.credentials', '.git-credentials', '.pgpass', '.npmrc', '.pypirc',
  'client_secret*.json',
]

/**
 * A gitignore-style pattern as git glob pathspecs: without a slash it matches a name at any depth, with a leading or
 * inner slash a path from the top level; it also matches everything under a folder of that name (a trailing slash:
 * only that).
 */
export function patternGlobs(pattern: string): string[] {
  let p = pattern.trim()
  if (!p || p.startsWith('#')) return []
  const folder = p.endsWith('/')
  p = p.replace(/\/+$/, '')
  const anchored = p.includes('/')
  p = p.replace(/^\/+/, '')
  if (!p) return []
  const base = anchored ? p : `**/${p}`
  return folder ? [`${base}/**`] : [base, `${base}/**`]
}

export function leaveOutGlobs(lab: Lab): string[] {
  // git lowercases the key's name part: lab.snapshotExclude is read as lab.snapshotexclude.
  return [...SECRET_FILES.map(p => `**/${p}`), ...(lab.config.get('lab.snapshotexclude') ?? []).flatMap(patternGlobs)]
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
