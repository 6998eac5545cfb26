// The SSH backend: one lab host. The same layout and supervisor as the local backend, on the host under its workdir
// (runs/<id>.<attempt>/ with the journals, pid, phase, exit; repo.git holding the code sent to it), reached through a
// pool of ssh2 connections. The job never depends on a connection: it runs in a session of its own on the host.
import { createHash, randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import type { Lab } from '../../lab/lab.ts'
import type { ArtifactFile } from '../../lab/runs.ts'
import type { Host } from '../../store/state.ts'
import { METRICS_FILE, OUTPUT_FILE } from '../../lab/journal.ts'
import type { Backend, JobPoll, JobSpec, Stream } from '../backend.ts'
import { SUPERVISOR } from '../supervisor.ts'
import { BusyError, LabError } from '../../errors.ts'
import { alive, self } from '../proc.ts'
import { parseNvidiaSmi } from '../gpus.ts'
import { shCommand, shq } from './quote.ts'
import { resolveTarget, UnreachableError, HostKeyError } from './connect.ts'
import { Pool } from './pool.ts'
import * as S from './scripts.ts'
import { writeLastSeen } from './last-seen.ts'

const ARTIFACT_INLINE_BYTES = 1024 * 1024
const ARTIFACT_INLINE_TOTAL = 16 * 1024 * 1024
const MAX_ARTIFACTS = 1000
const DEFAULT_GRACE_MS = 10_000
/** how long a host may stay unreachable before its jobs are lost (lab.hostTimeout) */
export const DEFAULT_HOST_TIMEOUT_MS = 10 * 60_000

/** job.json on the host. boot: the host's boot id when the job was prepared (a new one: the host restarted). */
interface JobFile { spec: JobSpec; created: number; tag: string; boot: string }
interface Lock { host: string; pid: number; start: number | null; writer: string | null }

export interface SshBackendOptions {
  hostTimeoutMs?: number
  log?: (line: string) => void
}

/** A host's workdir as a path for its shell: ~/x is x (relative paths are from the login's home). */
export function remoteWorkdir(w: string | null): string {
  const d = w ?? '.git-lab'
  return d === '~' ? '.' : d.startsWith('~/') ? d.slice(2) || '.' : d
}

export class SshBackend implements Backend {
  readonly name: string
  readonly pool: Pool
  private info: Promise<{ root: string; boot: string; git: string }> | null = null
  private readonly jobs = new Map<string, JobFile>()
  /** journal sizes from the last poll, and when */
  private readonly sizes = new Map<string, { out: number; met: number; at: number }>()
  /** jobs whose host stayed unreachable past the deadline (or restarted): reads return nothing more */
  private readonly lost = new Map<string, number>()
  private readonly hostTimeoutMs: number

  constructor(readonly lab: Lab, readonly host: Host, private readonly o: SshBackendOptions = {}) {
    this.name = `ssh:${host.name}`
    this.pool = new Pool(() => resolveTarget(lab, host), { ctx: lab })
    this.hostTimeoutMs = o.hostTimeoutMs ?? DEFAULT_HOST_TIMEOUT_MS
  }

  private key(job: { id: string; attempt: number }) { return `${job.id}.${job.attempt}` }

  /** Runs one of scripts.ts with its arguments quoted. */
  async sh(script: string, args: string[], stdin?: string | Buffer, timeoutMs?: number) {
    const r = await this.pool.exec(shCommand(script, 'git-lab', args), stdin, timeoutMs)
    this.reached()
    return r
  }

  private lastSeenWrite = 0
  /** Notes (at most every 30 s) that this clone reached the host now: `git lab hosts` says since when one is down. */
  private reached(): void {
    if (Date.now() - this.lastSeenWrite < 30_000) return
    this.lastSeenWrite = Date.now()
    void writeLastSeen(this.lab, this.host.name, new Date()).catch(() => undefined)
  }

  /** The host's absolute workdir and boot id, asked once per backend (again after a failure). */
  hello(): Promise<{ root: string; boot: string; git: string }> {
    this.info ??= (async () => {
      const r = await this.sh(S.HELLO, [remoteWorkdir(this.host.workdir)])
      if (r.code !== 0) throw new LabError(`${this.host.name}: cannot use workdir ${JSON.stringify(this.host.workdir ?? '~/.git-lab')}${r.code === 4 ? ' (git init failed: is git installed?)' : ''}: ${r.stderr.trim()}`)
      const kv = parseKv(r.stdout.toString('utf8'))
      return { root: kv.root, boot: kv.boot ?? '', git: kv.git ?? '' }
    })().catch(e => { this.info = null; throw e })
    return this.info
  }

  private async dir(job: { id: string; attempt: number }): Promise<string> { return `${(await this.hello()).root}/runs/${this.key(job)}` }
  private async repo(): Promise<string> { return `${(await this.hello()).root}/repo.git` }

  async gpus(): Promise<string[]> {
    if (this.host.gpus !== null) return Array.from({ length: this.host.gpus }, (_, i) => String(i))
    const r = await this.pool.exec('nvidia-smi -L')
    return r.code === 0 ? parseNvidiaSmi(r.stdout.toString('utf8')) : []
  }

  /** Sends what the host lacks of a commit: a thin pack against the commits it has. */
  async ship(commit: string): Promise<void> {
    const repo = await this.repo()
    const said = (await this.sh(S.HAVE, [repo, commit])).stdout.toString('utf8').split('\n')
    if (said[0] === 'HAS') return
    const have = said.filter(l => /^[0-9a-f]{40,64}$/.test(l))
    const pack = await this.lab.repo.packFor(commit, have)
    const r = await this.sh(S.RECEIVE, [repo, commit], pack, 600_000)
    if (r.code !== 0) throw new LabError(`${this.host.name}: cannot store the code of ${commit.slice(0, 12)}: ${r.stderr.trim().split('\n').pop()}`)
  }

  private lockText(): string {
    const me = self()
    return JSON.stringify({ host: hostname(), pid: me.pid, start: me.start, writer: this.lab.identity.writer } satisfies Lock)
  }

  async prepare(job: JobSpec): Promise<void> {
    const info = await this.hello()
    if (job.commit) await this.ship(job.commit)
    const d = await this.dir(job)
    const tag = randomBytes(8).toString('hex')
    const file: JobFile = { spec: job, created: Date.now(), tag, boot: info.boot }
    const r = await this.sh(S.PREPARE, [d, await this.repo(), job.commit ?? '', job.params ?? '{}\n', JSON.stringify(file), this.lockText()], this.envFile(job, d))
    const said = r.stdout.toString('utf8').trim()
    if (said === 'BUSY') throw new BusyError(`a job of ${job.id} (attempt ${job.attempt}) is still running on ${this.host.name}: ${d}`)
    if (r.code !== 0 || said !== 'OK') throw new LabError(`${this.host.name}: cannot prepare ${d}: ${r.stderr.trim().split('\n').slice(-2).join(' ')}`)
    this.jobs.set(this.key(job), file)
    this.lost.delete(this.key(job))
  }

  /** The job's environment on the host, as export lines: its own variables, the journals, and the secrets named in
   *  lab.secret (from this machine). Nothing else of this machine's environment goes to the host. */
  private envFile(job: JobSpec, d: string): string {
    const env: Record<string, string> = { PYTHONUNBUFFERED: '1' }
    for (const name of this.lab.config.get('lab.secret') ?? []) {
      const v = this.lab.env[name]
      if (v !== undefined && /^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) env[name] = v
    }
    Object.assign(env, job.env, { LAB_METRICS: `${d}/${METRICS_FILE}`, LAB_OUTPUT: `${d}/out`, LAB_PARAMS: `${d}/params.json` })
    // GPU ids are this host's indices (the worker may hand out host-qualified ids: gpu1:0).
    if (job.gpus.length || 'CUDA_VISIBLE_DEVICES' in job.env) env.CUDA_VISIBLE_DEVICES = job.gpus.map(g => g.slice(g.lastIndexOf(':') + 1)).join(',')
    return Object.entries(env).filter(([k]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k)).map(([k, v]) => `export ${k}=${shq(v)}\n`).join('')
  }

  private async jobFile(job: JobSpec): Promise<JobFile | null> {
    const k = this.key(job)
    if (!this.jobs.has(k)) {
      const r = await this.sh(S.CAT, [`${await this.dir(job)}/job.json`])
      try { this.jobs.set(k, JSON.parse(r.stdout.toString('utf8')) as JobFile) } catch { return null }
    }
    return this.jobs.get(k)!
  }

  async start(job: JobSpec): Promise<void> {
    const f = await this.jobFile(job)
    const args = [await this.dir(job), job.setup ?? '', job.run, f?.tag ?? randomBytes(8).toString('hex'),
      String(Math.max(0, Math.round(job.graceMs ?? DEFAULT_GRACE_MS))), SUPERVISOR]
    // START is idempotent on the host: a connection dropped while it ran is no reason to give the attempt up.
    let r: Awaited<ReturnType<SshBackend['sh']>> | null = null
    for (let i = 0; !r; i++) {
      try { r = await this.sh(S.START, args) } catch (e) {
        if (!(e instanceof UnreachableError) || i >= 4) throw e
        await new Promise(res => setTimeout(res, 500 * 2 ** i))
      }
    }
    if (r.code !== 0) throw new LabError(`${this.host.name}: cannot start ${job.id}: ${r.stderr.trim()}`)
  }

  async orphans(): Promise<JobSpec[]> {
    const r = await this.sh(S.ORPHANS, [`${(await this.hello()).root}/runs`])
    const f = r.stdout.toString('utf8').split('\0')
    const out: JobSpec[] = []
    for (let i = 0; i + 3 < f.length; i += 4) {
      let job: JobFile
      try { job = JSON.parse(f[i + 1]) as JobFile } catch { continue }
      // As locally: a job any live worker follows (this process included) is nobody's orphan.
      if (!job?.spec || this.lockHeld(f[i + 2], f[i + 3] === '1') !== null) continue
      this.jobs.set(this.key(job.spec), job)
      out.push({ ...job.spec, host: this.host.name })
    }
    return out
  }

  /** Who follows a job: this process, another live worker, or nobody (a dead worker's lock, or one not touched for a minute). */
  private lockHeld(text: string, fresh: boolean): 'me' | 'other' | null {
    let l: Lock
    try { l = JSON.parse(text) as Lock } catch { return null }
    if (l.host === hostname()) {
      if (l.pid === process.pid) return 'me'
      return alive(l.pid) && fresh ? 'other' : null
    }
    return fresh ? 'other' : null
  }

  async attach(job: JobSpec): Promise<boolean> {
    let d: string
    let lock: Awaited<ReturnType<SshBackend['sh']>>
    try {
      d = await this.dir(job)
      lock = await this.sh(S.CAT, [`${d}/lock`])
    } catch (e) {
      // The host cannot be reached: followed from the records until it answers or lab.hostTimeout passes.
      if (e instanceof UnreachableError) return true
      throw e
    }
    if (this.lockHeld(lock.stdout.toString('utf8'), true) === 'other') return false
    return (await this.sh(S.LOCK, [d, this.lockText()])).code === 0
  }

  async holds(job: { id: string; attempt: number }): Promise<boolean> {
    return (await this.sh('[ -s "$1" ]', [`${await this.dir(job)}/job.json`])).code === 0
  }

  async read(job: JobSpec, stream: Stream, offset: number, max: number): Promise<Buffer> {
    if (this.lost.has(this.key(job))) return Buffer.alloc(0)
    const file = `${await this.dir(job)}/${stream === 'output' ? OUTPUT_FILE : METRICS_FILE}`
    const r = await this.sh(S.READ, [file, String(offset), String(Math.min(max, 64 * 1024 * 1024))])
    const seen = this.seen.get(this.key(job)) ?? { out: 0, met: 0 }
    const end = offset + r.stdout.length
    if (stream === 'output') seen.out = Math.max(seen.out, end); else seen.met = Math.max(seen.met, end)
    this.seen.set(this.key(job), seen)
    return r.stdout
  }

  async size(job: JobSpec, stream: Stream): Promise<number> {
    const k = this.key(job)
    // A lost job's journals end where reading them ended: what the host still holds is out of reach.
    if (this.lost.has(k)) { const r = this.seen.get(k); return r ? (stream === 'output' ? r.out : r.met) : 0 }
    const s = this.sizes.get(k)
    if (!s || Date.now() - s.at > 100) await this.poll(job)
    const now = this.sizes.get(k)
    return now ? (stream === 'output' ? now.out : now.met) : 0
  }

  async poll(job: JobSpec): Promise<JobPoll> {
    const k = this.key(job)
    const f = await this.jobFile(job).catch(() => this.jobs.get(k) ?? null)
    const created = f?.created ?? Date.now()
    const lostAt = this.lost.get(k)
    if (lostAt !== undefined) return { phase: 'vanished', exitCode: null, setupFailed: false, startedAt: created, reason: this.lostReason.get(k) }
    let kv: Record<string, string>
    try {
      kv = await this.look(job)
    } catch (e) {
      // Unreachable: the job may well run on. Past lab.hostTimeout it counts as lost (with the reason).
      if (!(e instanceof UnreachableError || e instanceof HostKeyError)) throw e
      const since = this.pool.downSince ?? Date.now()
      if (Date.now() - since < this.hostTimeoutMs) throw e
      return this.markLost(job, created, `host ${this.host.name} unreachable for ${Math.round((Date.now() - since) / 1000)}s: ${(this.pool.lastError ?? e).message}`)
    }
    if (kv.gone) return this.markLost(job, created, `its run folder on ${this.host.name} is gone`)
    this.sizes.set(k, { out: Number(kv.out) || 0, met: Number(kv.met) || 0, at: Date.now() })
    const m = /^(setup|run) (\d+)/.exec(kv.exit ?? '')
    if (m) return { phase: 'exited', exitCode: Number(m[2]), setupFailed: m[1] === 'setup', startedAt: created }
    if (f?.boot && kv.boot && f.boot !== kv.boot) return this.markLost(job, created, `host ${this.host.name} restarted (its boot id changed)`)
    if (kv.alive === '1') {
      const phase = kv.phase === 'running' ? 'running' : kv.phase === 'setting_up' ? 'setting_up' : 'starting'
      return { phase, exitCode: null, setupFailed: false, startedAt: created }
    }
    const phase = kv.pid || Date.now() - created > 30_000 ? 'vanished' : 'starting'
    return { phase, exitCode: null, setupFailed: false, startedAt: created }
  }

  /** run dirs of the jobs polled lately (one look covers all of them), and the last look at each */
  private readonly watched = new Map<string, string>()
  private readonly looks = new Map<string, { kv: Record<string, string>; at: number }>()
  private looking: Promise<void> | null = null

  /** How a job stands: from a look at every watched job of this host no older than 150 ms, else a new look. */
  private async look(job: JobSpec): Promise<Record<string, string>> {
    const k = this.key(job)
    const d = await this.dir(job)
    this.watched.set(k, d)
    for (let i = 0; i < 2; i++) {
      const l = this.looks.get(k)
      if (l && Date.now() - l.at < 150) return l.kv
      this.looking ??= (async () => {
        const dirs = [...this.watched.entries()]
        const r = await this.sh(S.POLL, dirs.map(([, x]) => x))
        const at = Date.now()
        const byDir = new Map<string, string[]>()
        let cur: string[] | null = null
        for (const line of r.stdout.toString('utf8').split('\n')) {
          if (line.startsWith('@@')) byDir.set(line.slice(2), cur = [])
          else cur?.push(line)
        }
        for (const [key, x] of dirs) { const lines = byDir.get(x); if (lines) this.looks.set(key, { kv: parseKv(lines.join('\n')), at }) }
      })().finally(() => { this.looking = null })
      await this.looking
    }
    const l = this.looks.get(k)
    if (!l) throw new LabError(`${this.host.name}: no answer about ${d}`)
    return l.kv
  }

  private readonly lostReason = new Map<string, string>()
  /** how far each journal has been read */
  private readonly seen = new Map<string, { out: number; met: number }>()
  private markLost(job: JobSpec, created: number, reason: string): JobPoll {
    this.lost.set(this.key(job), Date.now())
    this.lostReason.set(this.key(job), reason)
    this.o.log?.(`${job.id}: ${reason}`)
    return { phase: 'vanished', exitCode: null, setupFailed: false, startedAt: created, reason }
  }

  async cancel(job: JobSpec, graceMs: number): Promise<void> {
    if (this.lost.has(this.key(job))) return
    const f = await this.jobFile(job)
    const grace = Math.max(0, Math.round(graceMs))
    await this.sh(S.CANCEL, [await this.dir(job), String(grace), f?.tag ?? 'no-tag-' + randomBytes(8).toString('hex')], undefined, grace * 2 + 60_000)
  }

  /** Small files' contents; large ones stay on the host, recorded as ssh://<host>/<path>. */
  async collect(job: JobSpec): Promise<ArtifactFile[]> {
    if (this.lost.has(this.key(job))) return []
    const d = await this.dir(job)
    const r = await this.sh(S.LIST_OUT, [d])
    const f = r.stdout.toString('utf8').split('\0')
    const list: Array<{ path: string; size: number }> = []
    for (let i = 0; i + 1 < f.length && list.length < MAX_ARTIFACTS; i += 2) list.push({ size: Number(f[i].trim()), path: f[i + 1].replace(/^\.\//, '') })
    list.sort((a, b) => a.path < b.path ? -1 : 1)
    const files: ArtifactFile[] = []
    let inline = 0
    for (const x of list) {
      const small = x.size <= ARTIFACT_INLINE_BYTES && inline + x.size <= ARTIFACT_INLINE_TOTAL
      if (small) {
        const data = (await this.sh(S.CAT, [`${d}/out/${x.path}`])).stdout
        inline += data.length
        files.push({ path: x.path, size: data.length, data, sha256: createHash('sha256').update(data).digest('hex') })
      } else {
        const sha = (await this.sh(S.SHA256, [`${d}/out/${x.path}`], undefined, 600_000)).stdout.toString('utf8').trim()
        const where = job.keep ? `${d}/out` : await this.keepDir(job)
        files.push({ path: x.path, size: x.size, data: null, sha256: sha, location: `ssh://${this.host.name}${where}/${x.path}` })
      }
    }
    if (files.some(x => !x.data)) this.keepLarge.add(this.key(job))
    return files
  }

  private readonly keepLarge = new Set<string>()
  private async keepDir(job: JobSpec): Promise<string> { return `${(await this.hello()).root}/artifacts/${this.key(job)}` }

  async cleanup(job: JobSpec): Promise<void> {
    const k = this.key(job)
    if (this.lost.has(k)) {
      // The host may be back later: what is left there is tidied when it is reachable, never waited for.
      try {
        await this.sh(S.CLEANUP, [await this.dir(job), await this.repo(), '0', '', this.jobs.get(k)?.tag ?? 'none'], undefined, 20_000)
      } catch { /* unreachable still */ }
    } else {
      const r = await this.sh(S.CLEANUP, [await this.dir(job), await this.repo(), job.keep ? '1' : '0',
        this.keepLarge.has(k) && !job.keep ? await this.keepDir(job) : '', (await this.jobFile(job))?.tag ?? 'none'])
      if (r.stdout.toString('utf8').trim() === 'BUSY') throw new BusyError(`${job.id} (attempt ${job.attempt}) is still running on ${this.host.name}`)
    }
    this.jobs.delete(k)
    this.watched.delete(k)
    this.looks.delete(k)
    this.sizes.delete(k)
    this.lost.delete(k)
    this.lostReason.delete(k)
    this.seen.delete(k)
    this.keepLarge.delete(k)
  }

  /** A file on the host, streamed (artifacts kept there: git lab artifacts). */
  fetch(file: string): Promise<AsyncIterable<Buffer>> {
    return this.pool.stream(shCommand(S.CAT, 'git-lab', [file]))
  }

  close(): void { this.pool.close() }
}

export function parseKv(text: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>
  for (const line of text.split('\n')) {
    const i = line.indexOf('=')
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1)
  }
  return out
}
