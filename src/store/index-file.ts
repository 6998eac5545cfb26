// The local index under .git/lab/: index.json (the ref states it was built from, the small part of the state, and the
// names of the files holding the rest), experiment and message shards (e/x-PP-*.json, e/m-PP-*.json: one per id
// prefix), the ideas (e/ideas-*.json) and the listing order (e/order-*.jsonl). A command reads index.json and then only
// the shards it looks at; a write rewrites the shards it changed under new names and index.json last, so a reader
// always sees one consistent index. Files no index names any more go a minute later.
import { closeSync, mkdirSync, openSync, readSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { readFile, readdir } from 'node:fs/promises'
import path from 'node:path'
import { randomHex } from '../random.ts'
import type { Experiment, Host, Idea, LabConfig, Message, SkippedOp, State } from './state.ts'
import { STATUSES, reviveExperiment, reviveIdeas } from './state.ts'
import { dict, unproto } from './safe-json.ts'
import type { Rejected, WriterCursor } from './fold.ts'
import { EntityMap, parseIndexFile, readIndexBytes, readIndexFile, type OpKey } from './entities.ts'
import { Order } from './order.ts'
import type { Best, Ended } from './summaries.ts'
import { KINDS } from './ops/index.ts'

// 10: the unfinished ids in a file of their own; 9: SSH hosts in the core; 8: per-entity shards instead of one state
// snapshot and an op log, the ended attempts' feed
export const INDEX_VERSION = 10
/** An index made by a version that knew other operation kinds may have skipped ops this one can read. */
export const KINDS_KEY = [...KINDS.keys()].sort().join(',')
/** How long a file no index.json names stays: a save writes its files before index.json. */
export const KEEP_REPLACED_MS = 60_000

/** The small part of the state, saved in index.json: the config, the SSH hosts (and each group's ops), skipped ops. */
export interface Core { config: LabConfig; hosts: Record<string, Host>; skipped: SkippedOp[]; max_lamport: number; config_ops: OpKey[]; host_ops: OpKey[] }

export interface IndexData {
  version: number
  kinds: string
  /** every writer ref (local and remote-tracking) -> sha, as read when this index was made */
  refs: Record<string, string>
  /** writer -> the tip whose tree was folded */
  chosen: Record<string, string>
  cursors: Record<string, WriterCursor>
  /** refs whose tip is not read: a rewritten or diverged log (ref -> its writer, its sha, why) */
  refused: Record<string, Refusal>
  /** writers whose log is not read at all (a format this version cannot read, or none): writer -> tip seen, why */
  ignored: Record<string, { tip: string; reason: string }>
  /** fold position of the last applied operation */
  max_key: [number, string, number] | null
  /** valid operations folded */
  op_count: number
  rejected: Rejected[]
  warnings: string[]
  /** new at every save: a process saves only over the index it holds */
  gen: string
  /** 'x:PP' / 'm:PP' (experiment / message shards), 'ideas' -> file name in e/ */
  files: Record<string, string>
  /** the listing order: JSON lines [created_at, id], oldest first; the index covers the first order_bytes bytes */
  order_file: string | null
  order_bytes: number
  /** how many of those bytes are sorted (the rest: entries appended since, in any order) */
  order_sorted: number
  core: Core
  /** experiments by status (the ids of those that have not ended: live.open) */
  counts: Record<string, number>
  /** attempts that ended, as folded here (a change feed for the hooks' summary, not part of the state): how many
   *  ever, and the last RECENT_ENDS of them */
  ended: number
  recent: Ended[]
  /** the best experiment by the lab's objective (null: none), or unknown (a rescan is due) */
  best: Best | null
  best_known: boolean
  /** (not saved) the state, read lazily from the files above */
  state: State
  /** (not saved) what the state is read from and what a save writes */
  live: Live
}

export interface Refusal { writer: string; sha: string; reason: string }
const rand = () => randomHex(6)
const NAME_RE = /^(x-[a-z0-9][a-z0-9_-]|m-[a-z0-9][a-z0-9_-]|ideas|open|order)-[0-9a-f]{12}\.jsonl?$/

/** The ideas (one fold group: a link looks at ancestors) and their operations, read on first use. */
class Ideas {
  private value: { ideas: Record<string, Idea>; ops: OpKey[] } | null = null
  dirty = false
  constructor(private readonly dir: string, private readonly file: string | null, private readonly read: (key: string, f: string) => Buffer | null) {
    if (file === null) this.value = { ideas: dict(), ops: [] }
  }
  get(): { ideas: Record<string, Idea>; ops: OpKey[] } {
    if (!this.value) {
      const v = parseIndexFile<{ ideas: Record<string, Idea>; ops: OpKey[] }>(this.dir, this.file!, this.read('ideas', this.file!)?.toString('utf8') ?? null)
      this.value = { ideas: reviveIdeas(v.ideas), ops: v.ops }
    }
    return this.value
  }
  set(ideas: Record<string, Idea>, ops?: OpKey[]): void { this.value = { ideas, ops: ops ?? this.get().ops }; this.dirty = true }
}

/**
 * The ids of the experiments that have not ended, sorted, read on first use (e/open-*.json): the worker's queue, a
 * status, `log --status queued` read it; a write that changes no experiment's status neither reads nor writes it. In
 * index.json, 10,000 queued experiments made every command parse, and every write rewrite, 160 kB more.
 */
export class OpenIds {
  private value: string[] | null
  dirty = false
  constructor(private readonly dir: string, private readonly file: string | null, private readonly read: (key: string, f: string) => Buffer | null) {
    this.value = file === null ? [] : null
  }
  get(): string[] {
    this.value ??= parseIndexFile<string[]>(this.dir, this.file!, this.read('open', this.file!)?.toString('utf8') ?? null)
    return this.value
  }
  set(ids: string[]): void { this.value = ids; this.dirty = true }
}

/** What a loaded (or freshly folded) index reads its state from, and what a save writes back. */
export interface Live {
  x: EntityMap<Experiment>
  m: EntityMap<Message>
  ideas: Ideas
  open: OpenIds
  order: Order
  /** some file was read from a later index than this one (its own was replaced): fine to show, not to fold onto */
  mixed: { yes: boolean }
}

function liveState(live: Live, core: Core): State {
  const s = {
    experiments: live.x.proxy, messages: live.m.proxy, hosts: core.hosts, config: core.config, skipped: core.skipped, max_lamport: core.max_lamport,
  } as State
  Object.defineProperty(s, 'ideas', {
    enumerable: true, configurable: true,
    get: () => live.ideas.get().ideas,
    set: (v: Record<string, Idea>) => live.ideas.set(v),
  })
  return s
}

const shardFiles = (files: Record<string, string>, kind: 'x' | 'm') => {
  const out = dict<string>()
  for (const k of Object.keys(files)) if (k.startsWith(`${kind}:`)) out[k.slice(2)] = files[k]
  return out
}

const emptyCore = (): Core => ({ config: { objective: null }, hosts: dict(), skipped: [], max_lamport: 0, config_ops: [], host_ops: [] })

/** Maps keyed by writer ids or ref names get no prototype back after parsing (a writer may be named `constructor`). */
function reviveMeta(m: IndexData): IndexData {
  return {
    ...m, refs: unproto(m.refs), chosen: unproto(m.chosen), cursors: unproto(m.cursors), refused: unproto(m.refused),
    ignored: unproto(m.ignored), files: unproto(m.files),
  }
}

export class IndexFiles {
  /** the index.json last read or written by this process */
  last: IndexData | null = null

  constructor(readonly dir: string) {}

  get shardDir(): string { return path.join(this.dir, 'e') }

  /**
   * Reads a file the index names; if a save replaced (and removed) it since this index was read, the file the index
   * on disk now names for the same thing: newer, and whole (a reader sees some shards as of a later save: each is
   * consistent, and a process never saves over an index other than the one on disk).
   */
  private reader(mixed: { yes: boolean } = { yes: false }): (key: string, f: string) => Buffer | null {
    const dir = this.shardDir
    return (key, f) => {
      const t = readIndexBytes(path.join(dir, f))
      if (t !== null) return t
      const now = this.diskMetaSync()?.files[key]
      mixed.yes = true
      return now ? readIndexBytes(path.join(dir, now)) : null
    }
  }

  private diskMetaSync(): IndexData | null {
    try {
      const raw = JSON.parse(readIndexFile(path.join(this.dir, 'index.json')) ?? 'null') as IndexData | null
      return raw && raw.version === INDEX_VERSION ? raw : null
    } catch {
      return null
    }
  }

  /** An index with nothing in it, whose state lives in memory until saved. */
  empty(): IndexData {
    const mixed = { yes: false }
    const read = this.reader(mixed)
    const live: Live = {
      mixed,
      x: new EntityMap<Experiment>('x', null, this.shardDir, read, reviveExperiment),
      m: new EntityMap<Message>('m', null, this.shardDir, read, () => undefined),
      ideas: new Ideas(this.shardDir, null, read),
      open: new OpenIds(this.shardDir, null, read),
      order: new Order(this.shardDir, null, 0, 0),
    }
    const core = emptyCore()
    return {
      version: INDEX_VERSION, kinds: KINDS_KEY, refs: dict(), chosen: dict(), cursors: dict(), refused: dict(), ignored: dict(),
      max_key: null, op_count: 0, rejected: [], warnings: [], gen: '', files: dict(), order_file: null, order_bytes: 0, order_sorted: 0,
      core, counts: Object.fromEntries(STATUSES.map(s => [s, 0])), ended: 0, recent: [], best: null, best_known: true,
      live, state: liveState(live, core),
    }
  }

  /** index.json as saved (its state read lazily from the files it names), or null when there is none of this version. */
  async load(): Promise<IndexData | null> {
    let raw: IndexData
    try {
      raw = JSON.parse(await readFile(path.join(this.dir, 'index.json'), 'utf8')) as IndexData
    } catch {
      return null
    }
    if (raw.version !== INDEX_VERSION || raw.kinds !== KINDS_KEY || typeof raw.gen !== 'string') return null
    // Every file it names is there (one that went, by hand or by a full disk, makes the caller rebuild the index).
    const there = new Set(await readdir(this.shardDir).catch(() => [] as string[]))
    if (![...Object.values(raw.files), ...(raw.order_file ? [raw.order_file] : [])].every(f => there.has(f))) return null
    return this.last = this.open(reviveMeta(raw))
  }

  /** Only index.json's generation (its first bytes): whether the index on disk is still the one a process holds. */
  async diskGen(): Promise<string | null> {
    // (64 bytes: read at once rather than through the thread pool and back, three times)
    let fd: number
    try { fd = openSync(path.join(this.dir, 'index.json'), 'r') } catch { return null }
    try {
      const buffer = Buffer.alloc(64)
      const bytesRead = readSync(fd, buffer, 0, 64, 0)
      const m = /^\{"gen":"([0-9a-f]{12})","version":(\d+)[,}]/.exec(buffer.subarray(0, bytesRead).toString('latin1'))
      return m && Number(m[2]) === INDEX_VERSION ? m[1] : null
    } finally { closeSync(fd) }
  }

  private open(meta: IndexData): IndexData {
    const mixed = { yes: false }
    const read = this.reader(mixed)
    const live: Live = {
      mixed,
      x: new EntityMap<Experiment>('x', shardFiles(meta.files, 'x'), this.shardDir, read, reviveExperiment),
      m: new EntityMap<Message>('m', shardFiles(meta.files, 'm'), this.shardDir, read, () => undefined),
      ideas: new Ideas(this.shardDir, meta.files.ideas ?? null, read),
      open: new OpenIds(this.shardDir, meta.files.open ?? null, read),
      order: new Order(this.shardDir, meta.order_file, meta.order_bytes, meta.order_sorted, () => {
        const now = this.diskMetaSync()
        mixed.yes = true
        return now && { file: now.order_file, bytes: now.order_bytes, sorted: now.order_sorted }
      }),
    }
    const core: Core = { ...meta.core, config: meta.core.config ?? { objective: null }, hosts: unproto(meta.core.hosts ?? {}), host_ops: meta.core.host_ops ?? [] }
    return { ...meta, core, live, state: liveState(live, core) }
  }

  /**
   * Writes the shards, ideas and order the index changed (under new names), then index.json (atomically: rename).
   * The caller holds the write lock and has checked that the index on disk is the one `index` was made from; if
   * that no longer holds when index.json is about to be replaced (a writer that could not get the lock), nothing is
   * saved and false returned: the caller's index stays in memory, and the next look reads the disk's.
   */
  async save(index: IndexData): Promise<boolean> {
    const from = index.gen
    // Written one after another, synchronously: through the thread pool, side by side, 260 files of a first build
    // took 2-6x longer here (a FileHandle or a callback and a round trip per file; the disk's work is the same).
    mkdirSync(this.shardDir, { recursive: true })
    const { live, state } = index
    const files = { ...index.files }
    const replaced: string[] = []
    const texts: Array<[string, string]> = []
    const put = (key: string, prefix: string, text: string) => {
      const name = `${prefix}-${rand()}.json`
      if (files[key]) replaced.push(files[key])
      files[key] = name
      texts.push([path.join(this.shardDir, name), text])
    }
    for (const [kind, map] of [['x', live.x], ['m', live.m]] as const) {
      for (const s of map.dirty) put(`${kind}:${s}`, `${kind}-${s}`, map.shardText(s))
      map.dirty.clear()
    }
    if (live.ideas.dirty || !files.ideas) {
      put('ideas', 'ideas', JSON.stringify(live.ideas.get()))
      live.ideas.dirty = false
    }
    if (live.open.dirty || !files.open) {
      put('open', 'open', JSON.stringify(live.open.get()))
      live.open.dirty = false
    }
    const order = live.order.file
    live.order.save()
    for (const [f, text] of texts) writeFileSync(f, text)
    if (order && live.order.file !== order) replaced.push(order)
    if (from && (await this.diskGen()) !== from) {
      const mine = [...Object.keys(files).filter(k => files[k] !== index.files[k]).map(k => files[k]), ...(live.order.file !== order ? [live.order.file!] : [])]
      for (const f of mine) rmSync(path.join(this.shardDir, f), { force: true })
      return false
    }
    index.files = unproto(files)
    index.order_file = live.order.file
    index.order_bytes = live.order.bytes
    index.order_sorted = live.order.sorted
    index.core = {
      config: state.config, hosts: state.hosts, skipped: state.skipped, max_lamport: state.max_lamport,
      config_ops: index.core.config_ops, host_ops: index.core.host_ops,
    }
    index.gen = rand()
    const { state: _s, live: _l, gen, version, ...meta } = index
    void _s, void _l
    // (the generation first: diskGen reads only the first bytes; written aside and renamed: readers see all or none)
    const tmp = path.join(this.dir, `index.json.${process.pid}.${rand()}`)
    writeFileSync(tmp, JSON.stringify({ gen, version, ...meta }))
    renameSync(tmp, path.join(this.dir, 'index.json'))
    this.last = index
    // What this save replaced goes at once: a reader of the index before finds the file that replaced it (reader()).
    for (const f of replaced) rmSync(path.join(this.shardDir, f), { force: true })
    this.prune(index)
    return true
  }

  /**
   * Files no index names (left by a save that crashed before writing index.json) go once no save can still be about
   * to name them, a minute after they were written; files of older index layouts go at once.
   */
  prune(index: IndexData): void {
    const named = new Set([...Object.values(index.files), index.order_file])
    const now = Date.now()
    const list = (d: string) => { try { return readdirSync(d) } catch { return [] as string[] } }
    for (const n of list(this.dir)) {
      if (/^(ops-[0-9a-f]+\.jsonl|state-[0-9a-f]+\.json|log-cache\.(jsonl|v2))$/.test(n)) rmSync(path.join(this.dir, n), { force: true })
    }
    for (const n of list(this.shardDir)) {
      if (named.has(n) || !NAME_RE.test(n)) continue
      const s = statSync(path.join(this.shardDir, n), { throwIfNoEntry: false })
      if (s && now - s.mtimeMs > KEEP_REPLACED_MS) rmSync(path.join(this.shardDir, n), { force: true })
    }
  }
}

/**
 * Everything an index holds beyond its ref bookkeeping, as plain JSON (every shard read): two indexes of the same
 * operations give the same view however they were built (fsck compares an incremental one with a rebuild).
 */
export function indexView(index: IndexData): unknown {
  const { live } = index
  const records = (text: string) => text.split('\n').filter(Boolean).map(l => [l.slice(0, l.indexOf(' ')), JSON.parse(l.slice(l.indexOf(' ') + 1)) as unknown])
  const shards = (m: EntityMap<unknown>) => Object.fromEntries(m.shardKeys().sort().map(s => [s, records(m.shardText(s))]))
  return JSON.parse(JSON.stringify({
    state: index.state, counts: Object.fromEntries(Object.entries(index.counts).filter(([, n]) => n !== 0)), open: live.open.get(), best: index.best,
    order: live.order.all(), experiments: shards(live.x as EntityMap<unknown>), messages: shards(live.m as EntityMap<unknown>),
    idea_ops: live.ideas.get().ops, config_ops: index.core.config_ops, host_ops: index.core.host_ops,
  }))
}
