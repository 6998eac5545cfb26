// The lab store: reads every writer's log into the index (only what changed), and appends this writer's operations.
import path from 'node:path'
import type { Repo } from '../git/repo.ts'
import type { GitObject } from '../git/cat-file.ts'
import type { DiffEntry } from '../git/diff-stream.ts'
import type { CommitSpec, Ident } from '../git/fast-import.ts'
import { ConflictError, FormatError, InvalidError } from '../errors.ts'
import {
  FORMAT, FORMAT_PATH, MAX_COMPANION_BYTES, MAX_OP_BYTES, WRITER_REF_PATTERNS, commitMessage, companionPath, isCompanionPath,
  isWriterId, keptRef, opPath, parseTrailers, seqOfPath, writerOfRef, writerRef,
} from './layout.ts'
import { applyOps, checkOp, checkWriterOps, type WriterCursor } from './fold.ts'
import { IndexMovedError, compareKeys, groupOf, keyOf, type OpKey } from './entities.ts'
import { emptyState, sortSkipped, type Experiment } from './state.ts'
import { compareOps, opId, type Draft, type Op } from './op.ts'
import { IndexFiles, type IndexData } from './index-file.ts'
import { countChange, trackEnds } from './summaries.ts'
import { JsonLimitError, MAX_JSON_DEPTH, dict, jsonDepth, parseBounded, toDict } from './safe-json.ts'
import { Tips, type Pick, type RefEntry } from './tips.ts'
import { lockWrites, tryLockWrites } from './write-lock.ts'

class Rebuild extends Error {}

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
  private readonly tips: Tips

  constructor(readonly repo: Repo, private readonly opts: StoreOptions = {}) {
    this.files = new IndexFiles(path.join(repo.commonDir, 'lab'))
    this.tips = new Tips(repo)
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
      const next = await this.fold(prev ?? this.files.empty(), refs, fresh, save)
      if (save && !(await this.files.save(next))) this.unsaved.add(next)
      return next
    } catch (e) {
      if (!(e instanceof Rebuild) || fresh) throw e
      return this.update(null, refs, save)
    }
  }

  private async fold(prev: IndexData, refs: Record<string, string>, fresh: boolean, save: boolean): Promise<IndexData> {
    const byWriter = new Map<string, RefEntry[]>()
    for (const [ref, sha] of Object.entries(refs)) {
      const { writer, kind } = writerOfRef(ref)!
      if (!byWriter.has(writer)) byWriter.set(writer, [])
      byWriter.get(writer)!.push({ ref, sha, kind })
    }
    if (Object.keys(prev.chosen).some(w => !byWriter.has(w))) throw new Rebuild() // a writer's refs vanished
    const before = new Map<string, number>()
    for (const ref of Object.keys(prev.refs)) { const w = writerOfRef(ref)!.writer; before.set(w, (before.get(w) ?? 0) + 1) }
    const writers = [...byWriter].filter(([w, es]) => fresh || es.length !== before.get(w) || es.some(e => prev.refs[e.ref] !== e.sha)).map(([w]) => w)
    const moving = new Set(writers)
    const next: IndexData = {
      ...prev, refs: toDict(refs), chosen: toDict(prev.chosen), cursors: toDict(prev.cursors), refused: dict(), ignored: dict(),
    }
    for (const [w, v] of Object.entries(prev.ignored)) if (byWriter.has(w) && !moving.has(w)) next.ignored[w] = v
    for (const [ref, r] of Object.entries(prev.refused)) if (!moving.has(r.writer) && ref in next.refs) next.refused[ref] = r

    const picks = new Map<string, Pick>()
    const known = (w: string) => !fresh && !!prev.chosen[w]
    const empty = this.repo.emptyTree
    const treeOf = async (c: string) => (await this.tips.treeOf(c)) ?? empty
    // What each writer added: a diff from the tip read before (building from nothing: its floor's whole tree, then a
    // diff from the floor). Anything but added files means the log was rewritten: that tip is refused. All of it
    // through one `git diff-tree --stdin` of tree pairs (a whole tree: against the empty tree), whatever the number of
    // writers: a process per writer would be 1,000 processes at once in a lab of 1,000 agent slots. Each writer's
    // pairs are asked as soon as its tips are read, and its records read as soon as git has listed them: git reads
    // commits, lists trees and reads records at once, as raw git would in a pipeline.
    const diff = this.repo.diffStream()
    let asking = writers.length
    const asked = () => { if (--asking === 0) diff.end() }
    // (each format entry by its blob id, read once: every writer of a version writes the same one)
    const formatChecks = new Map<string, Promise<string | null>>()
    const formatCheck = (sha: string) => {
      let c = formatChecks.get(sha)
      if (!c) formatChecks.set(sha, c = this.repo.catFile.read(sha, 64).then(o => this.checkFormat(o)))
      return c
    }
    const read = new Set<string>()
    const warnings = [...next.warnings]
    const rejected = [...prev.rejected]
    const checked = new Map<string, ReturnType<typeof checkWriterOps>>()
    const one = async (w: string): Promise<void> => {
      let pick: Pick
      let from: string | null = null
      let whole: Promise<DiffEntry[]> | null = null
      let added: Promise<DiffEntry[]> | null = null
      try {
        const p = await this.tips.pick(w, byWriter.get(w)!, prev, fresh)
        if (!p) throw new Rebuild() // the tip read before is gone: read what there is
        for (const [ref, r] of p.refused) next.refused[ref] = r
        picks.set(w, pick = p)
        if (!p.tip) { next.ignored[w] = { tip: '', reason: 'none of its refs points to a commit' }; return }
        from = known(w) ? prev.chosen[w] : p.floor
        if (!known(w)) whole = diff.pair(empty, await treeOf(from ?? p.tip))
        if (from && from !== p.tip) {
          const [a, b] = await Promise.all([treeOf(from), treeOf(p.tip)])
          added = diff.pair(a, b)
        }
      } finally { asked() }
      let entries: Array<{ status: string; path: string; newSha: string; type: string }> = whole
        ? (await whole).map(e => ({ ...e, type: e.type ?? 'blob' }))
        : []
      if (added && from) {
        const more = await added
        // A log grows at its end: a record added under a seq it had passed already is out of order, like an edit.
        // (building from nothing, the floor's tree gives what its cursor would be: its highest seq)
        const last = whole ? entries.reduce((m, e) => Math.max(m, seqOfPath(e.path) ?? 0), 0) : prev.cursors[w]?.last_seq ?? 0
        const why = more.some(e => e.status !== 'A' || e.path === FORMAT_PATH) ? 'changes or deletes records it wrote before'
          : more.some(e => (seqOfPath(e.path) ?? Infinity) <= last) ? 'adds records before its last one' : null
        if (why) {
          for (const e of byWriter.get(w)!.filter(e => e.sha === pick.tip)) {
            next.refused[e.ref] = { writer: w, sha: pick.tip!, reason: `${why} (${from.slice(0, 12)}): rewritten` }
          }
          pick.tip = from
        } else entries = [...entries, ...more.map(e => ({ ...e, type: e.type ?? 'blob' }))]
      }
      if (!whole && pick.tip === prev.chosen[w]) return // only where its refs point changed
      if (whole) {
        const format = entries.find(e => e.path === FORMAT_PATH)
        const why = format ? await formatCheck(format.newSha) : 'it has no format entry'
        if (why) { next.ignored[w] = { tip: pick.tip!, reason: why }; return }
      }
      const items: Array<{ seq: number; json: unknown; error?: string }> = []
      const reads: Array<Promise<void>> = []
      for (const e of entries) {
        if (e.path === FORMAT_PATH) continue
        if (isCompanionPath(e.path) && e.type === 'blob') continue // read on demand, by the blob id its operation names
        const seq = seqOfPath(e.path)
        if (seq === null || e.type !== 'blob') { warnings.push(`writer ${w}: unexpected path ${JSON.stringify(e.path).slice(0, 200)} ignored`); continue }
        reads.push(this.repo.catFile.read(e.newSha, MAX_OP_BYTES).then(obj => {
          let json: unknown
          let error: string | undefined
          if (!obj || obj.type !== 'blob') error = 'not a blob'
          else if (!obj.data) { rejected.push({ writer: w, seq, reason: `operation of ${obj.size} bytes is too large` }); return }
          else {
            try { json = parseBounded(obj.data.toString('utf8'), MAX_OP_BYTES) } catch (e) {
              error = e instanceof JsonLimitError ? `JSON ${e.message}` : 'invalid JSON'
            }
          }
          items.push({ seq, json, error })
        }))
      }
      read.add(w)
      await Promise.all(reads)
      if (items.length) checked.set(w, checkWriterOps(prev.cursors[w] ?? { last_seq: 0, last_lamport: 0 }, w, items))
    }
    try {
      await Promise.all(writers.map(one))
    } finally { diff.end() }
    const newOps: Op[] = []
    for (const w of [...checked.keys()].sort()) {
      const r = checked.get(w)!
      newOps.push(...r.valid)
      rejected.push(...r.rejected)
      next.cursors[w] = r.cursor
    }
    // A writer whose log is not read is not recorded as read, so it is looked at whole again when its refs move.
    for (const w of writers) if (read.has(w)) next.chosen[w] = picks.get(w)!.tip!
    if (save) await this.pinTips(next, byWriter, writers)
    next.rejected = rejected.sort((a, b) => a.writer < b.writer ? -1 : a.writer > b.writer ? 1 : a.seq - b.seq)
    next.warnings = [...new Set(warnings)].sort()
    newOps.sort(compareOps)
    await this.applyNew(next, newOps)
    return next
  }

  /**
   * Keeps each writer's read tip reachable and in force: refs/lab/kept/W holds it while no other ref does, or while
   * another ref of W is refused (so a rebuild starts from it too and reads what the incremental index read).
   */
  private async pinTips(next: IndexData, byWriter: Map<string, RefEntry[]>, writers: string[]): Promise<void> {
    await Promise.all(writers.map(async w => {
      const tip = next.chosen[w]
      const es = byWriter.get(w)!
      const kept = es.find(e => e.kind === 'kept')?.sha ?? null
      const need = !!tip && (!es.some(e => e.kind !== 'kept' && e.sha === tip) || es.some(e => next.refused[e.ref]))
      const ref = keptRef(w)
      if (need && kept !== tip) {
        if (await this.repo.updateRef(ref, tip, kept)) next.refs[ref] = tip
      } else if (!need && kept) {
        await this.repo.deleteRef(ref, kept).then(() => { delete next.refs[ref] }, () => undefined)
      }
    }))
  }

  /**
   * Folds new operations in. The state is made of fold groups that never look at each other (each experiment, each
   * message, the ideas, the config): an operation that sorts after everything its group holds is applied at once;
   * one that sorts before (another clone worked offline) refolds its group alone, from the group's operations read
   * back from the writers' logs. Either way the result is what folding every operation in order gives.
   */
  private async applyNew(next: IndexData, newOps: Op[]): Promise<void> {
    if (newOps.length === 0) return
    const st = next.state
    const groups = new Map<string, Op[]>()
    for (const op of newOps) {
      const g = groupOf(op)
      const list = groups.get(g)
      if (list) list.push(op)
      else groups.set(g, [op])
    }
    // The experiments' status and place in the listing before, to keep the counts and the order file in step.
    const ids = [...groups.keys()].filter(g => g.startsWith('x:')).map(g => g.slice(2))
    const before = new Map(ids.map(id => [id, summary(st.experiments[id])]))
    const refold: string[] = []
    for (const [g, ops] of groups) {
      const keys = this.groupKeys(next, g)
      if (keys.length && compareKeys(keyOf(ops[0]), keys[keys.length - 1]) <= 0) { refold.push(g); continue }
      applyOps(st, ops)
      for (const op of ops) this.record(next, g, keyOf(op))
    }
    if (refold.length) await this.refold(next, refold, groups)
    countChange(next, ids.map(id => ({ id, before: before.get(id)?.status ?? null, after: summary(st.experiments[id])?.status ?? null })))
    trackEnds(next, ids, before, groups.has('c'))
    const gone: Array<[string, string]> = []
    const added: Array<[string, string]> = []
    for (const id of ids) {
      const [b, a] = [before.get(id), summary(st.experiments[id])]
      if (b?.created_at === a?.created_at) continue
      if (b) gone.push([b.created_at, id])
      if (a) added.push([a.created_at, id])
    }
    next.live.order.update(gone, added)
    sortSkipped(st.skipped)
    const last = newOps[newOps.length - 1]
    if (!next.max_key || compareOps(last, keyOp(next.max_key)) > 0) next.max_key = [last.lamport, last.writer, last.seq]
    next.op_count += newOps.length
  }

  /** The operations folded into a group so far, in fold order. */
  private groupKeys(index: IndexData, g: string): OpKey[] {
    if (g === 'i') return index.live.ideas.get().ops
    if (g === 'c') return index.core.config_ops
    if (g === 'h') return index.core.host_ops
    return (g[0] === 'x' ? index.live.x : index.live.m).ops(g.slice(2))
  }

  private record(index: IndexData, g: string, key: OpKey): void {
    if (g === 'i') { index.live.ideas.get().ops.push(key); index.live.ideas.dirty = true }
    else if (g === 'c') index.core.config_ops.push(key)
    else if (g === 'h') index.core.host_ops.push(key)
    else (g[0] === 'x' ? index.live.x : index.live.m).touch(g.slice(2), key)
  }

  private async refold(next: IndexData, refold: string[], groups: Map<string, Op[]>): Promise<void> {
    const st = next.state
    const olds = refold.map(g => [...this.groupKeys(next, g)])
    // Each operation as its writer's log holds it (logs only grow, and the tip read holds all it had).
    const read = new Map<string, Op>()
    await Promise.all(olds.flat().map(async ([, w, seq]) => {
      const tip = next.chosen[w]
      const obj = tip ? await this.repo.catFile.read(`${tip}:${opPath(seq)}`, MAX_OP_BYTES) : null
      let op: Op | null = null
      try { op = obj?.data ? JSON.parse(obj.data.toString('utf8')) as Op : null } catch { /* below */ }
      if (!op || op.writer !== w || op.seq !== seq) throw new Rebuild() // not as it was read: read everything again
      read.set(`${w}/${seq}`, op)
    }))
    refold.forEach((g, i) => {
      const all = [...olds[i].map(([, w, seq]) => read.get(`${w}/${seq}`)!), ...groups.get(g)!].sort(compareOps)
      const keys = all.map(keyOf)
      const scratch = emptyState()
      applyOps(scratch, all)
      const mine = new Set(all.map(op => op.id))
      st.skipped = [...st.skipped.filter(x => !mine.has(x.op)), ...scratch.skipped]
      st.max_lamport = Math.max(st.max_lamport, scratch.max_lamport)
      if (g === 'i') next.live.ideas.set(scratch.ideas, keys)
      else if (g === 'c') { st.config = scratch.config; next.core.config_ops = keys }
      else if (g === 'h') { st.hosts = scratch.hosts; next.core.host_ops = keys }
      else if (g[0] === 'x') next.live.x.reset(g.slice(2), scratch.experiments[g.slice(2)] ?? null, keys)
      else next.live.m.reset(g.slice(2), scratch.messages[g.slice(2)] ?? null, keys)
    })
  }

  /** Why a writer's format entry keeps its log from being read (null: this version reads it). */
  private checkFormat(obj: GitObject | null): string | null {
    const text = obj?.type === 'blob' ? obj.data?.toString('utf8').trim() ?? '' : ''
    if (!/^\d{1,9}$/.test(text) || Number(text) < 1) return `its lab format entry is unreadable (${JSON.stringify(text.slice(0, 20))})`
    if (Number(text) > FORMAT) return `it uses lab format ${Number(text)}; this git-lab reads format ${FORMAT}: upgrade git-lab to read it`
    return null
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
    await this.applyNew(next, r.valid)
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

const keyOp = (k: [number, string, number]) => ({ lamport: k[0], writer: k[1], seq: k[2] }) as Op
const summary = (e: Experiment | undefined) => e ? { status: e.status, created_at: e.created_at, attempt: e.attempt } : null

function sameRefs(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a)
  if (ka.length !== Object.keys(b).length) return false
  return ka.every(k => a[k] === b[k])
}
