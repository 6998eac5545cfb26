// The lab store: keeps the index up to date with the refs (the fold itself: ref-fold.ts), and appends this writer's operations.
import path from 'node:path'
import type { Repo } from '../git/repo.ts'
import type { CommitSpec, Ident } from '../git/fast-import.ts'
import { ConflictError, FormatError, InvalidError } from '../errors.ts'
import {
  FORMAT, FORMAT_PATH, MAX_COMPANION_BYTES, MAX_OP_BYTES, WRITER_REF_PATTERNS, commitMessage, companionPath, isWriterId, opPath,
  parseTrailers, writerOfRef, writerRef,
} from './layout.ts'
import { checkOp, checkWriterOps, type WriterCursor } from './fold.ts'
import { IndexMovedError } from './entities.ts'
import { opId, type Draft, type Op } from './op.ts'
import { IndexFiles, type IndexData } from './index-file.ts'
import { MAX_JSON_DEPTH, dict, jsonDepth, toDict } from './safe-json.ts'
import { RefFold, Rebuild } from './ref-fold.ts'
import { lockWrites, tryLockWrites } from './write-lock.ts'

/** Attachments this large are written as loose objects before the record (see Repo.writeBlob). */
const BIG_BLOB = 256 * 1024

export interface AppendOptions {
  writer: string
  author: Ident
  /** commits to write in the same batch and attach as extra parents (their shas are already known) */
  snapshots?: Array<{ sha: string; spec: CommitSpec }>
  summary: string
}

/** What an append wrote: its operations, in the commit `tip` of `ref`, whose log was at `parent` before. */
export interface Appended { ops: Op[]; ref: string; parent: string | null; tip: string }

export interface StoreOptions {
  /** the lab remotes: refs fetched from any other remote are not read (default: every remote's) */
  remotes?: () => ReadonlySet<string>
}

export class Store {
  readonly files: IndexFiles
  private index: IndexData | null = null
  /** indexes folded in memory and not saved (their kept refs not pinned): a write reads the disk's instead */
  private readonly unsaved = new WeakSet<IndexData>()
  private chain: Promise<void> = Promise.resolve()
  private readonly folder: RefFold

  constructor(readonly repo: Repo, private readonly opts: StoreOptions = {}) {
    this.files = new IndexFiles(path.join(repo.commonDir, 'lab'))
    this.folder = new RefFold(repo)
  }

  /** The index as this process last saw or wrote it (no ref listing). */
  get current(): IndexData | null { return this.index }

  async writerRefs(): Promise<Record<string, string>> {
    const remotes = this.opts.remotes?.()
    const refs = dict<string>()
    for (const { ref, sha } of await this.repo.forEachRef(WRITER_REF_PATTERNS)) {
      const w = writerOfRef(ref)
      // refs/lab/remotes/R/ of a remote that is no lab remote (any more) holds nothing this clone reads.
      if (w && !(w.kind === 'remote' && remotes && !remotes.has(w.remote!))) refs[ref] = sha
    }
    return refs
  }

  /** The index, brought up to date with the refs as they are now. */
  refresh(): Promise<IndexData> { return this.sync(false) }

  /**
   * Folds (which change the index this process holds in place) run one at a time in a process: a worker's background
   * look and its loop's look at once would both apply the same new operations to the same records. Lock order: the
   * write lock, then this; a fold never waits for the write lock (tryLockWrites).
   */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn)
    this.chain = run.then(() => undefined, () => undefined)
    return run
  }

  private sync(locked: boolean): Promise<IndexData> { return this.exclusive(() => this.syncNow(locked)) }

  /**
   * Reading needs no lock: the saved index is read if this process holds none, and kept while the refs are where it
   * says. Folding what moved is done under the write lock, over the index on disk (another process may have folded
   * the same refs already), so two processes never save over each other's work.
   */
  private async syncNow(locked: boolean): Promise<IndexData> {
    let [refs, loaded] = await Promise.all([this.writerRefs(), this.index ? null : this.files.load()])
    this.index ??= loaded
    if (this.index && sameRefs(this.index.refs, refs)) return this.index
    // While another writer holds the lock, a reader folds in memory and saves nothing (that writer saves what it
    // folds): queueing behind writers only to save the same fold made N writers at once slower than one by one.
    const lock = locked ? null : await tryLockWrites(this.files.dir)
    if (!locked && !lock) {
      for (let again = 0; ; again++) {
        // An index that read a replaced file from a later index already holds some of what moved: folding it again
        // would apply it twice. Such a fold starts over from the index on disk.
        if (this.index?.live.mixed.yes) {
          ;[refs, this.index] = await Promise.all([this.writerRefs(), this.files.load()])
          if (this.index && sameRefs(this.index.refs, refs)) return this.index
        }
        const prev = this.index
        this.index = null
        try {
          const next = await this.update(prev, refs, false)
          if (next.live.mixed.yes && again < 3) { this.index = next; continue }
          this.unsaved.add(this.index = next)
          return this.index
        } catch (e) {
          // (a file of the index it held was replaced twice meanwhile: once more from the index on disk)
          if (!(e instanceof IndexMovedError) || again > 2) throw e
          ;[refs, this.index] = await Promise.all([this.writerRefs(), this.files.load()])
          if (this.index && sameRefs(this.index.refs, refs)) return this.index
        }
      }
    }
    try {
      // (no index on disk, as just read, and still none under the lock: the refs just listed are the ones to build from)
      const stale = this.index ? this.unsaved.has(this.index) || this.index.live.mixed.yes || (await this.files.diskGen()) !== this.index.gen
        : (await this.files.diskGen()) !== null
      if (stale) {
        // Another process saved meanwhile: its index, and the refs as they are now, are what to fold from.
        ;[refs, this.index] = await Promise.all([this.writerRefs(), this.files.load()])
        if (this.index && sameRefs(this.index.refs, refs)) return this.index
      }
      const prev = this.index
      this.index = null // (a fold that fails leaves nothing half-changed in memory: the next look reads the disk)
      this.index = await this.update(prev, refs)
      return this.index
    } finally { await lock?.release() }
  }

  /** Builds the index from nothing but the refs (and, with save, replaces the saved one with it). */
  async rebuild(save = true): Promise<IndexData> {
    if (!save) return this.update(null, await this.writerRefs(), false)
    const lock = await lockWrites(this.files.dir)
    try {
      return await this.exclusive(async () => {
        this.index = null
        this.index = await this.update(null, await this.writerRefs())
        return this.index
      })
    } finally { await lock.release() }
  }

  private async update(prev: IndexData | null, refs: Record<string, string>, save = true): Promise<IndexData> {
    const fresh = prev === null
    try {
      const next = await this.folder.fold(prev ?? this.files.empty(), refs, fresh, save)
      if (save && !(await this.files.save(next))) this.unsaved.add(next)
      return next
    } catch (e) {
      if (!(e instanceof Rebuild) || fresh) throw e
      return this.update(null, refs, save)
    }
  }

  /**
   * Appends operations to this writer's log with compare-and-swap; on a lost race (another local process wrote)
   * re-applies them on the new tip. Returns the written operations and the commit that holds them.
   */
  async append(drafts: Draft[], opts: AppendOptions): Promise<Appended> {
    const ref = writerRef(opts.writer)
    checkDrafts(drafts, opts)
    // The index this command already refreshed is good enough to try: compare-and-swap catches a stale one.
    let index = this.index ?? await this.refresh()
    const bigBlobs = new Map<Buffer, { sha: string }>()
    await Promise.all(drafts.flatMap(d => d.attachments ?? []).filter(b => b.length >= BIG_BLOB).map(async b => {
      bigBlobs.set(b, { sha: await this.repo.writeBlob(b) })
    }))
    // Local writers take turns (src/store/write-lock.ts); one that waited, or whose index another process replaced
    // meanwhile, reads the tips and the index its predecessor left first.
    const lock = await lockWrites(this.files.dir)
    try {
      if (lock.waited || this.unsaved.has(index) || index.live.mixed.yes || (await this.files.diskGen()) !== index.gen) { this.index = null; index = await this.sync(true) }
      return await this.attempts(drafts, opts, ref, index, bigBlobs)
    } finally { await lock.release() }
  }

  private async attempts(drafts: Draft[], opts: AppendOptions, ref: string, index: IndexData, bigBlobs: Map<Buffer, { sha: string }>): Promise<Appended> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const old = index.refs[ref] ?? null
      // The log as read: the local ref, or further on where a remote holds more of it (a re-clone keeping its writer id).
      const parent = index.chosen[opts.writer] ?? old
      const cursor = await this.cursorOf(index, opts.writer, parent)
      const base = Math.max(index.state.max_lamport, cursor.last_lamport)
      const time = opts.author.when.toISOString()
      const author = `${opts.author.name} <${opts.author.email}>`
      const ops: Op[] = drafts.map(({ type, entity, payload }, i) => ({
        v: 1, id: opId(opts.writer, cursor.last_seq + 1 + i), type, entity,
        lamport: base + 1 + i, writer: opts.writer, seq: cursor.last_seq + 1 + i, time, author, payload,
      }))
      const last = ops[ops.length - 1]
      const files: NonNullable<CommitSpec['files']> = ops.flatMap((op, i) => [
        { path: opPath(op.seq), data: JSON.stringify(op) + '\n' },
        ...(drafts[i].attachments ?? []).map((data, n) => ({ path: companionPath(op.seq, n), ...(bigBlobs.get(data) ?? { data }) })),
      ])
      if (!parent) files.unshift({ path: FORMAT_PATH, data: `${FORMAT}\n` })
      const snaps = opts.snapshots ?? []
      // (the record commit and the ref's move in one fast-import: a compare-and-swap all the same, see appendCommits)
      const { shas, moved } = await this.repo.appendCommits([
        ...snaps.map(s => s.spec),
        { from: parent, merges: snaps.map((_, i) => `:${i + 1}`), files, message: commitMessage(opts.summary, last.seq, last.lamport), author: opts.author },
      ], ref, old)
      snaps.forEach((s, i) => { if (shas[i] !== s.sha) throw new Error(`snapshot commit ${shas[i]} differs from the expected ${s.sha}`) })
      const tip = shas[shas.length - 1]
      if (moved) {
        await this.afterWrite(index, ref, parent, tip, ops)
        return { ops, ref, parent, tip }
      }
      this.index = null
      index = await this.sync(true)
    }
    throw new ConflictError(`could not update ${ref}: too many concurrent writers`)
  }

  private async cursorOf(index: IndexData, writer: string, tip: string | null): Promise<WriterCursor> {
    if (!tip) return { last_seq: 0, last_lamport: 0 }
    if (index.chosen[writer] === tip && index.cursors[writer]) return index.cursors[writer]
    const c = await this.repo.catFile.read(tip, 1 << 20)
    const t = parseTrailers(c?.data?.toString('utf8') ?? '')
    if (!t) throw new FormatError(`${writerRef(writer)} points to a commit that is not a lab record`)
    return { last_seq: t.seq, last_lamport: t.lamport }
  }

  /** Folds our own just-written ops without re-reading them from git, when nothing else moved. */
  private afterWrite(index: IndexData, ref: string, parent: string | null, tip: string, ops: Op[]): Promise<void> {
    return this.exclusive(() => this.foldOwn(index, ref, parent, tip, ops))
  }

  private async foldOwn(index: IndexData, ref: string, parent: string | null, tip: string, ops: Op[]): Promise<void> {
    const w = ops[0].writer
    // (another fold of this process may have moved on from `index` since, in place: then the refs are read again too)
    if ((index.chosen[w] ?? null) !== parent || (this.index !== null && this.index !== index) || index.live.mixed.yes) {
      this.index = null
      await this.syncNow(true)
      return
    }
    this.index = null // (until saved: a failure below leaves nothing half-applied in memory)
    const next: IndexData = { ...index, refs: toDict(index.refs), chosen: toDict(index.chosen), cursors: toDict(index.cursors) }
    next.refs[ref] = tip
    next.chosen[w] = tip
    const r = checkWriterOps(index.cursors[w] ?? { last_seq: 0, last_lamport: 0 }, w, ops.map(op => ({ seq: op.seq, json: op })))
    next.cursors[w] = r.cursor
    next.rejected = [...index.rejected, ...r.rejected]
    await this.folder.applyNew(next, r.valid)
    if (!(await this.files.save(next))) this.unsaved.add(next)
    this.index = next
  }
}

/**
 * What a command is about to write passes the validation every reader applies, before any object is written: an
 * invalid value is refused with its reason and nothing lands in the log that every clone would reject.
 */
export function checkDrafts(drafts: Draft[], opts: AppendOptions): void {
  if (drafts.length === 0) throw new Error('nothing to write')
  if (!isWriterId(opts.writer)) throw new InvalidError(`invalid writer id ${JSON.stringify(opts.writer)} (lab.writer)`)
  drafts.forEach((d, i) => {
    const op = {
      v: 1, id: opId(opts.writer, i + 1), type: d.type, entity: d.entity, lamport: i + 1, writer: opts.writer, seq: i + 1,
      time: opts.author.when.toISOString(), author: `${opts.author.name} <${opts.author.email}>`, payload: d.payload,
    }
    const text = JSON.stringify(op)
    const why = checkOp(JSON.parse(text), opts.writer, i + 1) ??
      (Buffer.byteLength(text) + 32 > MAX_OP_BYTES ? `larger than ${MAX_OP_BYTES / 1024} KiB` : null) ??
      (jsonDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH ? `nested deeper than ${MAX_JSON_DEPTH} levels` : null) ??
      ((d.attachments ?? []).some(a => a.length > MAX_COMPANION_BYTES) ? `an attachment is larger than ${MAX_COMPANION_BYTES >> 20} MiB` : null)
    if (why) throw new InvalidError(`cannot record ${d.type} ${d.entity}: ${why.replace(/^invalid [a-z.]+: /, '')}`)
  })
}

function sameRefs(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a)
  if (ka.length !== Object.keys(b).length) return false
  return ka.every(k => a[k] === b[k])
}
