// A long-lived `git cat-file --batch`: requests are pipelined, answers parsed in order from one stream.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { GitError } from '../errors.ts'

export interface GitObject { sha: string; type: string; size: number; data: Buffer | null }

interface Pending { resolve: (o: GitObject | null) => void; reject: (e: Error) => void; maxSize: number }

export class CatFile {
  private child: ChildProcessWithoutNullStreams | null = null
  private queue: Pending[] = []
  private buf: Buffer = Buffer.alloc(0)
  /** the object being read: header parsed, body still arriving */
  private current: { head: GitObject; need: number; parts: Buffer[] | null } | null = null

  constructor(private cwd: string, private env: NodeJS.ProcessEnv) {}

  /** Reads an object by sha or `rev:path`; null if missing. Bodies over maxSize are skipped (data null). */
  read(spec: string, maxSize = Infinity): Promise<GitObject | null> {
    if (/[\n\r]/.test(spec)) return Promise.reject(new GitError(`invalid object name: ${JSON.stringify(spec)}`))
    const child = this.start()
    return new Promise((resolve, reject) => {
      if (this.queue.length === 0) this.setRef(child, true)
      this.queue.push({ resolve, reject, maxSize })
      child.stdin.write(spec + '\n')
    })
  }

  close(): void {
    if (this.child) { this.child.stdin.end(); this.child = null }
  }

  private start(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child
    const child = spawn('git', ['cat-file', '--batch'], { cwd: this.cwd, env: this.env, stdio: ['pipe', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString() })
    child.stdout.on('data', (b: Buffer) => this.onData(b))
    const fail = (why: string) => {
      const err = new GitError(`git cat-file: ${why}${stderr ? ': ' + stderr.trim() : ''}`)
      for (const p of this.queue.splice(0)) p.reject(err)
      if (this.child === child) this.child = null
    }
    child.on('error', e => fail(e.message))
    child.on('close', () => { if (this.queue.length) fail('exited early') })
    child.stdin.on('error', () => { /* reported by close */ })
    this.child = child
    return child
  }

  /** An idle batch process must not keep node alive; a busy one must. */
  private setRef(child: ChildProcessWithoutNullStreams, on: boolean): void {
    for (const h of [child, child.stdout, child.stdin, child.stderr] as unknown as Array<{ ref?: () => void; unref?: () => void }>) {
      if (on) h.ref?.()
      else h.unref?.()
    }
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk
    for (;;) {
      if (!this.current) {
        const nl = this.buf.indexOf(10)
        if (nl < 0) return
        const line = this.buf.subarray(0, nl).toString('utf8')
        this.buf = this.buf.subarray(nl + 1)
        const p = this.queue[0]
        if (line.endsWith(' missing') || line.endsWith(' ambiguous')) {
          this.shift().resolve(null)
          continue
        }
        const [sha, type, sizeText] = line.split(' ')
        const size = Number(sizeText)
        const head: GitObject = { sha, type, size, data: null }
        this.current = { head, need: size + 1, parts: size <= p.maxSize ? [] : null }
      }
      const cur = this.current
      const take = Math.min(cur.need, this.buf.length)
      if (take === 0) return
      if (cur.parts) cur.parts.push(this.buf.subarray(0, take))
      this.buf = this.buf.subarray(take)
      cur.need -= take
      if (cur.need > 0) return
      if (cur.parts) cur.head.data = Buffer.concat(cur.parts).subarray(0, cur.head.size)
      this.current = null
      this.shift().resolve(cur.head)
    }
  }

  private shift(): Pending {
    const p = this.queue.shift()!
    if (this.queue.length === 0 && this.child) this.setRef(this.child, false)
    return p
  }
}
