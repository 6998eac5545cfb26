// The fold of the writers' logs into the index: what moved since the index was made (or, building from nothing,
// everything) is read from git and applied, each writer as soon as its own answers are in.
import type { Repo } from '../git/repo.ts'
import type { GitObject } from '../git/cat-file.ts'
import type { DiffEntry } from '../git/diff-stream.ts'
import { FORMAT, FORMAT_PATH, MAX_OP_BYTES, isCompanionPath, keptRef, opPath, seqOfPath, writerOfRef } from './layout.ts'
import { applyOps, checkWriterOps } from './fold.ts'
import { compareKeys, groupOf, keyOf, type OpKey } from './entities.ts'
import { emptyState, sortSkipped, type Experiment } from './state.ts'
import { compareOps, type Op } from './op.ts'
import type { IndexData } from './index-file.ts'
import { countChange, trackEnds } from './summaries.ts'
import { JsonLimitError, dict, parseBounded, toDict } from './safe-json.ts'
import { Tips, type Pick, type RefEntry } from './tips.ts'

/** What was read before is not there as it was (a tip gone, an operation changed): the caller reads everything. */
export class Rebuild extends Error {}

export class RefFold {
  private readonly tips: Tips

  constructor(private readonly repo: Repo) {
    this.tips = new Tips(repo)
  }

  /**
   * The index `prev` brought up to the writer refs `refs` (ref -> sha): the writers whose refs moved are read (every
   * writer when fresh), their new operations validated and applied. With save, each writer's read tip is kept
   * reachable (refs/lab/kept/W). Throws Rebuild when what `prev` read is gone.
   */
  async fold(prev: IndexData, refs: Record<string, string>, fresh: boolean, save: boolean): Promise<IndexData> {
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
  async applyNew(next: IndexData, newOps: Op[]): Promise<void> {
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
}

const keyOp = (k: [number, string, number]) => ({ lamport: k[0], writer: k[1], seq: k[2] }) as Op
const summary = (e: Experiment | undefined) => e ? { status: e.status, created_at: e.created_at, attempt: e.attempt } : null
