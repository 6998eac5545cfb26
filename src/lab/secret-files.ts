// What a working-tree snapshot leaves out unless told otherwise (src/lab/snapshot.ts); no imports: the launcher
// reads it too (src/lab/prefetch.ts).

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

/** SECRET_FILES as git glob pathspecs from the top level. */
export const SECRET_GLOBS = SECRET_FILES.map(p => `**/${p}`)
