// Claims: which worker runs an experiment's attempt, decided by compare-and-swap on refs/lab/claims/<id>/<attempt>:
// this clone's ref first (among its own processes), then, with a lab remote, an atomic push with a lease (among clones).
import { readFile, rename, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import path from 'node:path'
import type { Lab } from './lab.ts'
import type { CommitSpec } from '../git/fast-import.ts'
import { InvalidError, LabError, type GitError } from '../errors.ts'
import { isWriterId, remoteClaimsPrefix } from '../store/layout.ts'
import { parseBounded } from '../store/safe-json.ts'

export interface Claim {
  experiment: string
  attempt: number
  writer: string
  worker: string
  host: string
  pid: number
  time: string
  /** the claimer's time plus its lease: only the difference with `time` (the lease) is read, never compared with a clock */
  expires_at: string
}

/** Where a claim stands: the sha the lab remote holds (null: none, or no remote) and the sha of this clone's ref. */
export interface ClaimPosition { remote: string | null; local: string | null }

export const claimRef = (id: string, attempt: number) => `refs/lab/claims/${id}/${attempt}`

export interface ClaimOptions {
  worker?: string
  leaseSeconds?: number
  /** renew or take over the claim that stands here now (a sha: both refs at it); without it no claim may exist yet */
  replacing?: ClaimPosition | string
  /**
   * When the lab remote cannot be reached, a claim this clone's ref alone decides is enough (git lab run: its
   * experiment is not pushed, so no other clone can claim it); a later renewal publishes it. Without it such a claim
   * fails and leaves nothing behind.
   */
  offline?: boolean
}

export interface ClaimResult {
  won: boolean
  sha: string
  claim: Claim
  /** where the claim stands after this (for the next renewal) */
  position: ClaimPosition
  /** won with this clone's ref only: why the remote could not be reached */
  offline?: string
}

export async function claimExperiment(lab: Lab, id: string, attempt: number, o: ClaimOptions = {}): Promise<ClaimResult> {
  const writer = lab.requireWriter()
  if (!/^[a-z0-9][a-z0-9_-]{2,63}$/.test(id) || !Number.isSafeInteger(attempt) || attempt < 1) throw new InvalidError(`invalid claim ${id}/${attempt}`)
  const now = lab.now()
  const claim: Claim = {
    experiment: id, attempt, writer, worker: (o.worker ?? lab.identity.name).slice(0, 200), host: hostname().slice(0, 255), pid: process.pid,
    time: now.toISOString(), expires_at: new Date(now.getTime() + (o.leaseSeconds ?? 120) * 1000).toISOString(),
  }
  const spec = {
    files: [{ path: 'claim.json', data: JSON.stringify(claim) + '\n' }],
    message: `claim ${id}/${attempt} by ${claim.worker}\n`, author: lab.ident(),
  }
  const ref = claimRef(id, attempt)
  const was: ClaimPosition = typeof o.replacing === 'string' ? { remote: o.replacing, local: o.replacing } : o.replacing ?? { remote: null, local: null }
  // This clone's ref first: every process of the clone (run, workers) meets here, so a claim this clone holds binds
  // them all, also one made while the remote was unreachable. A first claim is made and its ref created by one
  // fast-import (which creates the ref only where there is none); a renewal replaces the claim: compare-and-swap.
  const { sha, moved } = was.local === null ? await firstClaim(lab, spec, ref) : await renewal(lab, spec, ref, was.local)
  const lost = { won: false, sha, claim, position: was }
  if (!moved) return lost
  if (!lab.remote) return { won: true, sha, claim, position: { remote: null, local: sha } }
  const undo = () => (was.local ? lab.repo.updateRef(ref, was.local, sha) : lab.repo.deleteRef(ref, sha)).catch(() => undefined)
  let won: boolean
  try {
    won = await lab.repo.pushLease(lab.remote, ref, sha, was.remote)
  } catch (e) {
    const why = (e as Error).message
    if (o.offline) return { won: true, sha, claim, position: { remote: was.remote, local: sha }, offline: why }
    await undo()
    throw new LabError(`cannot claim ${id} on ${lab.remote}: ${why}`)
  }
  // The remote decides between clones: a claim it refused is not this clone's either.
  if (!won) { await undo(); return lost }
  return { won: true, sha, claim, position: { remote: sha, local: sha } }
}

async function firstClaim(lab: Lab, spec: CommitSpec, ref: string): Promise<{ sha: string; moved: boolean }> {
  try {
    const r = await lab.repo.appendCommits([spec], ref, null)
    return { sha: r.shas[0], moved: r.moved }
  } catch (e) {
    if (lostLock(e)) return { sha: '', moved: false }
    throw e
  }
}

async function renewal(lab: Lab, spec: CommitSpec, ref: string, was: string): Promise<{ sha: string; moved: boolean }> {
  const [sha] = await lab.repo.writeCommits([spec])
  return { sha, moved: await casLocal(lab, ref, sha, was) }
}

/** A failure to lock the ref, or a value gone again by the time it is read: a race lost to another claimer. */
const lostLock = (e: unknown) =>
  /cannot lock ref|reference already exists|but expected|\.lock'?: File exists|Unable to create/i.test(`${(e as GitError).stderr ?? ''} ${(e as Error).message}`)

/**
 * Compare-and-swap on this clone's claim ref. Racing claimers lock the same ref, and a loser on the remote deletes
 * the one it made: a failure to lock it (or a value gone again by the time it is read) is a lost race, not an error.
 */
async function casLocal(lab: Lab, ref: string, sha: string, expect: string | null): Promise<boolean> {
  try {
    return await lab.repo.updateRef(ref, sha, expect)
  } catch (e) {
    if (lostLock(e)) return false
    throw e
  }
}

/** Gives up a claim this process holds and never used (git lab run that could not start its experiment). */
export async function releaseClaim(lab: Lab, id: string, attempt: number, at: ClaimPosition): Promise<void> {
  const ref = claimRef(id, attempt)
  if (at.remote && lab.remote) await lab.repo.pushLease(lab.remote, ref, null, at.remote).catch(() => false)
  if (at.local) await lab.repo.deleteRef(ref, at.local).catch(() => undefined)
}

export interface HeldClaim { sha: string; claim: Claim; position: ClaimPosition }

/**
 * The claim of an attempt as this clone knows it. With a remote the remote decides, so its claim (as last fetched;
 * `fetch` brings it now) comes first, then this clone's ref (a claim made here while the remote was unreachable).
 */
export async function readClaim(lab: Lab, id: string, attempt: number, fetch = false): Promise<HeldClaim | null> {
  const ref = claimRef(id, attempt)
  const tracking = lab.remote ? `${remoteClaimsPrefix(lab.remote)}${id}/${attempt}` : null
  if (fetch && lab.remote) {
    // The experiment's claims as a pattern, pruned: no error when there is none, and a released one disappears here too.
    const prefix = remoteClaimsPrefix(lab.remote)
    await lab.repo.fetch(lab.remote, [`+refs/lab/claims/${id}/*:${prefix}${id}/*`], { prune: true }).catch(() => undefined)
  }
  const [remoteSha, localSha] = await Promise.all([tracking ? lab.repo.revParse(tracking) : null, lab.repo.revParse(ref)])
  const position = { remote: remoteSha, local: localSha }
  for (const [r, sha] of [[tracking, remoteSha], [ref, localSha]] as const) {
    if (!r || !sha) continue
    const obj = await lab.repo.catFile.read(`${sha}:claim.json`, 64 * 1024)
    if (!obj?.data) continue
    try {
      const claim = checkClaim(parseBounded(obj.data.toString('utf8'), 64 * 1024), id, attempt)
      if (claim) return { sha, claim, position }
    } catch { /* unreadable claim: try the next */ }
  }
  return null
}

/** A claim as another clone wrote it, if it is well formed and names this attempt; null otherwise. */
export function checkClaim(o: unknown, id: string, attempt: number): Claim | null {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return null
  const c = o as Record<string, unknown>
  const str = (k: string, max: number) => typeof c[k] === 'string' && (c[k] as string).length <= max
  const ok = c.experiment === id && c.attempt === attempt && typeof c.writer === 'string' && isWriterId(c.writer) &&
    str('worker', 200) && str('host', 255) && Number.isSafeInteger(c.pid) && str('time', 40) && str('expires_at', 40) &&
    Number.isFinite(Date.parse(c.expires_at as string)) && Number.isFinite(Date.parse(c.time as string))
  return ok ? { experiment: id, attempt, writer: c.writer as string, worker: c.worker as string, host: c.host as string,
    pid: c.pid as number, time: c.time as string, expires_at: c.expires_at as string } : null
}

/** The lease a claim declares (expires_at - time, both the claimer's clock: a duration, free of clock skew), bounded. */
export function leaseOf(c: Claim): number {
  const ms = Date.parse(c.expires_at) - Date.parse(c.time)
  return Math.min(Math.max(Number.isFinite(ms) ? ms : 0, 3000), 86_400_000)
}

/**
 * Whether a claim's holder is gone, judged on this machine's clock alone: a live holder renews its claim every third
 * of its lease, so a claim this clone has seen at the same sha for longer than its lease was not renewed. The claim's
 * own times are never compared with the local clock, so hosts whose clocks disagree do not take live claims over.
 * First sightings are kept in `.git/lab/claims-seen.json` (this clone, this machine's clock), so a worker started later
 * (`--once`) counts from when any process of the clone first saw the claim. A lost update only restarts a count.
 */
export class ClaimWatch {
  private seen: Record<string, [string, number]> | null = null
  constructor(private readonly lab: Lab) {}

  private get file() { return path.join(this.lab.repo.commonDir, 'lab', 'claims-seen.json') }

  /** ms this clone has seen the claim at this sha (0 when first seen now), by lab.now(). */
  async age(held: HeldClaim): Promise<number> {
    const key = `${held.claim.experiment}/${held.claim.attempt}`
    const now = this.lab.now().getTime()
    const disk = await readFile(this.file, 'utf8').then(t => JSON.parse(t) as Record<string, [string, number]>, () => ({}))
    this.seen = Object.assign(Object.create(null) as Record<string, [string, number]>, this.seen ?? {}, typeof disk === 'object' && disk ? disk : {})
    const at = this.seen[key]
    if (Array.isArray(at) && at[0] === held.sha && Number.isFinite(at[1]) && at[1] <= now) return now - at[1]
    this.seen[key] = [held.sha, now]
    // Sightings older than a day are of claims long settled: dropped, so the file stays small.
    for (const [k, v] of Object.entries(this.seen)) if (!Array.isArray(v) || now - v[1] > 86_400_000) delete this.seen[k]
    const tmp = `${this.file}.${process.pid}.tmp`
    await writeFile(tmp, JSON.stringify(this.seen) + '\n').then(() => rename(tmp, this.file)).catch(() => undefined)
    return 0
  }

  /** ms until the claim counts as expired (0: it has, now). */
  async remaining(held: HeldClaim): Promise<number> {
    return Math.max(0, leaseOf(held.claim) - (await this.age(held)))
  }
}
