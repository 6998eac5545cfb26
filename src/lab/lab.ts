// The domain API's core: one open lab (a repo, its store, who is writing), shared by CLI, server, worker and MCP.
import { randomHex } from '../random.ts'
import { Repo, configMatchingAt } from '../git/repo.ts'
import type { CommitSpec, Ident } from '../git/fast-import.ts'
import { Store, checkDrafts } from '../store/store.ts'
import type { Draft } from '../store/op.ts'
import type { State } from '../store/state.ts'
import type { IndexData } from '../store/index-file.ts'
import { NotInitializedError } from '../errors.ts'
import { CONFIG_KEYS, labRemotesOf, migrateRemotes } from './remotes.ts'
import { lookStaysCurrent } from './hook-look.ts'
import { tidy } from './housekeeping.ts'

export interface LabOptions {
  cwd: string
  env?: NodeJS.ProcessEnv
  now?: () => Date
}

export interface Identity {
  writer: string | null
  /** the agent slot or person writing, as messages name them */
  name: string
  agent: string | null
  role: string | null
  author: { name: string; email: string }
}

export const newId = () => randomHex(6)

export class Lab {
  readonly store: Store
  private constructor(
    readonly repo: Repo,
    readonly config: Map<string, string[]>,
    readonly env: NodeJS.ProcessEnv,
    readonly now: () => Date,
  ) {
    // Only this clone's refs and the lab remotes' fetched refs are read (a remote that stops being one stops counting).
    this.store = new Store(repo, { remotes: () => this.labRemotes })
  }

  static async open(opts: LabOptions): Promise<Lab> {
    const env = opts.env ?? process.env
    // Both at once: start-up is a chain of short git processes, and this one does not depend on the other.
    const [repo, config] = await Promise.all([
      Repo.open(opts.cwd, env),
      configMatchingAt(opts.cwd, env, CONFIG_KEYS).catch(() => new Map<string, string[]>()),
    ])
    // A clone set up by an earlier version: its lab refspecs and fetched lab refs move to refs/lab/remotes/ once.
    await migrateRemotes(repo, config)
    return new Lab(repo, config, env, opts.now ?? (() => new Date()))
  }

  /** The remotes whose lab records this clone reads (their fetch refspecs bring refs/lab/w/*). */
  get labRemotes(): Set<string> { return labRemotesOf(this.config) }

  close(): void { this.repo.close() }

  get(key: string): string | null {
    const v = this.config.get(key)
    return v ? v[v.length - 1] : null
  }

  get identity(): Identity {
    const writer = this.get('lab.writer')
    const agent = this.env.LAB_AGENT || this.get('lab.agent')
    const role = this.env.LAB_ROLE || this.get('lab.role')
    const name = this.env.GIT_AUTHOR_NAME || this.get('user.name') || agent || writer || 'unknown'
    const email = this.env.GIT_AUTHOR_EMAIL || this.get('user.email') || `${writer ?? 'lab'}@git-lab`
    return { writer, name: agent || name, agent, role, author: { name, email } }
  }

  get remote(): string | null { return this.get('lab.remote') }

  requireWriter(): string {
    const w = this.identity.writer
    if (!w) throw new NotInitializedError("this repository has no lab yet: run 'git lab init'")
    return w
  }

  async state(): Promise<State> { return (await this.store.refresh()).state }
  async index(): Promise<IndexData> { return this.store.refresh() }

  /** Records operations as this writer (snapshots become extra parents of the record commit); returns the new state. */
  async write(drafts: Draft[], summary: string, snapshots: Array<{ sha: string; spec: CommitSpec }> = []): Promise<State> {
    const writer = this.requireWriter()
    const written = await this.store.append(drafts, { writer, author: this.ident(), snapshots, summary })
    // The hooks' last look stays current where this write changes nothing they report (hook-look.ts); each write leaves
    // a small pack: past TIDY_PACKS, git's housekeeping gathers them (started in the background). Side by side.
    await Promise.all([lookStaysCurrent(this.repo, written), tidy(this, Date.now(), { packsOnly: true }).catch(() => false)])
    return this.store.current!.state
  }

  ident(): Ident { return { ...this.identity.author, when: this.now() } }

  /** Refuses (InvalidError) what `write` would refuse, without writing anything: for a command about to make objects. */
  check(drafts: Draft[]): void {
    checkDrafts(drafts, { writer: this.requireWriter(), author: this.ident(), summary: '' })
  }
}
