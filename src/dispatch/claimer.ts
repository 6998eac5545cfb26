// A worker's claims: claiming an attempt (or taking over one whose holder is gone), renewing it while the job runs,
// and the claim `git lab run` makes before its experiment is recorded, so no other worker ever sees it unclaimed.
import { hostname } from 'node:os'
import type { Lab } from '../lab/lab.ts'
import { ClaimWatch, claimExperiment, leaseOf, readClaim, releaseClaim, type ClaimPosition, type ClaimResult } from '../lab/claims.ts'
import type { Experiment } from '../store/state.ts'
import { alive } from './proc.ts'
import { labRefspecs } from '../lab/remotes.ts'

export interface ClaimerOptions {
  /** the worker's name, as claims and `claimed` reports carry it */
  name: string
  leaseSeconds: number
  /** claims may fall back to this clone's ref when the lab remote cannot be reached (git lab run) */
  offline: boolean
  log: (line: string) => void
  /** whether this host holds anything of the attempt (a run folder) */
  holds: (e: { id: string; attempt: number }) => Promise<boolean>
  /** resolves once the records this process is writing now are written (the worker's ends, recorded in the background) */
  settled?: () => Promise<unknown>
}

/**
 * A won claim. `queued` resolves false when the attempt turned out not to be queued any more as the records stand now
 * (a fresh claim on an attempt picked from an older state): the caller gives the claim back (`giveBack`) once it has
 * undone what it prepared meanwhile.
 */
export interface Won { position: ClaimPosition; queued: Promise<boolean> }

/** A renewal: the claim stands (at `position`), or it was lost and `lost` says to whom. */
export type Renewal = { position: ClaimPosition; lost?: undefined } | { lost: string; position?: undefined }

export class Claimer {
  private readonly watch: ClaimWatch
  /** attempts claimed by someone else: not tried again before this time (lab.now()) */
  private readonly lost = new Map<string, number>()
  /** the claim `reserve` made, until the worker starts the attempt or gives it up */
  private held: { id: string; attempt: number; position: ClaimPosition; renewedAt: number } | null = null

  constructor(private readonly lab: Lab, private readonly o: ClaimerOptions) {
    this.watch = new ClaimWatch(lab)
  }

  private opts() { return { worker: this.o.name, leaseSeconds: this.o.leaseSeconds, offline: this.o.offline } }

  /** Claims an attempt before its record exists (git lab run): nothing else can see it unclaimed. */
  async reserve(id: string, attempt = 1): Promise<ClaimResult> {
    const c = await claimExperiment(this.lab, id, attempt, this.opts())
    if (c.won) this.held = { id, attempt, position: c.position, renewedAt: Date.now() }
    if (c.offline) this.o.log(`${id}: cannot reach ${this.lab.remote} (${c.offline}): claimed in this clone only; other clones see it after 'git lab sync'`)
    return c
  }

  /** Renews the reserved claim every third of the lease while its attempt waits (dependencies). */
  async keepReserved(): Promise<void> {
    const h = this.held
    if (!h || Date.now() - h.renewedAt < (this.o.leaseSeconds * 1000) / 3) return
    h.renewedAt = Date.now()
    const r = await this.renew(h.id, h.attempt, h.position).catch(() => null)
    if (r?.position) h.position = r.position
    else if (r) { this.held = null; this.o.log(`${h.id}: ${r.lost}`) }
  }

  /** Gives the reserved claim up when its attempt was not started (git lab run leaving it queued for a worker). */
  async release(): Promise<void> {
    const h = this.held
    this.held = null
    if (h) await releaseClaim(this.lab, h.id, h.attempt, h.position)
  }

  recentlyLost(e: Experiment): boolean {
    const until = this.lost.get(`${e.id}.${e.attempt}`)
    return until !== undefined && this.lab.now().getTime() < until
  }

  /**
   * Claims the attempt; null when someone else holds it. A claim nobody follows up may be taken over: one made by a
   * dead process of this clone on this host that left nothing here, or one this clone has seen unchanged for longer
   * than its lease (ClaimWatch: this machine's clock only). Throws when the lab remote cannot be reached.
   */
  async claim(e: Experiment): Promise<Won | null> {
    const sure = (position: ClaimPosition): Won => ({ position, queued: Promise.resolve(true) })
    const h = this.held
    if (h && h.id === e.id && h.attempt === e.attempt) {
      this.held = null
      // Renewing it proves that nobody took it over while the attempt waited.
      const r = await this.renew(e.id, e.attempt, h.position)
      if (r.position) return sure(r.position)
      this.o.log(`${e.id}: ${r.lost}`)
    } else {
      const c = await claimExperiment(this.lab, e.id, e.attempt, this.opts()).catch(err => {
        // The remote cannot be reached: asking again every tick would only repeat the wait.
        this.lost.set(`${e.id}.${e.attempt}`, this.lab.now().getTime() + 10_000)
        throw err
      })
      // Checked while the caller prepares the run (a refresh, and a fetch with a remote, on every claim's path).
      if (c.won) return { position: c.position, queued: this.stillQueued(e) }
    }
    const key = `${e.id}.${e.attempt}`
    const held = await readClaim(this.lab, e.id, e.attempt, true)
    if (!held) { this.lost.set(key, this.lab.now().getTime() + 1000); return null }
    // What the worker picked from may be a tick old: a claimer that ran the attempt, recorded it and exited leaves a
    // claim of a dead process. An attempt with a recorded runner is never taken over (its job is re-attached to).
    const now = (await this.lab.state()).experiments[e.id]
    if (!now || now.status !== 'queued' || now.attempt !== e.attempt || now.runners[e.attempt]) {
      this.lost.set(key, this.lab.now().getTime() + leaseOf(held.claim))
      return null
    }
    const dead = held.claim.writer === this.lab.identity.writer && held.claim.host === hostname() && held.claim.pid !== process.pid &&
      !alive(held.claim.pid) && !(await this.o.holds(e))
    const wait = dead ? 0 : await this.watch.remaining(held)
    if (wait === 0) {
      const c = await claimExperiment(this.lab, e.id, e.attempt, { ...this.opts(), replacing: held.position })
      if (c.won) {
        const why = dead ? 'its process is gone' : `not renewed for ${Math.round(leaseOf(held.claim) / 1000)}s`
        this.o.log(`${e.id}: took over the claim of ${held.claim.worker} on ${held.claim.host} (${why})`)
        return sure(c.position)
      }
    }
    this.lost.set(key, this.lab.now().getTime() + Math.max(wait, 1000))
    return null
  }

  /**
   * After winning a fresh claim: is the attempt still queued as the records stand now? The claims of ended attempts
   * are removed (src/lab/claim-sweep.ts) once the end is on the remote, so a claim can be won on an attempt this
   * worker picked from an older state: the records are fetched again, and an attempt that ended or has a runner is
   * not run (its claim is given back, `giveBack`).
   */
  private async stillQueued(e: Experiment): Promise<boolean> {
    const r = this.lab.remote
    // (This process's own writes in flight first: a look at refs they are moving would fold their records itself.)
    await Promise.all([r ? this.lab.repo.fetch(r, [labRefspecs(r)[0]]).catch(() => undefined) : null, this.o.settled?.()])
    const now = (await this.lab.state()).experiments[e.id]
    if (now && now.status === 'queued' && now.attempt === e.attempt && !now.runners[e.attempt]) return true
    this.lost.set(`${e.id}.${e.attempt}`, this.lab.now().getTime() + 60_000)
    return false
  }

  /** Gives back a claim won on an attempt that was no longer queued (Won.queued). */
  async giveBack(e: Experiment, position: ClaimPosition): Promise<void> {
    this.lost.set(`${e.id}.${e.attempt}`, this.lab.now().getTime() + 60_000)
    await releaseClaim(this.lab, e.id, e.attempt, position)
  }

  /** Renews a claim this worker holds. Throws when the remote cannot be reached (the claim may still stand). */
  async renew(id: string, attempt: number, position: ClaimPosition): Promise<Renewal> {
    const c = await claimExperiment(this.lab, id, attempt, { ...this.opts(), replacing: position })
    if (c.won) return { position: c.position }
    const now = await readClaim(this.lab, id, attempt, true).catch(() => null)
    return { lost: now ? `its claim was taken over by ${now.claim.worker} on ${now.claim.host}` : 'its claim was removed' }
  }
}
