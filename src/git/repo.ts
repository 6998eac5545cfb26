// The plumbing interface the store relies on: one Repo per working directory, backed by the system git.
import path from 'node:path'
import { nodeCrypto } from '../random.ts'
import { NotARepoError, GitError } from '../errors.ts'
import { runGit, gitText, gitTooOld, startDetached, summarize, type RunOptions } from './run.ts'
import { CatFile } from './cat-file.ts'
import { DiffStream, type DiffEntry } from './diff-stream.ts'
import { fastImport, commitSha, type CommitSpec } from './fast-import.ts'
import { takeEarly } from './early.ts'
import { snapshotTree, type Snapshot, type SnapshotOptions } from './snapshot.ts'
import { worktreeAdd, worktreeRemove } from './worktrees.ts'
import { HEAD_ARGS, configArgs, refsArgs, repoArgs } from './queries.ts'

export type { Snapshot, SnapshotOptions }

export const ZERO = '0000000000000000000000000000000000000000'
export const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904'
const NULL_SHA = { sha1: ZERO, sha256: '0'.repeat(64) }
const EMPTY_TREES = { sha1: EMPTY_TREE, sha256: '6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321' }

export interface RefEntry { ref: string; sha: string }
export interface TreeEntry { mode: string; type: string; sha: string; path: string }

export type { DiffEntry }

export class Repo {
  readonly catFile: CatFile
  private constructor(
    readonly cwd: string,
    readonly gitDir: string,
    readonly commonDir: string,
    readonly topLevel: string | null,
    readonly objectFormat: 'sha1' | 'sha256',
    readonly env: NodeJS.ProcessEnv,
  ) {
    this.catFile = new CatFile(cwd, env)
  }

  static async open(cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<Repo> {
    const args = repoArgs(false)
    // --show-toplevel fails in a bare repository: ask again without it only then.
    const out = await gitText(repoArgs(true), { cwd, env })
      .catch(() => gitText(args, { cwd, env }))
      .catch((e: GitError) => {
        // Only git's own verdict means "not a repository": a missing git, a repository git refuses (another user's)
        // or a git too old are said as they are.
        if (e.stderr && /not a git repository/i.test(e.stderr)) throw new NotARepoError(`not a git repository: ${cwd}`, { stderr: e.stderr })
        throw e.args[0] === 'rev-parse' ? new GitError(e.reason, e.args, e.stderr, e.reason) : e
      })
    const lines = out.split('\n')
    const gitDir = lines[0]
    const commonDir = path.resolve(cwd, lines[1])
    const bare = lines[2] === 'true'
    const top = bare ? null : lines[4] || null
    // A git before --show-object-format echoes the option back instead of failing: the cheap place to notice it.
    if (lines[3] !== 'sha1' && lines[3] !== 'sha256') {
      throw await gitTooOld(env) ?? new GitError(`git reports an object format git lab does not know: ${JSON.stringify(lines[3])}`, args)
    }
    return new Repo(cwd, gitDir, commonDir, top, lines[3], env)
  }

  private headCache: Promise<{ commit: string; tree: string | null } | null> | undefined
  /** The commit HEAD points at, null on an unborn branch. */
  head(): Promise<string | null> {
    // The launcher may have asked already (a submit: HEAD_ARGS, with its tree); else the long-lived cat-file, not a
    // rev-parse of its own: one process fewer, and started early it has the commit (treeOf) one pipe round trip away.
    this.headCache ??= takeEarly(HEAD_ARGS, this.cwd, this.env).then(early => {
      const [commit, tree] = early ? early.toString('latin1').split('\n') : []
      if (commit && tree) return { commit, tree }
      return this.catFile.read('HEAD^{commit}', 0).then(o => o?.type === 'commit' ? { commit: o.sha, tree: null } : null)
    })
    return this.headCache.then(h => h?.commit ?? null)
  }

  close(): void { this.catFile.close() }

  private opts(extra: Partial<RunOptions> = {}): RunOptions {
    return { cwd: this.topLevel ?? this.cwd, env: this.env, ...extra }
  }

  git(args: string[], extra: Partial<RunOptions> = {}) { return runGit(args, this.opts(extra)) }
  text(args: string[], extra: Partial<RunOptions> = {}) { return gitText(args, this.opts(extra)) }

  // ---- config ----
  /** All config entries whose key matches the regexp, as key -> values (last wins in git's own reading). */
  configMatching(regexp: string): Promise<Map<string, string[]>> {
    return configMatchingAt(this.cwd, this.env, regexp)
  }
  async configSet(key: string, value: string): Promise<void> { await this.git(['config', '--local', key, value]) }
  async configAdd(key: string, value: string): Promise<void> { await this.git(['config', '--local', '--add', key, value]) }

  // ---- refs ----
  async forEachRef(patterns: string[]): Promise<RefEntry[]> {
    // (from the directory the command started in, as the launcher asks it early: the answer is the same anywhere)
    const out = await this.text(refsArgs(patterns), { cwd: this.cwd })
    return out.split('\n').filter(Boolean).map(l => ({ sha: l.slice(0, l.indexOf(' ')), ref: l.slice(l.indexOf(' ') + 1) }))
  }

  async revParse(rev: string): Promise<string | null> {
    if (rev.startsWith('-')) return null
    const r = await this.git(['rev-parse', '--verify', '-q', '--end-of-options', rev], { ok: [1, 128] })
    return r.code === 0 ? r.stdout.toString().trim() : null
  }

  /** Compare-and-swap: moves ref to newSha only if it is at oldSha now (null: must not exist). */
  async updateRef(ref: string, newSha: string, oldSha: string | null): Promise<boolean> {
    const r = await this.git(['update-ref', '--stdin'], { input: `update ${ref} ${newSha} ${oldSha ?? NULL_SHA[this.objectFormat]}\n`, ok: [1, 128] })
    if (r.code === 0) return true
    const now = await this.revParse(ref)
    if (now !== oldSha) return false
    const why = summarize(r.stderr) ?? `exit code ${r.code}`
    throw new GitError(`git update-ref failed: ${why}`, ['update-ref', ref], r.stderr, why)
  }

  async deleteRef(ref: string, oldSha?: string): Promise<void> {
    await this.git(['update-ref', '-d', ref, ...(oldSha ? [oldSha] : [])])
  }

  /** Deletes refs, each only if still at its sha: one transaction, else one by one (a ref that moved is kept). */
  async deleteRefs(refs: Array<{ ref: string; sha: string }>): Promise<void> {
    if (refs.length === 0) return
    const input = refs.map(r => `delete ${r.ref} ${r.sha}\n`).join('')
    const r = await this.git(['update-ref', '--stdin'], { input, ok: [1, 128] })
    if (r.code !== 0) for (const x of refs) await this.deleteRef(x.ref, x.sha).catch(() => undefined)
  }

  async isAncestor(a: string, b: string): Promise<boolean> {
    const r = await this.git(['merge-base', '--is-ancestor', a, b], { ok: [1] })
    return r.code === 0
  }

  /**
   * True if `b` is on the first-parent chain of `a` (a itself excluded): how an append-only log grows. One process,
   * for chains too long to walk object by object.
   */
  async onFirstParentChain(a: string, b: string): Promise<boolean> {
    const r = await this.git(['rev-list', '--first-parent', '--parents', a, `^${b}`, '--'], { ok: [128] })
    if (r.code !== 0) return false
    const lines = r.stdout.toString().trim().split('\n')
    const last = lines[lines.length - 1]
    return !!last && last.split(' ')[1] === b
  }

  // ---- trees ----
  async lsTree(treeish: string): Promise<TreeEntry[]> {
    const out = (await this.git(['ls-tree', '-r', '-z', '--full-tree', treeish])).stdout.toString('utf8')
    return out.split('\0').filter(Boolean).map(rec => {
      const tab = rec.indexOf('\t')
      const [mode, type, sha] = rec.slice(0, tab).split(' ')
      return { mode, type, sha, path: rec.slice(tab + 1) }
    })
  }

  /** One `git diff-tree --stdin` for many (new, old) commit pairs: what changed from old to new in each. */
  async diffCommits(pairs: Array<[string, string]>): Promise<Map<string, DiffEntry[]>> {
    const result = new Map<string, DiffEntry[]>()
    if (pairs.length === 0) return result
    const input = pairs.map(([n, o]) => `${n} ${o}\n`).join('')
    const out = (await this.git(['diff-tree', '--stdin', '-r', '-z', '--no-renames'], { input })).stdout.toString('utf8')
    const recs = out.split('\0')
    let current: DiffEntry[] | null = null
    for (let i = 0; i < recs.length; i++) {
      const rec = recs[i]
      if (!rec) continue
      if (rec.startsWith(':')) {
        const [oldMode, newMode, oldSha, newSha, status] = rec.slice(1).split(' ')
        void oldMode; void newMode
        current?.push({ status, oldSha, newSha, path: recs[++i] })
      } else {
        current = []
        result.set(rec.trim(), current)
      }
    }
    return result
  }

  /** The empty tree's id in this repository's object format (git knows it without the object being stored). */
  get emptyTree(): string { return EMPTY_TREES[this.objectFormat] }

  /** A `git diff-tree --stdin` to ask tree pairs of as they become known (end() it once all are asked). */
  diffStream(): DiffStream { return new DiffStream(this.cwd, this.env) }

  // ---- objects ----
  async writeCommits(specs: CommitSpec[]): Promise<string[]> { return (await fastImport(specs, this.cwd, this.env)).shas }

  /**
   * Writes commits and appends the last to a log: moves `ref` from `old` (null: absent) to the last commit, whose
   * first parent continues the log. One process where it can: fast-import moves the ref itself when the ref is at a
   * commit the new one contains (at `old`, the common case). Otherwise (the ref moved meanwhile, or the new commit
   * does not continue it) the compare-and-swap of updateRef decides. Returns the ids, and false for a lost race.
   */
  async appendCommits(specs: CommitSpec[], ref: string, old: string | null): Promise<{ shas: string[]; moved: boolean }> {
    const r = await fastImport(specs, this.cwd, this.env, ref)
    if (r.moved) return r
    return { shas: r.shas, moved: await this.updateRef(ref, r.shas[r.shas.length - 1], old) }
  }

  /**
   * Writes one blob as a loose object. For large blobs this is cheaper than fast-import, which compresses a small
   * pack at pack.compression and then explodes it into loose objects, compressing everything a second time.
   */
  async writeBlob(data: Buffer): Promise<string> {
    return (await this.text(['hash-object', '-w', '--stdin'], { input: data })).trim()
  }

  /** The id git gives a blob with this content, known before it is written. */
  blobSha(data: Buffer): string {
    return nodeCrypto().createHash(this.objectFormat).update(`blob ${data.length}\0`).update(data).digest('hex')
  }

  /** The sha a commit with a whole tree and sha parents will have, known before it is written. */
  commitSha(spec: CommitSpec & { tree: string }): string { return commitSha(spec, this.objectFormat) }

  /** The working tree as a tree object: tracked changes plus untracked files that are not ignored. */
  async worktreeTree(): Promise<string> { return (await this.snapshotTree()).tree }

  /**
   * The working tree as a tree object, leaving out untracked files that match `leaveOut` (git glob pathspecs)
   * unless `include` names them; the user's index, worktree, HEAD and stash untouched (src/git/snapshot.ts).
   */
  snapshotTree(o: SnapshotOptions = {}): Promise<Snapshot> { return snapshotTree(this, o) }

  /** True if the worktree and index have no changes against HEAD (untracked, non-ignored files count). */
  async isClean(): Promise<boolean> {
    const out = await this.text(['status', '--porcelain', '-z'])
    return out.length === 0
  }

  async treeOf(commit: string): Promise<string | null> {
    const head = await this.headCache?.catch(() => null)
    if (head?.tree && head.commit === commit) return head.tree
    const c = await this.catFile.read(commit, 1 << 20)
    if (!c || c.type !== 'commit' || !c.data) return null
    return /^tree ([0-9a-f]+)$/m.exec(c.data.toString('utf8'))?.[1] ?? null
  }

  /** `git diff` between two commits (base null: against the empty tree), as text. */
  async diff(base: string | null, commit: string, opts: { stat?: boolean; color?: boolean } = {}): Promise<string> {
    const args = ['diff', opts.color ? '--color=always' : '--no-color', ...(opts.stat ? ['--stat'] : []), base ?? EMPTY_TREES[this.objectFormat], commit, '--']
    return this.text(args)
  }

  /** `git diff --shortstat` between two commits (base null: against the empty tree). */
  async shortstat(base: string | null, commit: string): Promise<string> {
    return this.text(['diff', '--shortstat', base ?? EMPTY_TREES[this.objectFormat], commit, '--'])
  }

  /** Detaches the worktree at `commit`; `force` discards local changes to tracked files. */
  async checkoutDetached(commit: string, force: boolean): Promise<void> {
    // git lab's own hooks stay out of it (LAB_HOOKS=0): the summary line of post-checkout would land unseen in the
    // stderr this process captures, yet count as seen.
    await this.git(['checkout', '--quiet', ...(force ? ['--force'] : []), '--detach', commit], { env: { ...this.env, LAB_HOOKS: '0' } })
  }

  /**
   * A pack of `tip` and what it needs, less what `have` already holds (commits another repository has): what an SSH
   * host lacks of an experiment's code. `have` entries this repository does not know are skipped.
   */
  async packFor(tip: string, have: string[]): Promise<Buffer> {
    const known: string[] = []
    if (have.length) {
      const r = await this.git(['cat-file', '--batch-check=%(objectname) %(objecttype)'], { input: have.join('\n') + '\n' })
      for (const line of r.stdout.toString('utf8').split('\n')) if (/ commit$/.test(line)) known.push(line.split(' ')[0])
    }
    const r = await this.git(['pack-objects', '--revs', '--stdout', '--thin', '-q'], { input: [tip, ...known.map(k => `^${k}`)].join('\n') + '\n' })
    return r.stdout
  }

  /** A detached worktree of `commit` at `dir` (which must not exist yet or be empty). */
  worktreeAdd(dir: string, commit: string): Promise<void> { return worktreeAdd(this, dir, commit) }

  /** Removes a worktree made by worktreeAdd, with whatever the job left in it (src/git/worktrees.ts). */
  worktreeRemove(dir: string): Promise<void> { return worktreeRemove(this, dir) }

  hooksDir(): Promise<string> {
    return this.text(['rev-parse', '--git-path', 'hooks']).then(p => path.resolve(this.topLevel ?? this.cwd, p.trim()))
  }

  // ---- remotes ----
  async remotes(): Promise<string[]> {
    return (await this.text(['remote'])).split('\n').filter(Boolean)
  }

  async fetch(remote: string, refspecs: string[], o: { prune?: boolean } = {}): Promise<void> {
    await this.git(['fetch', '--quiet', '--no-write-fetch-head', ...(o.prune ? ['--prune'] : []), remote, ...refspecs])
  }

  /**
   * Compare-and-swap on a remote ref: pushes newSha to ref (null: deletes it) only if the remote has it at expectOld
   * (null: absent). The receiving git checks the old value under its ref lock, so of racing pushes exactly one lands.
   */
  async pushLease(remote: string, ref: string, newSha: string | null, expectOld: string | null): Promise<boolean> {
    const r = await this.git(['push', '--porcelain', '--no-verify', `--force-with-lease=${ref}:${expectOld ?? ''}`, remote, `${newSha ?? ''}:${ref}`], { ok: [1] })
    if (r.code === 0) return true
    const out = r.stdout.toString()
    if (/^!\t.*\[rejected\]/m.test(out) || /\[remote rejected\]/.test(out)) return false
    const why = summarize(r.stderr) ?? `exit code ${r.code}`
    throw new GitError(`git push to ${remote} failed: ${why}`, ['push', remote, ref], r.stderr, why)
  }

  /**
   * The variables git sets for a repository it works on (GIT_DIR, GIT_WORK_TREE, GIT_INDEX_FILE, ...), as this git
   * names them (`rev-parse --local-env-vars`): a process that works on another repository must not inherit them.
   */
  localEnvVars(): Promise<string[]> {
    this.localVars ??= this.text(['rev-parse', '--local-env-vars']).then(t => t.split('\n').filter(Boolean), () => [...LOCAL_ENV_VARS])
    return this.localVars
  }
  private localVars: Promise<string[]> | undefined

  /**
   * Starts git's own housekeeping in the background, as git does after a commit or a fetch (`git maintenance run
   * --auto`: packs loose objects and merges small packs only past gc.auto / gc.autoPackLimit, nothing with gc.auto=0),
   * never waited for. git lab writes through fast-import, hash-object and update-ref, after which git runs none.
   * Skipped where `maintenance.auto` is false, as git's own commands skip it.
   */
  startMaintenance(): void {
    startDetached('test "$(git config --type=bool maintenance.auto)" = false || exec git maintenance run --auto --quiet', this.opts())
  }

  /**
   * Deletes remote refs in one push, each only if the remote still has it at the given sha (a lease per ref; not
   * atomic: each ref stands alone). Returns the refs the remote deleted.
   */
  async pushDeletes(remote: string, refs: Array<{ ref: string; sha: string }>): Promise<Set<string>> {
    const done = new Set<string>()
    if (refs.length === 0) return done
    const args = ['push', '--porcelain', '--no-verify', ...refs.map(r => `--force-with-lease=${r.ref}:${r.sha}`), remote, ...refs.map(r => `:${r.ref}`)]
    const r = await this.git(args, { ok: [1] })
    for (const line of r.stdout.toString().split('\n')) {
      const m = /^-\t:(\S+)\t\[deleted\]/.exec(line)
      if (m) done.add(m[1])
    }
    return done
  }

  /** Pushes without running hooks (git lab's own pre-push hook calls this). */
  async push(remote: string, refspecs: string[]): Promise<void> {
    await this.git(['push', '--quiet', '--no-verify', remote, ...refspecs])
  }
}

/** The object type a tree entry's mode names. */

/** `git rev-parse --local-env-vars` of git 2.39, for a git that cannot answer. */
const LOCAL_ENV_VARS = ['GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_CONFIG', 'GIT_CONFIG_PARAMETERS', 'GIT_CONFIG_COUNT',
  'GIT_OBJECT_DIRECTORY', 'GIT_DIR', 'GIT_WORK_TREE', 'GIT_IMPLICIT_WORK_TREE', 'GIT_GRAFT_FILE', 'GIT_INDEX_FILE',
  'GIT_NO_REPLACE_OBJECTS', 'GIT_REPLACE_REF_BASE', 'GIT_PREFIX', 'GIT_INTERNAL_SUPER_PREFIX', 'GIT_SHALLOW_FILE', 'GIT_COMMON_DIR']

/** Config lookup that needs no Repo, so it can run alongside Repo.open at start-up. */
export async function configMatchingAt(cwd: string, env: NodeJS.ProcessEnv, regexp: string): Promise<Map<string, string[]>> {
  const r = await runGit(configArgs(regexp), { cwd, env, ok: [1] })
  const map = new Map<string, string[]>()
  for (const rec of r.stdout.toString('utf8').split('\0')) {
    if (!rec) continue
    const nl = rec.indexOf('\n')
    const key = nl < 0 ? rec : rec.slice(0, nl)
    map.set(key, [...(map.get(key) ?? []), nl < 0 ? '' : rec.slice(nl + 1)])
  }
  return map
}
