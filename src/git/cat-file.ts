// A long-lived `git cat-file --batch`: requests are pipelined, answers parsed in order from one stream.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { GitError } from '../errors.ts'
import { spawnError, summarize } from './run.ts'

export interface GitObject { sha: string; type: string; size: number; data: Buffer | null }

interface Pending { resolve: (o: GitObject | null) => void; reject: (e: Error) => void; maxSize: number }

/** One git process with its own queue and buffer, so a closed process never answers for a new one. */
class Batch {
  readonly child: ChildProcessWithoutNullStreams
  /** pending requests; queue[head] is the next answer (array shift() is O(n) per call) */
  private queue: Pending[] = []
  private head = 0
  private buf: Buffer = Buffer.alloc(0)
  /** the object being read: header parsed, body still arriving */
  private current: { head: GitObject; need: number; parts: Buffer[] | null } | null = null
  dead = false

  constructor(cwd: string, env: NodeJS.ProcessEnv) {
    const child = spawn('git', ['cat-file', '--batch'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString() })
    child.stdout.on('data', (b: Buffer) => this.onData(b))
    const fail = (why: string) => {
      this.dead = true
      const err = new GitError(`git cat-file: ${why}${stderr ? ': ' + (summarize(stderr) ?? '') : ''}`)
      for (const p of this.queue.splice(this.head)) p.reject(err)
      this.queue = []
      this.head = 0
    }
    child.on('error', e => fail(spawnError(e, ['cat-file']).message))
    child.on('close', () => fail('exited early'))
    child.stdin.on('error', () => { /* reported by close */ })
    this.child = child
  }

  read(spec: string, maxSize: number): Promise<GitObject | null> {
    return new Promise((resolve, reject) => {
      if (this.head === this.queue.length) this.setRef(true)
      this.queue.push({ resolve, reject, maxSize })
      // Requests made in one go (a fold asks for thousands at once) leave in one write: a write per request cost a
      // stream write and a syscall each.
      if (this.out === '') queueMicrotask(this.flush)
      this.out += spec + '\n'
    })
  }

  private out = ''
  private readonly flush = (): void => {
    const out = this.out
    this.out = ''
    if (!this.dead) this.child.stdin.write(out)
  }

  end(): void {
    if (this.out) this.flush()
    this.child.stdin.end()
  }

  /** An idle batch process must not keep node alive; a busy one must. */
  private setRef(on: boolean): void {
    const c = this.child
    for (const h of [c, c.stdout, c.stdin, c.stderr] as unknown as Array<{ ref?: () => void; unref?: () => void }>) {
      if (on) h.ref?.()
      else h.unref?.()
    }
  }

  private shift(): Pending {
    const p = this.queue[this.head++]
    if (this.head === this.queue.length) {
      this.queue = []
      this.head = 0
      this.setRef(false)
    }
    return p
  }

  private onData(chunk: Buffer): void {
    // (parsed by offset into the chunk: a Buffer view per header and body was most of the cost of many small objects)
    const buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk
    let at = 0
    for (;;) {
      if (!this.current) {
        const nl = buf.indexOf(10, at)
        if (nl < 0) break
        const line = buf.toString('latin1', at, nl)
        at = nl + 1
        if (line.endsWith(' missing') || line.endsWith(' ambiguous')) {
          this.shift().resolve(null)
          continue
        }
        const sp = line.indexOf(' ')
        const sp2 = line.indexOf(' ', sp + 1)
        const size = Number(line.slice(sp2 + 1))
        const head: GitObject = { sha: line.slice(0, sp), type: line.slice(sp + 1, sp2), size, data: null }
        this.current = { head, need: size + 1, parts: size <= this.queue[this.head].maxSize ? [] : null }
        // The whole body is in this chunk (the common case): one view of it, no copy.
        if (this.current.parts && buf.length - at >= size + 1) {
          head.data = buf.subarray(at, at + size)
          at += size + 1
          this.current = null
          this.shift().resolve(head)
          continue
        }
      }
      const cur = this.current
      const take = Math.min(cur.need, buf.length - at)
      if (take === 0) break
      if (cur.parts) cur.parts.push(buf.subarray(at, at + take))
      at += take
      cur.need -= take
      if (cur.need > 0) break
      if (cur.parts) cur.head.data = Buffer.concat(cur.parts).subarray(0, cur.head.size)
      this.current = null
      this.shift().resolve(cur.head)
    }
    this.buf = at < buf.length ? buf.subarray(at) : EMPTY
  }
}

const EMPTY = Buffer.alloc(0)

export class CatFile {
  private batch: Batch | null = null

  constructor(private cwd: string, private env: NodeJS.ProcessEnv) {}

  /** Reads an object by sha or `rev:path`; null if missing. Bodies over maxSize are skipped (data null). */
  read(spec: string, maxSize = Infinity): Promise<GitObject | null> {
    if (spec.includes('\n') || spec.includes('\r')) return Promise.reject(new GitError(`invalid object name: ${JSON.stringify(spec)}`))
    if (!this.batch || this.batch.dead) this.batch = new Batch(this.cwd, this.env)
    return this.batch.read(spec, maxSize)
  }

  /** Lets the process finish what it was asked and exit; a later read starts a new one. */
  close(): void {
    this.batch?.end()
    this.batch = null
  }
}
