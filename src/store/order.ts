// The listing order file (e/order-*.jsonl): which experiments `log` lists first, read from its end.
import { open } from 'node:fs/promises'
import { writeFile } from './quick-fs.ts'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { indexFileGone, parseIndexFile, readIndexBytes } from './entities.ts'

const rand = () => randomBytes(6).toString('hex')

/** Newest first by creation time, then by id (as `log` lists), reversed: the order file's order. */
export const olderFirst = (a: [string, string], b: [string, string]) =>
  a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] > b[1] ? -1 : a[1] < b[1] ? 1 : 0

/** Past this many bytes of entries appended out of order, a save rewrites the order file sorted. */
export const ORDER_TAIL_MAX = 16 * 1024

type Entry = [string, string]
const parseLines = (dir: string, file: string, buf: Buffer): Entry[] => {
  const lines = buf.toString('utf8').split('\n').filter(Boolean)
  return parseIndexFile<Entry[]>(dir, file, `[${lines.join(',')}]`)
}

/**
 * The listing order: a sorted part (oldest first), then entries appended as experiments were made (a submit appends,
 * whatever its clock says; several at once do not keep order), rewritten sorted when that tail passes
 * ORDER_TAIL_MAX or an entry has to go. `newest()` merges the tail, sorted in memory, with the sorted part read
 * from its end: a listing of 30 rows parses the tail and 30 lines.
 */
export class Order {
  private entries: Entry[] | null = null
  private pending: Entry[] = []
  rewrite = false
  constructor(private readonly dir: string, public file: string | null, public bytes: number, public sorted: number,
    private readonly moved: () => { file: string | null; bytes: number; sorted: number } | null = () => null) {
    if (!file) this.entries = []
  }
  /** The file's bytes this index covers; if another process replaced the file since, the replacement's. */
  private text(): { buf: Buffer; sorted: number; file: string } {
    const t = readIndexBytes(path.join(this.dir, this.file!))
    if (t !== null) return { buf: t.subarray(0, this.bytes), sorted: this.sorted, file: this.file! }
    const now = this.moved()
    const t2 = now?.file ? readIndexBytes(path.join(this.dir, now.file)) : null
    if (t2 === null) indexFileGone(this.file!)
    return { buf: t2.subarray(0, now!.bytes), sorted: now!.sorted, file: now!.file! }
  }
  /** Every entry, oldest first. */
  all(): Entry[] {
    if (!this.entries) {
      const { buf, file } = this.text()
      this.entries = parseLines(this.dir, file, buf).sort(olderFirst)
    }
    return [...this.entries, ...this.pending].sort(olderFirst)
  }
  /** Ids newest first. */
  *newest(): Generator<string> {
    if (this.entries || !this.file) { const a = this.all(); for (let i = a.length - 1; i >= 0; i--) yield a[i][1]; return }
    const { buf, sorted, file } = this.text()
    const tail = [...parseLines(this.dir, file, buf.subarray(sorted)), ...this.pending].sort(olderFirst)
    let t = tail.length - 1
    let end = sorted
    let head: Entry | null = null
    const nextHead = (): Entry | null => {
      while (end > 0) {
        const start = buf.lastIndexOf(0x0a, end - 2) + 1
        const line = buf.subarray(start, end).toString('utf8').trim()
        end = start
        if (line) return parseIndexFile<Entry>(this.dir, file, line)
      }
      return null
    }
    head = nextHead()
    while (head || t >= 0) {
      if (t < 0 || (head && olderFirst(head, tail[t]) > 0)) { yield head![1]; head = nextHead() }
      else yield tail[t--][1]
    }
  }
  /** Takes entries out (the file is then rewritten) and puts new ones in (appended). */
  update(gone: Entry[], added: Entry[]): void {
    if (!gone.length) { this.pending.push(...added); return }
    const out = new Set(gone.map(e => JSON.stringify(e)))
    this.entries = [...this.all().filter(e => !out.has(JSON.stringify(e))), ...added].sort(olderFirst)
    this.pending = []
    this.rewrite = true
  }
  get changed(): boolean { return this.rewrite || this.pending.length > 0 }
  /** Writes what changed: appended to the file (as this index left it) while the tail stays short, else a new file. */
  async save(): Promise<void> {
    if (!this.changed) return
    const line = (e: Entry) => JSON.stringify(e) + '\n'
    const text = Buffer.from(this.pending.map(line).join(''))
    if (!this.rewrite && this.file && this.bytes - this.sorted + text.length <= ORDER_TAIL_MAX) {
      const fh = await open(path.join(this.dir, this.file), 'r+').catch(() => null)
      if (fh) {
        try {
          // (bytes past this index's end: a save that crashed, or a writer that could not get the lock; never read)
          if ((await fh.stat()).size === this.bytes) {
            await fh.write(text, 0, text.length, this.bytes)
            this.bytes += text.length
            this.entries = this.entries ? [...this.entries, ...this.pending] : null
            this.pending = []
            return
          }
        } finally { await fh.close() }
      }
    }
    const all = this.all()
    const body = Buffer.from(all.map(line).join(''))
    this.file = `order-${rand()}.jsonl`
    await writeFile(path.join(this.dir, this.file), body)
    this.bytes = this.sorted = body.length
    this.entries = all
    this.pending = []
    this.rewrite = false
  }
}

