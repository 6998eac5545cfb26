// One `git diff-tree --stdin` that takes tree pairs as they become known and answers each as soon as its records have
// arrived: a fold of many writers feeds it each writer's trees while the commits of the others are still being read,
// and reads the blobs of the first while git still lists the rest (as raw git in a pipeline would).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { StringDecoder } from 'node:string_decoder'
import { GitError } from '../errors.ts'
import { noteCommand } from './early.ts'
import { spawnError, summarize } from './run.ts'

export interface DiffEntry { status: string; oldSha: string; newSha: string; path: string; type?: string }

interface Asked { key: string; resolve: (entries: DiffEntry[]) => void; reject: (e: Error) => void }

export class DiffStream {
  private child: ChildProcessWithoutNullStreams | null = null
  private readonly asked: Asked[] = []
  private head = 0
  /** the pair whose records are arriving */
  private current: { asked: Asked; entries: DiffEntry[] } | null = null
  private text = ''
  private out = ''
  private ended = false
  private failed: Error | null = null
  private readonly decoder = new StringDecoder('utf8')

  constructor(private readonly cwd: string, private readonly env: NodeJS.ProcessEnv) {}

  /** What changed from tree `a` to tree `b` (whole tree: `a` is the empty tree), every file, renames not looked for. */
  pair(a: string, b: string): Promise<DiffEntry[]> {
    if (this.ended) return Promise.reject(new Error('diff stream already ended'))
    if (this.failed) return Promise.reject(this.failed)
    if (!/^[0-9a-f]{40,64}$/.test(a) || !/^[0-9a-f]{40,64}$/.test(b)) return Promise.reject(new GitError(`invalid tree ids ${JSON.stringify(`${a} ${b}`)}`, ['diff-tree']))
    this.child ??= this.start()
    return new Promise((resolve, reject) => {
      this.asked.push({ key: `${a} ${b}`, resolve, reject })
      // (pairs asked in one go leave in one write)
      if (this.out === '') queueMicrotask(this.flush)
      this.out += `${a} ${b}\n`
    })
  }

  /** No more pairs: git finishes what it was given and exits. */
  end(): void {
    if (this.ended) return
    this.ended = true
    if (!this.child) return
    if (this.out) this.flush()
    this.child.stdin.end()
  }

  private readonly flush = (): void => {
    const out = this.out
    this.out = ''
    if (this.child && !this.failed) this.child.stdin.write(out)
  }

  private start(): ChildProcessWithoutNullStreams {
    const args = ['diff-tree', '--stdin', '-r', '-z', '--no-renames']
    noteCommand(args)
    const child = spawn('git', args, { cwd: this.cwd, env: this.env, stdio: ['pipe', 'pipe', 'pipe'] })
    let stderr = ''
    child.on('error', e => this.fail(spawnError(e, args)))
    if (!child.stdout) return child
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString() })
    child.stdout.on('data', (b: Buffer) => this.onData(this.decoder.write(b)))
    child.stdin.on('error', () => { /* reported by close */ })
    child.on('close', code => {
      this.onData(this.decoder.end())
      if (code !== 0) return this.fail(new GitError(`git diff-tree failed: ${summarize(stderr) ?? `exit code ${code}`}`, args, stderr))
      this.settle()
      // (a pair git said nothing about, not even its line: an unreadable tree, reported on stderr)
      while (this.head < this.asked.length) this.asked[this.head++].resolve([])
    })
    return child
  }

  private fail(e: Error): void {
    this.failed ??= e
    if (this.current) { this.current.asked.reject(e); this.current = null }
    while (this.head < this.asked.length) this.asked[this.head++].reject(e)
  }

  /** The pair being read is complete. */
  private settle(): void {
    if (!this.current) return
    this.current.asked.resolve(this.current.entries)
    this.current = null
  }

  // Each pair is echoed as a line `a b\n` (even with nothing changed), then its records `:modes shas status\0path\0`.
  private onData(chunk: string): void {
    const t = this.text + chunk
    let i = 0
    while (i < t.length) {
      if (t[i] !== ':') {
        const nl = t.indexOf('\n', i)
        if (nl < 0) break
        const key = t.slice(i, nl)
        i = nl + 1
        this.settle()
        // (pairs git skipped, if any, before this one: nothing to say about them)
        while (this.head < this.asked.length && this.asked[this.head].key !== key) this.asked[this.head++].resolve([])
        if (this.head < this.asked.length) this.current = { asked: this.asked[this.head++], entries: [] }
        continue
      }
      const z = t.indexOf('\0', i)
      const z2 = z < 0 ? -1 : t.indexOf('\0', z + 1)
      if (z2 < 0) break
      const [, newMode, oldSha, newSha, status] = t.slice(i + 1, z).split(' ')
      this.current?.entries.push({ status, oldSha, newSha, path: t.slice(z + 1, z2), type: modeType(newMode) })
      i = z2 + 1
    }
    this.text = t.slice(i)
    if (this.head > 1024 && this.head === this.asked.length) { this.asked.length = 0; this.head = 0 }
  }
}

export function modeType(mode: string): string {
  return mode === '160000' ? 'commit' : mode === '040000' ? 'tree' : 'blob'
}
