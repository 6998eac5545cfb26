// Writes commits (snapshots and lab records) through one `git fast-import` run; it moves at most one ref, the last
// commit's, and only onto a commit that contains where the ref is (an append to a log).
import { spawn } from 'node:child_process'
import { nodeCrypto } from '../random.ts'
import { sha1Hex } from './sha1.ts'
import { GitError } from '../errors.ts'
import { spawnError, summarize } from './run.ts'
import { noteCommand } from './early.ts'

export interface Ident { name: string; email: string; when: Date }

export interface CommitSpec {
  /** first parent: a sha, or `:N` for the N-th commit (1-based) of the same batch */
  from?: string | null
  /** further parents, same notation */
  merges?: string[]
  /** replaces the whole tree with this tree sha before `files` are applied */
  tree?: string
  /** file contents inline, or the id of a blob already in the repository */
  files?: Array<{ path: string; data: Buffer | string } | { path: string; sha: string }>
  message: string
  author: Ident
  committer?: Ident
}

/** Hash of the commit object fast-import will write for a spec with a whole tree and no marks as parents. */
export function commitSha(c: CommitSpec & { tree: string }, format: 'sha1' | 'sha256'): string {
  const parents = [c.from, ...(c.merges ?? [])].filter((p): p is string => !!p)
  if (parents.some(p => p.startsWith(':')) || c.files?.length) throw new GitError('commitSha needs sha parents and no files')
  const body = Buffer.from(
    `tree ${c.tree}\n` + parents.map(p => `parent ${p}\n`).join('') +
    ident('author', c.author) + ident('committer', c.committer ?? c.author) + '\n' + c.message, 'utf8')
  const object = Buffer.concat([Buffer.from(`commit ${body.length}\0`), body])
  return format === 'sha1' ? sha1Hex(object) : nodeCrypto().createHash(format).update(object).digest('hex')
}

const clean = (s: string) => s.replace(/[<>\n\r\0]/g, '').trim() || 'unknown'

function ident(kind: string, i: Ident): string {
  return `${kind} ${clean(i.name)} <${clean(i.email)}> ${Math.floor(i.when.getTime() / 1000)} +0000\n`
}

function data(payload: Buffer | string): Buffer[] {
  const b = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload
  return [Buffer.from(`data ${b.length}\n`), b, Buffer.from('\n')]
}

function quotePath(p: string): string {
  if (!/^[A-Za-z0-9._\-/]+$/.test(p) || p.split('/').some(seg => seg === '' || seg === '.' || seg === '..')) throw new GitError(`refusing to write unusual path ${JSON.stringify(p)}`)
  return p
}

/**
 * Builds the fast-import stream. With `branch`, the last commit is made on it: fast-import moves that ref at the end,
 * only if the ref is absent or at a commit the new one contains (it checks under the ref's lock, as a compare-and-swap
 * against what it read), else it leaves the ref and exits 1. Every other commit is made on `tmpRef`, which is reset
 * after each: fast-import forgets it and never writes it.
 */
export function fastImportStream(specs: CommitSpec[], tmpRef: string, branch?: string): Buffer {
  const parts: Buffer[] = []
  const push = (s: string) => parts.push(Buffer.from(s, 'utf8'))
  specs.forEach((c, i) => {
    const onBranch = branch !== undefined && i === specs.length - 1
    push(`commit ${onBranch ? branch : tmpRef}\nmark :${i + 1}\n`)
    push(ident('author', c.author))
    push(ident('committer', c.committer ?? c.author))
    parts.push(...data(c.message))
    // fast-import continues from the branch's last commit unless told otherwise: reset between commits.
    if (c.from) push(`from ${c.from}\n`)
    for (const m of c.merges ?? []) push(`merge ${m}\n`)
    if (c.tree) push(`M 040000 ${c.tree} ""\n`)
    else if (c.from) { /* inherits the parent's tree */ } else push('deleteall\n')
    for (const f of c.files ?? []) {
      if ('sha' in f) { push(`M 100644 ${f.sha} ${quotePath(f.path)}\n`); continue }
      push(`M 100644 inline ${quotePath(f.path)}\n`)
      parts.push(...data(f.data))
    }
    push('\n')
    push(`get-mark :${i + 1}\n`)
    if (!onBranch) push(`reset ${tmpRef}\n\n`)
  })
  push('done\n')
  return Buffer.concat(parts)
}

/** The commits' ids in order, and whether `branch` (when given) was moved to the last one. */
export interface Imported { shas: string[]; moved: boolean }

export async function fastImport(specs: CommitSpec[], cwd: string, env: NodeJS.ProcessEnv, branch?: string): Promise<Imported> {
  if (specs.length === 0) return { shas: [], moved: false }
  // The temporary branch name only exists inside fast-import: each commit on it is followed by a reset without
  // `from`, so fast-import forgets it and updates no ref for it at the end.
  const tmpRef = `refs/lab/tmp/fast-import-${process.pid}`
  const input = fastImportStream(specs, tmpRef, branch)
  noteCommand(['fast-import'])
  return new Promise((resolve, reject) => {
    // The pack fast-import writes is kept as it is (fastimport.unpackLimit=1): below the default limit of 100 objects,
    // which every lab record is, git would start `unpack-objects` to explode it into loose objects, one more process
    // per write (~8 ms). Packs are gathered by git's housekeeping, which git lab starts (src/lab/housekeeping.ts).
    const child = spawn('git', ['-c', 'fastimport.unpackLimit=1', 'fast-import', '--quiet', '--done', '--date-format=raw'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (b: Buffer) => { out += b.toString() })
    child.stderr.on('data', (b: Buffer) => { err += b.toString() })
    child.on('error', e => reject(spawnError(e, ['fast-import'])))
    child.on('close', code => {
      const shas = out.split('\n').filter(Boolean)
      // Exit code 1 with every commit written: only the ref was not moved (it moved meanwhile, or its lock was taken).
      if (branch !== undefined && code === 1 && shas.length === specs.length) return resolve({ shas, moved: false })
      if (code !== 0 || shas.length !== specs.length) {
        const why = summarize(err) ?? `exit code ${code}`
        reject(new GitError(`git fast-import failed: ${why}`, ['fast-import'], err, why))
        return
      }
      resolve({ shas, moved: branch !== undefined })
    })
    child.stdin.on('error', () => { /* reported by close */ })
    child.stdin.end(input)
  })
}
