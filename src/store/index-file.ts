// The local index under .git/lab/: the ref states it was built from (index.json, small), a snapshot of the folded
// state (state-*.json, rewritten now and then), and an append-only op log. A load replays the log past the snapshot,
// so a write costs the size of its ops, not the size of the lab.
import { readFile, writeFile, rename, mkdir, readdir, rm, open, stat } from 'node:fs/promises'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { compareOps, type Op } from './op.ts'
import { applyOps } from './fold.ts'
import type { State } from './state.ts'
import { emptyState, reviveState } from './state.ts'
import { dict, unproto } from './safe-json.ts'
import type { Rejected, WriterCursor } from './fold.ts'

import { KINDS } from './ops/index.ts'

// 6: experiments hold `params` and `sweep`; an older index folded experiment.queue ops without them
export const INDEX_VERSION = 6
/** Op-log bytes past the snapshot after which the next save writes a new snapshot. */
export const SNAPSHOT_EVERY = 256 * 1024
/** An index made by a version that knew other operation kinds may have skipped ops this one can read. */
export const KINDS_KEY = [...KINDS.keys()].sort().join(',')

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
  /** append-only file of every valid op, and how many of its bytes this index covers */
  ops_file: string | null
  ops_bytes: number
  /** the state snapshot, how many op-log bytes it includes, and its fold position (null: write one at the next save) */
  state_file: string | null
  state_at: number
  state_key: [number, string, number] | null
  state: State
}

export interface Refusal { writer: string; sha: string; reason: string }

export const emptyIndex = (): IndexData => ({
  version: INDEX_VERSION, kinds: KINDS_KEY, refs: dict(), chosen: dict(), cursors: dict(), refused: dict(), ignored: dict(),
  max_key: null, op_count: 0, rejected: [], warnings: [],
  ops_file: null, ops_bytes: 0, state_file: null, state_at: 0, state_key: null, state: emptyState(),
})

/** Maps keyed by writer ids or ref names get no prototype back after parsing (a writer may be named `constructor`). */
function reviveMeta(m: IndexData): IndexData {
  return { ...m, refs: unproto(m.refs), chosen: unproto(m.chosen), cursors: unproto(m.cursors), refused: unproto(m.refused), ignored: unproto(m.ignored) }
}

const after = (op: Op, key: [number, string, number] | null) =>
  !key || compareOps(op, { lamport: key[0], writer: key[1], seq: key[2] } as Op) > 0

const rand = () => randomBytes(6).toString('hex')

export class IndexFiles {
  /** the index.json last read or written by this process (without the state) */
  last: IndexData | null = null

  constructor(readonly dir: string) {}

  /** The raw text of index.json and its parse, without the state: enough to tell whether anything changed. */
  async loadMeta(): Promise<{ text: string; meta: IndexData } | null> {
    try {
      const text = await readFile(path.join(this.dir, 'index.json'), 'utf8')
      const meta = JSON.parse(text) as IndexData
      if (meta.version !== INDEX_VERSION || meta.kinds !== KINDS_KEY || !meta.state_file) return null
      this.last = reviveMeta(meta)
      return { text, meta: this.last }
    } catch {
      return null
    }
  }

  async load(): Promise<IndexData | null> {
    // A snapshot goes as soon as an index naming a newer one is saved: one that vanished between reading
    // index.json and opening it means index.json has moved on, so it is read again.
    for (let i = 0; i < 5; i++) {
      const r = await this.loadOnce()
      if (r !== 'moved') return r
    }
    return null
  }

  private async loadOnce(): Promise<IndexData | null | 'moved'> {
    try {
      const raw = JSON.parse(await readFile(path.join(this.dir, 'index.json'), 'utf8')) as IndexData
      if (raw.version !== INDEX_VERSION || raw.kinds !== KINDS_KEY || !raw.state_file) return null
      const meta = this.last = reviveMeta(raw)
      const text = await readFile(path.join(this.dir, meta.state_file!), 'utf8').catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return null
        throw e
      })
      if (text === null) return 'moved'
      const state = reviveState(JSON.parse(text) as State)
      if (meta.ops_bytes > meta.state_at) {
        // The tail: ops applied in order since the snapshot. Lines this index does not cover (another process's
        // appends, duplicates) are filtered exactly as a refold filters them.
        const tail = await this.readOps(meta, meta.state_at)
        if (!tail) return null
        applyOps(state, tail.filter(op => after(op, meta.state_key)).sort(compareOps))
      }
      return { ...meta, state }
    } catch {
      return null
    }
  }

  /** Writes the small index.json atomically (rename); the state snapshot only when asked or when the tail grew. */
  async save(index: IndexData): Promise<void> {
    await mkdir(this.dir, { recursive: true })
    let replaced: string | null | undefined
    // (a process that loaded its snapshot long ago, e.g. a worker, may find that another process has replaced it)
    const gone = !!index.state_file && !(await stat(path.join(this.dir, index.state_file)).catch(() => null))
    if (!index.state_file || gone || index.ops_bytes - index.state_at > SNAPSHOT_EVERY) {
      const name = `state-${rand()}.json`
      await this.writeAtomic(name, JSON.stringify(index.state))
      const old = index.state_file
      index.state_file = name
      index.state_at = index.ops_bytes
      index.state_key = index.max_key
      replaced = old
    }
    const { state, ...meta } = index
    void state
    await this.writeAtomic('index.json', JSON.stringify(meta))
    this.last = index
    // (every save looks: snapshots left by an older git-lab, which kept them 60 s, would otherwise wait for the next one)
    await this.pruneStates(index.state_file!, replaced ?? null)
  }

  private async writeAtomic(name: string, text: string): Promise<void> {
    const tmp = path.join(this.dir, `${name}.${process.pid}.${rand()}`)
    await writeFile(tmp, text)
    await rename(tmp, path.join(this.dir, name))
  }

  /**
   * The snapshot this save replaced goes at once (a reader that still meant to open it reads index.json again; one
   * that has it open keeps reading it). Others, left by concurrent savers or a crash, go once no concurrent save can
   * still be about to name them in index.json.
   */
  private async pruneStates(keep: string, replaced: string | null): Promise<void> {
    if (replaced && replaced !== keep) await rm(path.join(this.dir, replaced), { force: true })
    const names = await readdir(this.dir).catch(() => [] as string[])
    const now = Date.now()
    await Promise.all(names.filter(n => /^state-[0-9a-f]+\.json$/.test(n) && n !== keep && n !== replaced).map(async n => {
      const s = await stat(path.join(this.dir, n)).catch(() => null)
      if (s && now - s.mtimeMs > 60_000) await rm(path.join(this.dir, n), { force: true })
    }))
  }

  /** Appends ops to the index's op log (a new log when `fresh`); updates ops_file/ops_bytes. */
  async appendOps(index: IndexData, ops: Op[], fresh: boolean): Promise<void> {
    await mkdir(this.dir, { recursive: true })
    if (fresh || !index.ops_file) {
      index.ops_file = `ops-${rand()}.jsonl`
      index.ops_bytes = 0
    }
    if (ops.length === 0) return
    const text = ops.map(o => JSON.stringify(o)).join('\n') + '\n'
    // O_APPEND: concurrent processes' lines never overlap. Every line is a real op from real refs; those past this
    // index's cursors are filtered out on load, duplicates dropped.
    const fh = await open(path.join(this.dir, index.ops_file), 'a')
    try {
      await fh.write(text)
      index.ops_bytes = (await fh.stat()).size
    } finally { await fh.close() }
  }

  /** The ops an index covers, or null if its log is gone (then the caller rebuilds). */
  loadOps(index: IndexData): Promise<Op[] | null> { return this.readOps(index, 0) }

  private async readOps(index: IndexData, from: number): Promise<Op[] | null> {
    if (!index.ops_file) return []
    let buf: Buffer
    try { buf = await readFile(path.join(this.dir, index.ops_file)) } catch { return null }
    if (buf.length < index.ops_bytes) return null
    const seen = new Set<string>()
    const ops: Op[] = []
    for (const line of buf.subarray(from, index.ops_bytes).toString('utf8').split('\n')) {
      if (!line) continue
      let op: Op
      try { op = JSON.parse(line) as Op } catch { return null }
      if (seen.has(op.id) || op.seq > (index.cursors[op.writer]?.last_seq ?? 0)) continue
      seen.add(op.id)
      ops.push(op)
    }
    return ops
  }

  /** After a rebuild: removes op logs and snapshots the new index does not refer to. */
  async prune(index: IndexData): Promise<void> {
    const names = await readdir(this.dir).catch(() => [] as string[])
    const keep = new Set([index.ops_file, index.state_file])
    await Promise.all(names.filter(n => /^(ops-[0-9a-f]+\.jsonl|state-[0-9a-f]+\.json)$/.test(n) && !keep.has(n)).map(n => rm(path.join(this.dir, n), { force: true })))
  }
}

