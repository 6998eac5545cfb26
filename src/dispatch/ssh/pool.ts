// Connections to one host, pooled: commands share a connection up to a few sessions each (sshd allows 10 per
// connection by default) and more connections open as needed; a broken one is dropped and the next command opens
// another, after a backoff with jitter while the host stays unreachable.
import type { ClientChannel } from 'ssh2'
import { connect, HostKeyError, UnreachableError, type Client, type Target, type TargetContext } from './connect.ts'

/** Sessions used per connection: below sshd's MaxSessions 10, leaving room for a stray one. */
const SESSIONS = 8
const MAX_CONNECTIONS = 16

export interface ExecResult { code: number; stdout: Buffer; stderr: string }

interface Conn { client: Client; open: number; dead: boolean }

export class Pool {
  private conns: Conn[] = []
  private opening: Promise<Conn> | null = null
  private waiters: Array<() => void> = []
  /** the host could not be reached since this time (null: it answered last) */
  downSince: number | null = null
  lastError: Error | null = null
  private failures = 0
  private retryAt = 0
  /** connections opened so far (tests and benchmarks look at it) */
  opened = 0

  constructor(readonly target: () => Promise<Target>, private readonly o: { timeoutMs?: number; ctx?: TargetContext } = {}) {}

  /** Runs a command (a POSIX sh command line); stdin is sent and closed. Throws UnreachableError if the host is not reached. */
  async exec(command: string, stdin?: string | Buffer, timeoutMs = 120_000): Promise<ExecResult> {
    const conn = await this.acquire()
    try {
      return await new Promise<ExecResult>((resolve, reject) => {
        // (ssh2 throws at once when the connection went away since it was picked)
        const run = (cb: (err: Error | undefined, ch: ClientChannel) => void) => {
          try { conn.client.exec(command, cb) } catch (e) { conn.dead = true; reject(new UnreachableError(`${this.name}: ${(e as Error).message}`, 'ssh')) }
        }
        run((err: Error | undefined, ch: ClientChannel) => {
          if (err) { conn.dead ||= /not connected|No response|closed/i.test(err.message); reject(new UnreachableError(`${this.name}: ${err.message}`, 'ssh')); return }
          const out: Buffer[] = []
          const errs: Buffer[] = []
          let code: number | null = null
          const timer = setTimeout(() => { conn.dead = true; conn.client.end(); reject(new UnreachableError(`${this.name}: no answer in ${timeoutMs / 1000}s`, 'ssh')) }, timeoutMs)
          ch.on('data', (b: Buffer) => out.push(b))
          ch.stderr.on('data', (b: Buffer) => errs.push(b))
          ch.on('exit', (c: number | null, signal?: string) => { code = c ?? (signal ? 255 : 0) })
          ch.on('close', () => {
            clearTimeout(timer)
            // A channel closed without an exit status: the connection went away under it.
            if (code === null) { conn.dead = true; reject(new UnreachableError(`${this.name}: the connection closed while a command ran`, 'ssh')); return }
            resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(errs).toString('utf8') })
          })
          ch.on('error', () => undefined)
          if (stdin !== undefined) ch.end(stdin)
          else ch.end()
        })
      })
    } finally {
      this.release(conn)
    }
  }

  /** Runs a command and hands its stdout over as a stream (a large file); the session is freed when it ends. */
  async stream(command: string): Promise<AsyncIterable<Buffer>> {
    const conn = await this.acquire()
    return new Promise((resolve, reject) => {
      const run = (cb: (err: Error | undefined, ch: ClientChannel) => void) => {
        try { conn.client.exec(command, cb) } catch (e) { conn.dead = true; this.release(conn); reject(new UnreachableError(`${this.name}: ${(e as Error).message}`, 'ssh')) }
      }
      run((err: Error | undefined, ch: ClientChannel) => {
        if (err) { this.release(conn); reject(new UnreachableError(`${this.name}: ${err.message}`, 'ssh')); return }
        let freed = false
        const free = () => { if (!freed) { freed = true; this.release(conn) } }
        ch.on('close', free)
        ch.stderr.resume()
        ch.end()
        resolve(ch as unknown as AsyncIterable<Buffer>)
      })
    })
  }

  private name = 'host'

  private release(conn: Conn): void {
    conn.open--
    if (conn.dead) this.drop(conn)
    this.waiters.shift()?.()
  }

  private drop(conn: Conn): void {
    conn.dead = true
    this.conns = this.conns.filter(c => c !== conn)
    try { conn.client.end() } catch { /* gone */ }
  }

  private async acquire(): Promise<Conn> {
    for (;;) {
      const free = this.conns.find(c => !c.dead && c.open < SESSIONS)
      if (free) { free.open++; return free }
      if (this.conns.length < MAX_CONNECTIONS || this.conns.every(c => c.dead)) {
        const c = await this.open()
        if (c.open < SESSIONS) { c.open++; return c }
        continue
      }
      await new Promise<void>(r => this.waiters.push(r))
    }
  }

  private open(): Promise<Conn> {
    this.opening ??= this.connect().finally(() => { this.opening = null })
    return this.opening
  }

  private async connect(): Promise<Conn> {
    const wait = this.retryAt - Date.now()
    if (wait > 0) throw new UnreachableError(`${this.lastError?.message ?? 'unreachable'} (next try in ${Math.ceil(wait / 1000)}s)`, 'ssh')
    const t = await this.target()
    this.name = t.name
    try {
      const client = await connect(t, { timeoutMs: this.o.timeoutMs }, this.o.ctx)
      const conn: Conn = { client, open: 0, dead: false }
      client.on('close', () => this.drop(conn))
      client.on('error', () => { conn.dead = true })
      this.conns.push(conn)
      this.opened++
      this.failures = 0
      this.retryAt = 0
      this.downSince = null
      this.lastError = null
      return conn
    } catch (e) {
      // Backoff with jitter: 0.5 s doubling to 30 s, times 0.5..1.5, so many workers do not knock at once.
      this.failures++
      this.retryAt = Date.now() + Math.min(30_000, 500 * 2 ** (this.failures - 1)) * (0.5 + Math.random())
      this.downSince ??= Date.now()
      this.lastError = e as Error
      if (e instanceof HostKeyError) this.retryAt = Date.now() + 60_000
      throw e
    }
  }

  /** Drops every connection (the worker stops, or a test simulates a dropped connection). */
  close(): void {
    for (const c of [...this.conns]) this.drop(c)
  }
}
