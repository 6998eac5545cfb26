// The worker: claims queued experiments, runs them through a backend, seals their journals into refs as they go,
// records how each ended, and re-attaches to jobs a previous worker left running.
import { hostname } from 'node:os'
import { watch, type FSWatcher } from 'node:fs'
import path from 'node:path'
import type { Lab } from '../lab/lab.ts'
import { readClaim, releaseClaim, type ClaimResult } from '../lab/claims.ts'
import { cancelExperiment } from '../lab/experiments.ts'
import { record, retryExperiment, statusDraft } from '../lab/runs.ts'
import { sync } from '../lab/sync.ts'
import { tidy } from '../lab/housekeeping.ts'
import { sweepClaims } from '../lab/claim-sweep.ts'
import { checkTrust, labTrust, untrustedReason, type Trust } from '../lab/trust.ts'
import type { Draft } from '../store/op.ts'
import { TERMINAL, type Experiment, type State } from '../store/state.ts'
import type { Backend, JobPoll, JobSpec, Placement } from './backend.ts'
import { Claimer } from './claimer.ts'
import { BusyError } from '../errors.ts'
import { pickQueued, type QueueVerdict } from './queue.ts'
import { sealRules } from './secrets.ts'
import { Sealer } from './sealer.ts'
import { endRecord, gatherEnd, jobSpec, newActive, type Active, type EndFound } from './job.ts'
import { sealInterval } from './rules.ts'

/** Why the loop goes round: a look at the refs is due (tick, a record landed, stop), or one of its jobs moved on. */
type Wake = 'look' | 'job'

export interface WorkerOptions {
  /** exit when nothing is queued that this worker can run and no job is running */
  once?: boolean
  jobs?: number
  /** run only this experiment (git lab run) */
  only?: string
  /** a claim lapses this long after its last renewal (renewed every third of it while the job runs) */
  leaseSeconds?: number
  /** when the lab remote cannot be reached, claim with this clone's ref alone (git lab run: its experiment is not pushed) */
  offline?: boolean
  keep?: boolean
  /** SIGTERM, then SIGKILL after this long (ms) */
  graceMs?: number
  tickMs?: number
  /** seconds between syncs with the lab remote (0: never) */
  syncEvery?: number
  name?: string
  /** progress lines for the user */
  log?: (line: string) => void
  /** new output of a job as the worker sees it (for git lab run) */
  onOutput?: (id: string, data: Buffer) => void
  /** called once a job's end is recorded */
  onFinish?: (e: Experiment) => void
  /** a job lost with its host (unreachable past lab.hostTimeout, restarted) is queued again while its attempt is below this */
  retryLost?: number
}

export class Worker {
  private readonly active = new Map<string, Active>()
  /** worktree removals of ended jobs still under way: the loop returns only once they are done */
  private readonly cleanups = new Set<Promise<void>>()
  private readonly claimer: Claimer
  private readonly warned = new Set<string>()
  private stopRequested = false
  private wake: ((why: Wake) => void) | null = null
  /** what ended the last idle wait, and when the loop last looked at the refs */
  private woke: Wake = 'look'
  private lookedAt = 0
  private lastSync = 0
  private lastTidy = 0
  private tidying: Promise<void> = Promise.resolve()
  readonly name: string
  private freeGpus: string[] = []
  /** where the jobs being claimed and started go (fill) */
  private readonly placing = new Set<Placement>()
  private totalGpus = 0
  private readonly secrets: Buffer[]
  private readonly maxOutput: number
  private readonly trust: Trust

  constructor(readonly lab: Lab, readonly backend: Backend, readonly o: WorkerOptions = {}) {
    this.name = o.name ?? `${lab.identity.name}@${hostname()}:${process.pid}`
    // Read once: a changed lab.trust takes effect when the worker restarts. An invalid one stops a worker before it
    // starts (git lab run only runs this clone's own experiment, which is always trusted).
    this.trust = o.only ? labTrust(lab) : checkTrust(labTrust(lab))
    ;({ secrets: this.secrets, maxOutput: this.maxOutput } = sealRules(lab))
    this.claimer = new Claimer(lab, { name: this.name, leaseSeconds: this.lease, offline: !!o.offline, log: l => this.log(l), holds: e => backend.holds(e), settled: () => this.settled() })
  }

  /**
   * Claims attempt 1 of an experiment about to be submitted (git lab run): no other worker can see it unclaimed.
   * Kept (renewed) until the worker starts it; `release` gives it up if it never does.
   */
  reserve(id: string): Promise<ClaimResult> { return this.claimer.reserve(id) }

  /** Gives up a reserved claim whose experiment this worker did not start. */
  release(): Promise<void> { return this.claimer.release() }

  private log(line: string) { this.o.log?.(line) }

  /** Stop taking new jobs; the loop returns once it has sealed what it holds. Running jobs keep running. */
  stop(): void { this.stopRequested = true; this.wake?.('look') }

  /** Jobs being stopped get SIGKILL now instead of at the end of their grace period. */
  killNow(): void {
    for (const a of this.active.values()) {
      if (a.stopping) void this.backend.cancel(a.spec, 0).catch(() => undefined)
    }
  }

  get running(): number { return this.active.size }

  async run(): Promise<void> {
    this.lab.requireWriter()
    const gpus = await this.backend.gpus()
    this.freeGpus = [...gpus]
    this.totalGpus = gpus.length
    await this.reattach()
    const watching = this.watchRecords()
    try {
      await this.loop()
    } finally { watching?.close() }
  }

  /**
   * Wakes the idle loop when a record lands in this clone (a `git lab submit` in another terminal moves
   * refs/lab/w/<writer>): queued work starts at once instead of at the next tick (1 s idle). Only while no job runs
   * (then it looks four times a second anyway). Best effort: where the folder cannot be watched, the tick still looks.
   */
  private watchRecords(): FSWatcher | null {
    try {
      return watch(path.join(this.lab.repo.commonDir, 'refs', 'lab', 'w'), { persistent: false }, () => {
        if (this.active.size === 0) this.wake?.('look')
      })
    } catch { return null }
  }

  private async loop(): Promise<void> {
    for (;;) {
      await this.maybeSync(false)
      this.maybeTidy()
      await this.claimer.keepReserved()
      // A job's exit (or an end written) soon after a look needs none: the step and the pick use what that look read
      // plus this process's own writes, and other processes' records are read at the next tick. (A cancel recorded
      // meanwhile still wins: the fold orders it before the end this worker writes, which keeps its exit code.)
      const current = this.lab.store.current
      const recent = this.woke === 'job' && current && Date.now() - this.lookedAt < (this.o.tickMs ?? 250)
      const state = recent ? current.state : await this.look()
      for (const a of [...this.active.values()]) await this.step(a, state.experiments[a.spec.id])
      if (this.stopRequested) break
      let verdict: QueueVerdict | null = null
      try {
        // What this tick read, plus this process's own writes since (the store folds those in as it writes them):
        // a second ref listing per tick would only pick up other processes' writes a tick earlier.
        verdict = await this.fill(this.lab.store.current?.state ?? state)
      } catch (err) {
        if (this.o.once && this.active.size === 0) throw err
        this.complain(`cannot start queued work: ${(err as Error).message}`)
      }
      if (this.o.once && this.active.size === 0 && verdict && !verdict.waiting) break
      await this.idle()
    }
    await this.detach()
  }

  private async look(): Promise<State> {
    this.lookedAt = Date.now()
    return this.lab.state()
  }

  private async detach(): Promise<void> {
    // Detach: seal what the journals hold now; the jobs keep running and the next worker re-attaches.
    for (const a of this.active.values()) {
      if (a.ending) continue
      await a.starting
      await a.journal.ingest(false).then(() => a.journal.seal(false)).catch(e => this.log(`cannot seal ${a.spec.id}: ${(e as Error).message}`))
    }
    await Promise.all([...this.active.values()].map(a => a.ending))
    await Promise.all(this.cleanups)
    await this.maybeSync(true)
    this.maybeTidy(true)
    await this.tidying
  }

  /** git's housekeeping for what this worker wrote (src/lab/housekeeping.ts): looked at once a minute, never waited for. */
  private maybeTidy(force = false): void {
    if (!force && Date.now() - this.lastTidy < 60_000) return
    this.lastTidy = Date.now()
    void tidy(this.lab).catch(() => undefined)
    // Without a lab remote no sync sweeps ended attempts' claims: this clone's own go here.
    if (!this.lab.remote) this.tidying = this.lab.state().then(s => sweepClaims(this.lab, s)).then(() => undefined, () => undefined)
  }

  private async idle(): Promise<void> {
    // Idle, a worker looks at the queue once a second; with jobs running, four times (output, cancels, timeouts).
    const tick = this.o.tickMs ?? (this.active.size ? 250 : 1000)
    let timer: NodeJS.Timeout | undefined
    this.woke = await Promise.race<Wake>([
      new Promise<Wake>(r => { timer = setTimeout(() => r('look'), tick) }),
      new Promise<Wake>(r => { this.wake = r }),
      ...[...this.active.values()].map(a => (a.ending ?? this.backend.changed?.(a.spec))?.then(() => 'job' as const)).filter(p => p !== undefined),
    ])
    // The timer that lost the race would keep the process alive after the last job (worker --once, run).
    clearTimeout(timer)
    this.wake = null
  }

  private async maybeSync(force: boolean): Promise<void> {
    const every = (this.o.syncEvery ?? 15) * 1000
    if (!this.lab.remote || every <= 0 || (!force && Date.now() - this.lastSync < every)) return
    this.lastSync = Date.now()
    try { await sync(this.lab) } catch (e) { this.log(`sync: ${(e as Error).message}`) }
  }

  /** Jobs a killed worker left behind: follow them again from where their sealed chunks end. */
  private async reattach(): Promise<void> {
    const state = await this.lab.state()
    for (const spec of await this.backend.orphans()) {
      if (this.o.only && spec.id !== this.o.only) continue
      const e = state.experiments[spec.id]
      const runner = e?.runners[spec.attempt]
      if (!e || e.attempt !== spec.attempt || (runner && runner.writer !== this.lab.identity.writer)) continue
      if (!(await this.backend.attach(spec))) continue
      // Its end was recorded, but the worker died before cleaning up: only the cleanup is left to do.
      // (A cancel op alone does not record the end: the runner's own report fills in the exit code.)
      if (TERMINAL.has(e.status) && (e.status !== 'cancelled' || e.exit_code !== null)) {
        await this.backend.cleanup(spec)
        continue
      }
      const a = this.track(spec, e)
      const held = await readClaim(this.lab, spec.id, spec.attempt).catch(() => null)
      if (held && held.claim.writer === this.lab.identity.writer) a.claim = held.position
      this.log(`${spec.id}: re-attached (attempt ${spec.attempt}) at output byte ${a.journal.outSealed}, metrics byte ${a.journal.metSealed}`)
    }
  }

  private track(spec: JobSpec, e: Experiment): Active {
    const a = newActive(spec, e, new Sealer(this.lab, this.backend, spec, e, this.secrets, this.maxOutput, line => this.log(line)))
    this.freeGpus = this.freeGpus.filter(g => !spec.gpus.includes(g))
    this.active.set(spec.id, a)
    return a
  }

  /** Claims and starts what fits, in queue order. */
  private async fill(state: State): Promise<QueueVerdict> {
    const jobs = Math.max(1, this.o.jobs ?? this.backend.totalSlots ?? 1)
    // A job whose end is still being written counts as unfinished in the state: work that depends on it waits for
    // that write, so it is not passed over by work queued after it.
    const ending = new Set([...this.active.values()].filter(a => a.ending).map(a => a.spec.id))
    const open = this.lab.store.current?.state === state ? this.lab.store.current.live.open.get() : Object.keys(state.experiments)
    if (ending.size && open.some(id => state.experiments[id]?.status === 'queued' && state.experiments[id].depends_on.some(d => ending.has(d)))) {
      await this.settled()
      state = this.lab.store.current?.state ?? state
    }
    const verdict = pickQueued(state, {
      only: this.o.only, open: this.lab.store.current?.state === state ? this.lab.store.current.live.open.get() : undefined, freeGpus: this.freeGpus.length, totalGpus: this.totalGpus,
      fits: e => this.fits(e),
      skip: id => this.active.has(id) || this.claimer.recentlyLost(state.experiments[id]), untrusted: e => untrustedReason(this.trust, e),
    })
    for (const [id, reason] of verdict.cancel) {
      await cancelExperiment(this.lab, id, reason).catch(() => undefined)
      this.log(`${id}: cancelled (${reason})`)
    }
    for (const [id, deps] of verdict.blocked) {
      const line = `${id}: waiting for ${deps.join(', ')}`
      if (!this.warned.has(line)) this.log(line)
      this.warned.add(line)
    }
    for (const [id, why] of verdict.unfit) {
      if (!this.warned.has(id)) this.log(`${id}: ${why}`)
      this.warned.add(id)
    }
    for (const [id, why] of verdict.untrusted) {
      const line = `${id}: left queued: ${why}`
      if (!this.warned.has(line)) this.log(line)
      this.warned.add(line)
    }
    // Claimed, prepared and started side by side (on an SSH host, a checkout and a start are round trips each): what
    // one was placed on (its GPUs, a slot of its host) is held while it is under way, and given back if it did not
    // start. Queue order decides which are placed; which of them starts first is whichever is ready first. Where the
    // next one finds no room, the ones under way are waited for first: those that do not start (a claim lost, held by
    // a live worker) leave their room to it, as they did when each was started before the next was looked at.
    const going: Array<Promise<unknown>> = []
    const errors: unknown[] = []
    const settle = async () => {
      for (const r of await Promise.allSettled(going.splice(0))) if (r.status === 'rejected') errors.push(r.reason)
    }
    const place = (e: Experiment) => this.backend.place
      ? this.backend.place(e, this.freeGpus, [...[...this.active.values()].map(a => a.spec), ...this.placing])
      : Promise.resolve({ gpus: this.freeGpus.slice(0, e.gpus) })
    for (const e of verdict.ready) {
      if ((this.busySlots >= jobs || e.gpus > this.freeGpus.length) && this.placing.size) await settle()
      if (this.busySlots >= jobs || this.stopRequested) break
      if (e.gpus > this.freeGpus.length) continue
      let where = await place(e)
      if (!where && this.placing.size) { await settle(); where = await place(e) }
      // Nowhere now: a host unreachable, or its slots busy (then jobs run, and the worker goes on anyway).
      if (!where) continue
      const held = where
      this.placing.add(held)
      this.freeGpus = this.freeGpus.filter(g => !held.gpus.includes(g))
      const giveBack = () => { this.freeGpus.push(...held.gpus.filter(g => !this.freeGpus.includes(g) && !this.active.get(e.id)?.gpus.includes(g))) }
      going.push(this.claim(e, held).then(started => { if (!started) giveBack() }, (err: unknown) => { giveBack(); throw err })
        .finally(() => this.placing.delete(held)))
    }
    await settle()
    // (every one settled before an error is said: a failed claim leaves the others' holds as they should be)
    if (errors.length) throw errors[0]
    return verdict
  }

  /** Once the starts and ends being recorded in the background are written. */
  private settled(): Promise<unknown> { return Promise.all([...this.active.values()].flatMap(a => [a.starting, a.ending])) }

  /** Jobs that hold a slot: being started, running, or exited with their end still to record after a failed try. */
  private get busySlots(): number { return this.placing.size + [...this.active.values()].filter(a => !a.ending).length }

  private get lease(): number { return this.o.leaseSeconds ?? 120 }

  /**
   * Renews the claims of running jobs every third of the lease, so nobody takes over a job that is alive. A renewal
   * the claim refs refuse means someone else holds the attempt now: the job is stopped. One the remote could not be
   * reached for is tried again on the next tick (the claim may well stand).
   */
  private async renew(a: Active): Promise<void> {
    if (!a.claim || a.stopping || Date.now() - a.renewedAt < (this.lease * 1000) / 3) return
    a.renewedAt = Date.now()
    const r = await this.claimer.renew(a.spec.id, a.spec.attempt, a.claim).catch((err: Error) => {
      this.complain(`${a.spec.id}: cannot renew its claim (tried again in ${Math.round(this.lease / 3)}s): ${err.message}`)
      return null
    })
    if (!r) return
    if (r.position) a.claim = r.position
    else { a.claim = null; this.halt(a, 'lost', r.lost) }
  }

  /** Why the backend can never run an experiment; without a say of its own, experiments pinned to SSH hosts are not its. */
  private fits(e: Experiment): string | null {
    if (this.backend.fits) return this.backend.fits(e)
    if (e.host || e.host_tag) return `pinned to ${e.host ? `host ${e.host}` : `hosts tagged ${e.host_tag}`}: left queued for a worker with --host`
    return null
  }

  private async claim(e: Experiment, where: Placement): Promise<boolean> {
    const claim = await this.claimer.claim(e)
    if (!claim) return false
    const gpus = where.gpus
    const spec = jobSpec(e, where, { keep: !!this.o.keep, graceMs: this.o.graceMs ?? 10_000, gpusKnown: this.totalGpus > 0 })
    // The run is prepared (a checkout) while the claimer makes sure the attempt is still queued.
    const [err, queued] = await Promise.all([
      this.backend.prepare(spec).then(() => null, (x: Error) => x),
      claim.queued.catch((x: Error) => x),
    ])
    if (queued !== true) {
      // Not to run (it ended meanwhile: the claim is given back), or that could not be checked: the claim is kept.
      if (!err) await this.backend.cleanup(spec).catch(() => undefined)
      if (queued !== false) throw queued
      await this.claimer.giveBack(e, claim.position).catch(() => undefined)
      return false
    }
    if (err) {
      // Something of this attempt runs here already (its worker was killed before recording it): it is left alone,
      // and the next worker started here re-attaches to it. Nothing is recorded: the attempt did not fail.
      if (err instanceof BusyError) { this.log(`${e.id}: ${err.message}: left alone`); return false }
      // The host went away between placing and preparing: the attempt is given back, still queued.
      if ((err as { code?: string }).code === 'Unreachable') {
        await releaseClaim(this.lab, e.id, e.attempt, claim.position).catch(() => undefined)
        this.log(`${e.id}: ${err.message}: left queued`)
        return false
      }
      await record(this.lab, e.id, [statusDraft(e.id, e.attempt, { status: 'claimed', worker: this.name, ...(spec.host ? { host: spec.host } : {}) }),
        statusDraft(e.id, e.attempt, { status: 'failed', reason: `could not prepare the run: ${err.message}` })], 'failed to prepare')
      await this.backend.cleanup(spec).catch(() => undefined)
      this.log(`${e.id}: could not prepare: ${err.message}`)
      return false
    }
    await this.backend.start(spec)
    const a = this.track(spec, e)
    a.claim = claim.position
    a.claimedHere = true
    const phase = spec.setup ? 'setting_up' : 'running'
    // Recorded while the loop goes on: a short job's exit is seen (and the next job claimed) during this write, and
    // its end is recorded after it. Until it is written it counts as reported; a failed write leaves the job
    // unreported, and the next look reports it. (After the writes this process has under way: the store would take
    // turns anyway, and read its index again for having waited.)
    a.reported = phase
    const drafts = [statusDraft(e.id, e.attempt, { status: 'claimed', worker: this.name, ...(spec.host ? { host: spec.host } : {}) }), statusDraft(e.id, e.attempt, { status: phase })]
    a.starting = this.settled().then(() => record(this.lab, e.id, drafts, phase)).then(() => undefined, (err: Error) => {
      a.reported = 'none'
      this.complain(`${e.id}: ${err.message}`)
    }).finally(() => { a.starting = null })
    this.log(`${e.id}: started (attempt ${e.attempt}${spec.host ? ` on ${spec.host}` : ''}${gpus.length ? `, GPUs ${gpus.join(',')}` : ''}): ${e.run}`)
    return true
  }

  private async report(a: Active, drafts: Draft[], reported: Active['reported']): Promise<void> {
    await a.starting
    await record(this.lab, a.spec.id, drafts, reported)
    a.reported = reported
  }

  /** One look at a running job: report its phase, stop it if cancelled or over time, seal, or finish it. */
  private async step(a: Active, e: Experiment | undefined): Promise<void> {
    if (a.busy || a.ending || !e) return
    a.busy = true
    try {
      const poll = await this.backend.poll(a.spec)
      const over = poll.phase === 'exited' || poll.phase === 'vanished'
      // Its start is still being written: nothing to report or seal before it (its end waits for it too).
      if (a.starting && !over) return
      if (!over) await this.renew(a)
      const { id, attempt } = a.spec
      if (a.reported === 'none') await this.report(a, [statusDraft(id, attempt, { status: 'claimed', worker: this.name, ...(a.spec.host ? { host: a.spec.host } : {}) })], 'claimed')
      const phase = poll.phase === 'running' || (poll.phase === 'exited' && !poll.setupFailed) ? 'running' : poll.phase === 'setting_up' ? 'setting_up' : null
      this.checkRunner(a, e)
      const rank = { none: 0, claimed: 1, setting_up: 2, running: 3 }
      if (phase && rank[phase] > rank[a.reported] && !TERMINAL.has(e.status)) await this.report(a, [statusDraft(id, attempt, { status: phase })], phase)
      if (!a.stopping && !over) {
        if (e.status === 'cancelled' || e.attempt !== attempt) this.halt(a, 'cancelled')
        else if (a.spec.timeout && Date.now() - poll.startedAt > a.spec.timeout * 1000) this.halt(a, 'timed_out')
      }
      await a.journal.show(this.o.onOutput)
      await a.journal.ingest(false)
      if (over) {
        if (a.stopped) await a.stopped
        this.end(a, e, poll)
      } else if (Date.now() - a.journal.lastSeal >= sealInterval(Date.now() - poll.startedAt) || await a.journal.backlog()) {
        await a.journal.seal(false)
        // A fast writer: keep sealing whole chunks while they are there (bounded, so cancels are still seen).
        for (let i = 0; i < 8 && await a.journal.backlog(); i++) {
          await a.journal.ingest(false)
          await a.journal.seal(false)
        }
      }
    } catch (err) {
      // A failed write or read is tried again on the next tick; the journals keep everything meanwhile.
      this.complain(`${a.spec.id}: ${(err as Error).message}`)
    } finally {
      a.busy = false
    }
  }

  private readonly complaints = new Map<string, number>()
  /** Logs a recurring problem at most once a minute. */
  private complain(line: string): void {
    const last = this.complaints.get(line) ?? 0
    if (Date.now() - last < 60_000) return
    this.complaints.set(line, Date.now())
    this.log(line)
  }

  /** The fold decides whose reports count: a worker that is not the attempt's runner there stops its job. */
  private checkRunner(a: Active, e: Experiment): void {
    const runner = e.runners[a.spec.attempt]
    if (a.stopping || !runner || this.mayReport(a, e)) return
    this.halt(a, 'lost', `attempt ${a.spec.attempt} is recorded as run by ${runner.worker} (writer ${runner.writer})`)
  }

  /** Whether the fold takes this worker's reports on the attempt: its writer is the runner (and, if it recorded the claim, its name). */
  private mayReport(a: Active, e: Experiment): boolean {
    const runner = e.runners[a.spec.attempt]
    return !!runner && runner.writer === this.lab.identity.writer && (!a.claimedHere || runner.worker === this.name.slice(0, 200))
  }

  private halt(a: Active, why: 'cancelled' | 'timed_out' | 'lost', lostWhy?: string): void {
    a.stopping = why
    a.lostWhy = lostWhy ?? null
    this.log(`${a.spec.id}: ${why === 'cancelled' ? 'cancelled' : why === 'lost' ? lostWhy : `over its timeout of ${a.spec.timeout}s`}: stopping it`)
    a.stopped = this.backend.cancel(a.spec, this.o.graceMs ?? 10_000).catch(err => this.log(`${a.spec.id}: cannot stop: ${(err as Error).message}`))
    void a.stopped.then(() => this.wake?.('job'))
  }

  /**
   * The job ended (its supervisor ended its whole tree before writing how it exited): its slot and GPUs are free now,
   * and its end is recorded in the background while the loop claims and prepares the next job (the two are writes to
   * different refs, and the records' order is kept by the store). A failed write leaves the job to the next tick.
   */
  private end(a: Active, e: Experiment, poll: JobPoll): void {
    this.freeSlot(a)
    const found = gatherEnd(this.backend, a, this.secrets)
    found.catch(() => undefined) // (awaited by finish; a start that failed to record leaves it unread)
    a.ending = Promise.resolve(a.starting)
      .then(() => { if (a.reported === 'none') throw new Error('its start is not recorded yet: tried again on the next look') })
      .then(() => this.finish(a, e, poll, found))
      .catch(err => this.complain(`${a.spec.id}: ${(err as Error).message}`))
      .finally(() => { a.ending = null; this.wake?.('job') })
  }

  /** The job ended: seal the rest, record artifacts and how it ended in one write, clean up. */
  private async finish(a: Active, e: Experiment, poll: JobPoll, found: Promise<EndFound>): Promise<void> {
    const { spec } = a
    if (a.stopping === 'lost' && !this.mayReport(a, e)) {
      // Another worker runs the attempt as far as the records go: whatever this one wrote now would be skipped, or
      // (another process of this clone) mixed into that worker's record.
      await this.backend.cleanup(spec)
      this.forget(a)
      this.log(`${spec.id}: stopped; nothing recorded: ${a.lostWhy}`)
      return
    }
    // Seal everything (a chunk at a time) until the journals are drained; the last write carries the end.
    const got = await found
    await a.journal.drain()
    const { end, arts, unrecorded } = endRecord(this.lab, a, e, poll, got, this.maxOutput)
    for (const u of unrecorded) {
      const name = JSON.stringify(u.path)
      this.log(`${spec.id}: artifact ${name.length > 160 ? `${name.slice(0, 70)}...${name.slice(-70)}` : name} not recorded: ${u.reason}`)
    }
    await a.journal.seal(true, [...(arts ? [arts] : []), statusDraft(spec.id, spec.attempt, end)], end.status)
    await a.journal.show(this.o.onOutput)
    // The end is recorded: removing the worktree is only tidying up, done while the next job is claimed and prepared
    // (a worker killed meanwhile leaves an ended run that the next one cleans up on re-attach, as after any crash).
    const cleanup = this.backend.cleanup(spec).catch(err => this.log(`${spec.id}: cannot clean up: ${(err as Error).message}`))
    this.cleanups.add(cleanup)
    void cleanup.then(() => this.cleanups.delete(cleanup))
    this.forget(a)
    const took = Math.round((Date.now() - poll.startedAt) / 1000)
    this.log(`${spec.id}: ${end.status}${end.reason ? ` (${end.reason})` : ''} after ${took}s`)
    if (end.status === 'lost' && poll.reason && spec.attempt < (this.o.retryLost ?? 0)) {
      await retryExperiment(this.lab, spec.id).then(
        r => this.log(`${spec.id}: queued again as attempt ${r.attempt} (--retry-lost ${this.o.retryLost})`),
        err => this.log(`${spec.id}: cannot queue it again: ${(err as Error).message}`))
    }
    if (!this.o.onFinish) return
    await cleanup
    const after = (await this.lab.state()).experiments[spec.id]
    if (after) this.o.onFinish(after)
  }

  /** The job is no longer this worker's: its slot and GPUs are free. */
  private forget(a: Active): void {
    this.active.delete(a.spec.id)
    this.freeSlot(a)
  }

  private freeSlot(a: Active): void {
    this.freeGpus.push(...a.gpus.filter(g => !this.freeGpus.includes(g)))
    a.gpus = []
  }
}
