// The lab store: reads every writer's log into the index (only what changed), and appends this writer's operations.
import path from 'node:path'
import type { Repo } from '../git/repo.ts'
import type { CommitSpec, Ident } from '../git/fast-import.ts'
import { ConflictError, FormatError } from '../errors.ts'
import { FORMAT, FORMAT_PATH, MAX_OP_BYTES, WRITER_REF_PATTERNS, commitMessage, companionPath, isCompanionPath, opPath, parseTrailers, seqOfPath, writerOfRef, writerRef } from './layout.ts'
import { applyOps, checkWriterOps, fold, type WriterCursor } from './fold.ts'
import { compareOps, opId, type Draft, type Op } from './op.ts'
import { IndexFiles, emptyIndex, type IndexData } from './index-file.ts'

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

export class Store {
  readonly files: IndexFiles
  private index: IndexData | null = null

  constructor(readonly repo: Repo) {
    this.files = new IndexFiles(path.join(repo.commonDir, 'lab'))
  }

  /** The index as this process last saw or wrote it (no ref listing). */
  get current(): IndexData | null { return this.index }

  /**
   * The saved index's text if it is up to date with the refs as they are now (the state is not read), else null.
   * Derived caches key themselves on this text: it changes whenever the folded state does.
   */
  async freshIndexText(): Promise<string | null> {
    if (this.index) return null
    const [refs, loaded] = await Promise.all([this.writerRefs(), this.files.loadMeta()])
    return loaded && sameRefs(loaded.meta.refs, refs) ? loaded.text : null
  }

  /** The saved index's text when it is the index this process holds (so a cache keyed on it describes this state). */
  async savedIndexText(): Promise<string | null> {
    const i = this.index
    const loaded = i ? await this.files.loadMeta() : null
    if (!i || !loaded) return null
    const m = loaded.meta
    const same = m.ops_file === i.ops_file && m.ops_bytes === i.ops_bytes && m.state_file === i.state_file &&
      JSON.stringify(m.max_key) === JSON.stringify(i.max_key) && sameRefs(m.refs, i.refs)
    return same ? loaded.text : null
  }

  async writerRefs(): Promise<Record<string, string>> {
    const refs: Record<string, string> = {}
    for (const { ref, sha } of await this.repo.forEachRef(WRITER_REF_PATTERNS)) if (writerOfRef(ref)) refs[ref] = sha
    return refs
  }

  /** The index, brought up to date with the refs as they are now. */
  async refresh(): Promise<IndexData> {
    const [refs, loaded] = await Promise.all([this.writerRefs(), this.index ? null : this.files.load()])
    this.index ??= loaded
    if (this.index && sameRefs(this.index.refs, refs)) return this.index
    this.index = await this.update(this.index ?? emptyIndex(), refs, this.index === null)
    return this.index
  }

  /** Builds the index from nothing but the refs. */
  async rebuild(save = true): Promise<IndexData> {
    const index = await this.update(emptyIndex(), await this.writerRefs(), true, save)
    if (save) this.index = index
    return index
  }

  private async update(prev: IndexData, refs: Record<string, string>, fresh: boolean, save = true): Promise<IndexData> {
    try {
      const next = await this.fold(prev, refs, fresh)
      if (save) await this.files.save(next)
      if (save && fresh) await this.files.prune(next)
      return next
    } catch (e) {
      if (!(e instanceof Rebuild) || fresh) throw e
      return this.update(emptyIndex(), refs, true, save)
    }
  }

  private async chooseTips(refs: Record<string, string>): Promise<Record<string, string>> {
    const tips = new Map<string, Set<string>>()
    for (const [ref, sha] of Object.entries(refs)) {
      const w = writerOfRef(ref)!.writer
      if (!tips.has(w)) tips.set(w, new Set())
      tips.get(w)!.add(sha)
    }
    const chosen: Record<string, string> = {}
    await Promise.all([...tips].map(async ([w, shas]) => {
      if (shas.size === 1) { chosen[w] = [...shas][0]; return }
      // A writer's refs are points on one chain: the furthest one holds every op. Ties break by sha, so every clone agrees.
      const ranked = await Promise.all([...shas].map(async sha => {
        const c = await this.repo.catFile.read(sha, 1 << 20)
        return { sha, seq: parseTrailers(c?.data?.toString('utf8') ?? '')?.seq ?? -1 }
      }))
      ranked.sort((a, b) => b.seq - a.seq || (a.sha < b.sha ? -1 : 1))
      chosen[w] = ranked[0].sha
    }))
    return chosen
  }

  private async fold(prev: IndexData, refs: Record<string, string>, fresh: boolean): Promise<IndexData> {
    const chosen = await this.chooseTips(refs)
    if (Object.keys(prev.chosen).some(w => !chosen[w])) throw new Rebuild()
    const changed = Object.keys(chosen).filter(w => chosen[w] !== prev.chosen[w])
    const known = changed.filter(w => prev.chosen[w])
    const diffs = await this.repo.diffCommits(known.map(w => [chosen[w], prev.chosen[w]]))
    const next: IndexData = { ...prev, refs, chosen: { ...prev.chosen }, cursors: { ...prev.cursors } }
    const blobs: Array<{ writer: string; seq: number; sha: string }> = []
    const ignored = new Set<string>()
    await Promise.all(changed.map(async w => {
      const isNew = !prev.chosen[w]
      const entries = isNew
        ? (await this.repo.lsTree(chosen[w])).map(e => ({ status: 'A', path: e.path, newSha: e.sha, type: e.type }))
        : (diffs.get(chosen[w]) ?? []).map(e => ({ ...e, type: 'blob' }))
      let format = false
      const mine: typeof blobs = []
      for (const e of entries) {
        if (e.status !== 'A') throw new Rebuild() // a writer's log only grows; anything else is re-read whole
        if (e.path === FORMAT_PATH) { format = true; await this.checkFormat(w, e.newSha); continue }
        if (isCompanionPath(e.path) && e.type === 'blob') continue // read on demand, by the blob id its operation names
        const seq = seqOfPath(e.path)
        if (seq === null || e.type !== 'blob') { next.warnings = [...next.warnings, `writer ${w}: unexpected path ${JSON.stringify(e.path).slice(0, 200)} ignored`]; continue }
        if (seq <= (prev.cursors[w]?.last_seq ?? 0)) throw new Rebuild()
        mine.push({ writer: w, seq, sha: e.newSha })
      }
      if (isNew && !format) {
        next.warnings = [...next.warnings, `writer ${w}: no format entry; its log is ignored`]
        ignored.add(w)
        return
      }
      blobs.push(...mine)
    }))
    const items = new Map<string, Array<{ seq: number; json: unknown }>>()
    const rejected = [...prev.rejected]
    await Promise.all(blobs.map(async b => {
      const obj = await this.repo.catFile.read(b.sha, MAX_OP_BYTES)
      let json: unknown
      if (!obj || obj.type !== 'blob') json = undefined
      else if (!obj.data) { rejected.push({ writer: b.writer, seq: b.seq, reason: `operation of ${obj.size} bytes is too large` }); return }
      else { try { json = JSON.parse(obj.data.toString('utf8')) } catch { json = 'invalid JSON' } }
      if (!items.has(b.writer)) items.set(b.writer, [])
      items.get(b.writer)!.push({ seq: b.seq, json })
    }))
    const newOps: Op[] = []
    for (const w of [...items.keys()].sort()) {
      const r = checkWriterOps(prev.cursors[w] ?? { last_seq: 0, last_lamport: 0 }, w, items.get(w)!)
      newOps.push(...r.valid)
      rejected.push(...r.rejected)
      next.cursors[w] = r.cursor
    }
    // A writer without a format entry is not recorded as read, so it is looked at whole again next time.
    for (const w of changed) if (!ignored.has(w)) next.chosen[w] = chosen[w]
    next.rejected = rejected.sort((a, b) => a.writer < b.writer ? -1 : a.writer > b.writer ? 1 : a.seq - b.seq)
    next.warnings = [...new Set(next.warnings)].sort()
    newOps.sort(compareOps)
    await this.applyNew(next, prev, newOps, fresh)
    return next
  }

  private async applyNew(next: IndexData, prev: IndexData, newOps: Op[], fresh: boolean): Promise<void> {
    if (newOps.length === 0) return
    const last = newOps[newOps.length - 1]
    const inOrder = !prev.max_key || compareOps(newOps[0], keyOp(prev.max_key)) > 0
    if (inOrder) {
      next.state = applyOps(next.state, newOps)
      await this.files.appendOps(next, newOps, fresh)
      next.max_key = [last.lamport, last.writer, last.seq]
      next.op_count = prev.op_count + newOps.length
      return
    }
    // Ops that sort before what is folded already (another clone worked offline): refold everything from the op log.
    const old = await this.files.loadOps(prev)
    if (!old) throw new Rebuild()
    const all = [...old, ...newOps].sort(compareOps)
    next.state = fold(all)
    const top = all[all.length - 1]
    next.max_key = [top.lamport, top.writer, top.seq]
    next.op_count = all.length
    next.state_file = null // the replayed tail would no longer reproduce this state: snapshot it
    await this.files.appendOps(next, newOps, false)
  }

  private async checkFormat(writer: string, sha: string): Promise<void> {
    const obj = await this.repo.catFile.read(sha, 64)
    const v = Number(obj?.data?.toString('utf8').trim())
    if (!Number.isInteger(v) || v < 1) throw new FormatError(`writer ${writer}: unreadable lab format entry`)
    if (v > FORMAT) throw new FormatError(`writer ${writer} uses lab format ${v}; this git-lab reads format ${FORMAT}: upgrade git-lab`)
  }

  /**
   * Appends operations to this writer's log with compare-and-swap; on a lost race (another local process wrote)
   * re-applies them on the new tip. Returns the written operations.
   */
  async append(drafts: Draft[], opts: AppendOptions): Promise<Op[]> {
    const ref = writerRef(opts.writer)
    // The index this command already refreshed is good enough to try: compare-and-swap catches a stale one.
    let index = this.index ?? await this.refresh()
    const bigBlobs = new Map<Buffer, { sha: string }>()
    await Promise.all(drafts.flatMap(d => d.attachments ?? []).filter(b => b.length >= BIG_BLOB).map(async b => {
      bigBlobs.set(b, { sha: await this.repo.writeBlob(b) })
    }))
    for (let attempt = 0; attempt < 100; attempt++) {
      const old = index.refs[ref] ?? null
      // No local ref but this writer's log exists on a remote (a re-clone keeping its writer id): continue it.
      const parent = old ?? index.chosen[opts.writer] ?? null
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
      const shas = await this.repo.writeCommits([
        ...snaps.map(s => s.spec),
        { from: parent, merges: snaps.map((_, i) => `:${i + 1}`), files, message: commitMessage(opts.summary, last.seq, last.lamport), author: opts.author },
      ])
      snaps.forEach((s, i) => { if (shas[i] !== s.sha) throw new Error(`snapshot commit ${shas[i]} differs from the expected ${s.sha}`) })
      const tip = shas[shas.length - 1]
      if (await this.repo.updateRef(ref, tip, old)) {
        await this.afterWrite(index, ref, parent, tip, ops)
        return ops
      }
      index = await this.refresh()
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
  private async afterWrite(index: IndexData, ref: string, parent: string | null, tip: string, ops: Op[]): Promise<void> {
    const w = ops[0].writer
    if ((index.chosen[w] ?? null) !== parent) { await this.refresh(); return }
    const next: IndexData = { ...index, refs: { ...index.refs, [ref]: tip }, chosen: { ...index.chosen, [w]: tip }, cursors: { ...index.cursors } }
    const r = checkWriterOps(index.cursors[w] ?? { last_seq: 0, last_lamport: 0 }, w, ops.map(op => ({ seq: op.seq, json: op })))
    next.cursors[w] = r.cursor
    next.rejected = [...index.rejected, ...r.rejected]
    await this.applyNew(next, index, r.valid, false)
    await this.files.save(next)
    this.index = next
  }
}

const keyOp = (k: [number, string, number]) => ({ lamport: k[0], writer: k[1], seq: k[2] }) as Op

function sameRefs(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a)
  if (ka.length !== Object.keys(b).length) return false
  return ka.every(k => a[k] === b[k])
}
