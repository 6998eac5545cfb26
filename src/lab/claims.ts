// Claims: which worker runs an experiment's attempt, decided by compare-and-swap on refs/lab/claims/<id>/<attempt>
// (an atomic push with a lease when the lab has a remote, a local ref create otherwise). Exactly one claimer wins.
import { hostname } from 'node:os'
import type { Lab } from './lab.ts'
import { InvalidError, LabError } from '../errors.ts'
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
  /** the claim lapses then unless renewed (a heartbeat writes a new claim over this one) */
  expires_at: string
}

export const claimRef = (id: string, attempt: number) => `refs/lab/claims/${id}/${attempt}`

export interface ClaimOptions {
  worker?: string
  leaseSeconds?: number
  /** take over (or renew) the claim that is at this sha now; without it the claim must not exist yet */
  replacing?: string
  /** decide with a local ref even when the lab has a remote (the experiment was never pushed: nobody else sees it) */
  local?: boolean
}

export interface ClaimResult { won: boolean; sha: string; claim: Claim }

export async function claimExperiment(lab: Lab, id: string, attempt: number, o: ClaimOptions = {}): Promise<ClaimResult> {
  const writer = lab.requireWriter()
  if (!/^[a-z0-9][a-z0-9_-]{2,63}$/.test(id) || !Number.isSafeInteger(attempt) || attempt < 1) throw new InvalidError(`invalid claim ${id}/${attempt}`)
  const now = lab.now()
  const claim: Claim = {
    experiment: id, attempt, writer, worker: (o.worker ?? lab.identity.name).slice(0, 200), host: hostname().slice(0, 255), pid: process.pid,
    time: now.toISOString(), expires_at: new Date(now.getTime() + (o.leaseSeconds ?? 120) * 1000).toISOString(),
  }
  const [sha] = await lab.repo.writeCommits([{
    files: [{ path: 'claim.json', data: JSON.stringify(claim) + '\n' }],
    message: `claim ${id}/${attempt} by ${claim.worker}\n`, author: lab.ident(),
  }])
  const ref = claimRef(id, attempt)
  const expect = o.replacing ?? null
  let won: boolean
  if (lab.remote && !o.local) {
    try {
      won = await lab.repo.pushLease(lab.remote, ref, sha, expect)
    } catch (e) {
      throw new LabError(`cannot claim ${id} on ${lab.remote}: ${(e as Error).message}`)
    }
    // The remote decided; record the outcome locally too (the push also updated the remote-tracking ref).
    if (won) await lab.repo.updateRef(ref, sha, await lab.repo.revParse(ref))
  } else {
    won = await lab.repo.updateRef(ref, sha, expect)
  }
  return { won, sha, claim }
}

/**
 * The claim of an attempt as this clone knows it. With a remote the remote decides, so its claim (as last fetched;
 * `fetch` brings it now) comes first, then the local ref.
 */
export async function readClaim(lab: Lab, id: string, attempt: number, fetch = false): Promise<{ sha: string; claim: Claim } | null> {
  const ref = claimRef(id, attempt)
  const tracking = lab.remote ? `${remoteClaimsPrefix(lab.remote)}${id}/${attempt}` : null
  if (fetch && lab.remote && tracking) await lab.repo.fetch(lab.remote, [`+${ref}:${tracking}`]).catch(() => undefined)
  const candidates = [tracking, ref].filter((x): x is string => !!x)
  for (const r of candidates) {
    const obj = await lab.repo.catFile.read(`${r}:claim.json`, 64 * 1024)
    if (!obj?.data) continue
    try {
      const claim = checkClaim(parseBounded(obj.data.toString('utf8'), 64 * 1024), id, attempt)
      if (!claim) continue
      const sha = (await lab.repo.revParse(r))!
      return { sha, claim }
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
    Number.isFinite(Date.parse(c.expires_at as string))
  return ok ? { experiment: id, attempt, writer: c.writer as string, worker: c.worker as string, host: c.host as string,
    pid: c.pid as number, time: c.time as string, expires_at: c.expires_at as string } : null
}
