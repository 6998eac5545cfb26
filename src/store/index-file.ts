// The local index under .git/lab/: the folded state, the ref states it was built from, and an op log for refolds.
import { readFile, writeFile, rename, mkdir, readdir, rm, open } from 'node:fs/promises'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import type { Op } from './op.ts'
import type { State } from './state.ts'
import { emptyState } from './state.ts'
import type { Rejected, WriterCursor } from './fold.ts'

import { KINDS } from './ops/index.ts'

export const INDEX_VERSION = 1
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
  /** fold position of the last applied operation */
  max_key: [number, string, number] | null
  /** valid operations folded */
  op_count: number
  rejected: Rejected[]
  warnings: string[]
  /** append-only file of every valid op, and how many of its bytes this index covers */
  ops_file: string | null
  ops_bytes: number
  state: State
}

export const emptyIndex = (): IndexData => ({
  version: INDEX_VERSION, kinds: KINDS_KEY, refs: {}, chosen: {}, cursors: {}, max_key: null, op_count: 0, rejected: [], warnings: [],
  ops_file: null, ops_bytes: 0, state: emptyState(),
})

const rand = () => randomBytes(6).toString('hex')

export class IndexFiles {
  constructor(readonly dir: string) {}

  async load(): Promise<IndexData | null> {
    try {
      const data = JSON.parse(await readFile(path.join(this.dir, 'index.json'), 'utf8')) as IndexData
      return data.version === INDEX_VERSION && data.kinds === KINDS_KEY && data.state ? data : null
    } catch {
      return null
    }
  }

  /** Writes atomically (rename), so concurrent readers see an old or a new index, never half of one. */
  async save(index: IndexData): Promise<void> {
    await mkdir(this.dir, { recursive: true })
    const tmp = path.join(this.dir, `index.json.${process.pid}.${rand()}`)
    await writeFile(tmp, JSON.stringify(index))
    await rename(tmp, path.join(this.dir, 'index.json'))
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
  async loadOps(index: IndexData): Promise<Op[] | null> {
    if (!index.ops_file) return []
    let buf: Buffer
    try { buf = await readFile(path.join(this.dir, index.ops_file)) } catch { return null }
    if (buf.length < index.ops_bytes) return null
    const seen = new Set<string>()
    const ops: Op[] = []
    for (const line of buf.subarray(0, index.ops_bytes).toString('utf8').split('\n')) {
      if (!line) continue
      let op: Op
      try { op = JSON.parse(line) as Op } catch { return null }
      if (seen.has(op.id) || op.seq > (index.cursors[op.writer]?.last_seq ?? 0)) continue
      seen.add(op.id)
      ops.push(op)
    }
    return ops
  }

  /** Removes op logs no index refers to any more. */
  async prune(keep: string | null): Promise<void> {
    const names = await readdir(this.dir).catch(() => [] as string[])
    await Promise.all(names.filter(n => /^ops-[0-9a-f]+\.jsonl$/.test(n) && n !== keep).map(n => rm(path.join(this.dir, n), { force: true })))
  }
}

