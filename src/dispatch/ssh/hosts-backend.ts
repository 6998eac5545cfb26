// One backend over several SSH hosts, so the worker stays one worker: each job runs on the host its spec names
// (JobSpec.host), placed by place() where the GPUs it asks for are free. GPU ids are qualified: <host>:<index>.
import type { Lab } from '../../lab/lab.ts'
import type { ArtifactFile } from '../../lab/runs.ts'
import type { Experiment, Host } from '../../store/state.ts'
import type { Backend, JobPoll, JobSpec, Placement, Stream } from '../backend.ts'
import { LabError } from '../../errors.ts'
import { SshBackend, type SshBackendOptions } from './backend.ts'

export class HostsBackend implements Backend {
  readonly name: string
  readonly hosts = new Map<string, SshBackend>()
  /** GPUs each host offers (what gpus() found) */
  private readonly offered = new Map<string, number>()

  constructor(private readonly lab: Lab, hosts: Host[], private readonly o: SshBackendOptions = {}) {
    for (const h of hosts) this.hosts.set(h.name, new SshBackend(lab, h, o))
    this.name = `ssh:${hosts.map(h => h.name).join(',')}`
  }

  private of(job: { host?: string; id: string }): SshBackend {
    const b = job.host ? this.hosts.get(job.host) : undefined
    if (!b) throw new LabError(`${job.id}: runs on host ${JSON.stringify(job.host ?? '')}, which this worker does not serve`)
    return b
  }

  async gpus(): Promise<string[]> {
    const all: string[] = []
    for (const [name, b] of this.hosts) {
      const ids = await b.gpus().catch(e => { this.o.log?.(`${name}: cannot list its GPUs: ${(e as Error).message}`); return [] as string[] })
      this.offered.set(name, ids.length)
      all.push(...ids.map(g => `${name}:${g}`))
    }
    return all
  }

  /** How many jobs a host runs at once: its record's jobs, else one per GPU (at least one). */
  slots(name: string): number {
    const b = this.hosts.get(name)!
    return b.host.jobs ?? Math.max(1, this.offered.get(name) ?? 0)
  }

  get totalSlots(): number { return [...this.hosts.keys()].reduce((n, h) => n + this.slots(h), 0) }

  /** Why this worker can never run an experiment (pinned to a host it does not serve), or null. */
  fits(e: Experiment): string | null {
    if (e.host && !this.hosts.has(e.host)) return `pinned to host ${e.host}, which this worker does not serve: left queued`
    if (e.host_tag && ![...this.hosts.values()].some(b => b.host.tags.includes(e.host_tag!))) return `pinned to hosts tagged ${e.host_tag}; this worker serves none: left queued`
    const cands = this.candidates(e)
    if (cands.length && cands.every(b => e.gpus > (this.offered.get(b.host.name) ?? 0))) return `needs ${e.gpus} GPUs on one host; no host here has that many: left queued`
    return null
  }

  private candidates(e: Experiment): SshBackend[] {
    return [...this.hosts.values()].filter(b => (!e.host || b.host.name === e.host) && (!e.host_tag || b.host.tags.includes(e.host_tag)))
  }

  /** The reachable host with the most free GPUs that fits the experiment and has a free slot; null: none now. */
  async place(e: Experiment, free: string[], running: Array<Pick<JobSpec, 'host'>>): Promise<Placement | null> {
    let best: { b: SshBackend; gpus: string[]; busy: number } | null = null
    for (const b of this.candidates(e)) {
      const name = b.host.name
      const busy = running.filter(j => j.host === name).length
      if (busy >= this.slots(name)) continue
      const gpus = free.filter(g => g.startsWith(`${name}:`))
      if (gpus.length < e.gpus) continue
      if (best && (gpus.length < best.gpus.length || (gpus.length === best.gpus.length && busy >= best.busy))) continue
      // A host that cannot be reached now is passed over (the pool backs off; it is asked again later).
      if (!(await b.hello().then(() => true, err => { this.o.log?.(`${name}: ${(err as Error).message}`); return false }))) continue
      best = { b, gpus, busy }
    }
    return best ? { host: best.b.host.name, gpus: best.gpus.slice(0, e.gpus) } : null
  }

  prepare(job: JobSpec): Promise<void> { return this.of(job).prepare(job) }
  start(job: JobSpec): Promise<void> { return this.of(job).start(job) }
  async orphans(): Promise<JobSpec[]> {
    const out: JobSpec[] = []
    for (const [name, b] of this.hosts) {
      out.push(...await b.orphans().catch(async e => {
        // Unreachable now: what the records say this clone runs there is followed anyway, so that the host's jobs are
        // lost after lab.hostTimeout as for a worker that never stopped (or read on when the host is back).
        const known = await this.recorded(name)
        this.o.log?.(`${name}: cannot look for jobs to re-attach to: ${(e as Error).message}${known.length ? ` (following the ${known.length} the records place there)` : ''}`)
        return known
      }))
    }
    return out
  }

  /** Attempts the records say this clone's worker runs on a host (claimed, setting up or running there). */
  private async recorded(name: string): Promise<JobSpec[]> {
    const s = await this.lab.state()
    const me = this.lab.identity.writer
    return Object.values(s.experiments).filter(e => ['claimed', 'setting_up', 'running'].includes(e.status) &&
      e.runners[e.attempt]?.host === name && e.runners[e.attempt]?.writer === me).map(e => ({
      id: e.id, attempt: e.attempt, commit: e.commit, run: e.run, setup: e.setup, env: {}, gpus: [], timeout: e.timeout,
      keep: false, host: name,
    }))
  }
  /** Whether any host holds a trace of the attempt (asked of reachable hosts only). */
  async holds(job: { id: string; attempt: number; host?: string }): Promise<boolean> {
    for (const b of this.hosts.values()) if (await b.holds(job).catch(() => false)) return true
    return false
  }
  attach(job: JobSpec): Promise<boolean> { return this.of(job).attach(job) }
  read(job: JobSpec, stream: Stream, offset: number, max: number): Promise<Buffer> { return this.of(job).read(job, stream, offset, max) }
  size(job: JobSpec, stream: Stream): Promise<number> { return this.of(job).size(job, stream) }
  poll(job: JobSpec): Promise<JobPoll> { return this.of(job).poll(job) }
  cancel(job: JobSpec, graceMs: number): Promise<void> { return this.of(job).cancel(job, graceMs) }
  collect(job: JobSpec): Promise<ArtifactFile[]> { return this.of(job).collect(job) }
  cleanup(job: JobSpec): Promise<void> { return this.of(job).cleanup(job) }
  close(): void { for (const b of this.hosts.values()) b.close() }
}
