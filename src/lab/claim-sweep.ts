// Claims of ended attempts are removed (here, on the lab remote, and this clone's copies of the remote's), so claim
// refs grow with running work, not with history: every fetch and push lists them all.
import type { Lab } from './lab.ts'
import { remoteClaimsPrefix, remoteWriterRef, writerRef } from '../store/layout.ts'
import { TERMINAL, type State } from '../store/state.ts'

/** At most this many attempts' claims per sweep (one push, one ref transaction): a backlog goes over a few syncs. */
export const SWEEP_LIMIT = 200

/**
 * Removes the claims of attempts the state shows ended, once the end is on the lab remote: a claim is what stops a
 * second worker from running an attempt, so it may only go when every clone that could still see the attempt queued
 * would fetch its end first. Ended: the attempt is terminal, or a later attempt exists. On the remote: recorded by
 * another writer (this clone read it from the lab remote), or this clone's log is pushed (its ref equals the remote's
 * copy). A worker that claims an attempt checks its state again after winning (Claimer.claim), which closes the
 * window of a clone that picked from a state fetched before the end was pushed. Returns how many attempts it swept.
 */
export async function sweepClaims(lab: Lab, state: State, limit = SWEEP_LIMIT): Promise<number> {
  const remote = lab.remote
  const own = lab.identity.writer
  const tracking = remote ? remoteClaimsPrefix(remote) : null
  const patterns = ['refs/lab/claims/', ...(tracking ? [tracking] : []), ...(remote && own ? [writerRef(own), remoteWriterRef(remote, own)] : [])]
  const refs = await lab.repo.forEachRef(patterns)
  const sha = new Map(refs.map(r => [r.ref, r.sha]))
  const pushed = !remote || !own || (sha.get(writerRef(own)) ?? null) === (sha.get(remoteWriterRef(remote, own)) ?? null)
  const attempts = new Map<string, { local?: string; tracking?: string }>()
  for (const { ref, sha: s } of refs) {
    const local = ref.startsWith('refs/lab/claims/')
    const rest = local ? ref.slice('refs/lab/claims/'.length) : tracking && ref.startsWith(tracking) ? ref.slice(tracking.length) : null
    if (!rest || !/^[a-z0-9][a-z0-9_-]{2,63}\/[1-9][0-9]{0,8}$/.test(rest)) continue
    const a = attempts.get(rest) ?? {}
    if (local) a.local = s
    else a.tracking = s
    attempts.set(rest, a)
  }
  const done: Array<{ key: string; local?: string; tracking?: string }> = []
  for (const [key, a] of attempts) {
    if (done.length >= limit) break
    const [id, n] = key.split('/')
    const attempt = Number(n)
    const e = Object.hasOwn(state.experiments, id) ? state.experiments[id] : undefined
    // Unknown here: `git lab run` claims before it records, so its claim may come first.
    if (!e || !(e.attempt > attempt || (e.attempt === attempt && TERMINAL.has(e.status)))) continue
    const runner = Object.hasOwn(e.runners, n) ? e.runners[n] : undefined
    if (!pushed && (!runner || runner.writer === own)) continue
    done.push({ key, ...a })
  }
  if (done.length === 0) return 0
  if (remote) {
    const onRemote = done.filter(d => d.tracking).map(d => ({ ref: `refs/lab/claims/${d.key}`, sha: d.tracking! }))
    // Refused (the remote holds another value) or unreachable: the next sweep tries again; the copies go either way,
    // a fetch brings back any the remote still has.
    await lab.repo.pushDeletes(remote, onRemote).catch(() => undefined)
  }
  await lab.repo.deleteRefs(done.flatMap(d => [
    ...(d.local ? [{ ref: `refs/lab/claims/${d.key}`, sha: d.local }] : []),
    ...(d.tracking && tracking ? [{ ref: `${tracking}${d.key}`, sha: d.tracking }] : []),
  ]))
  return done.length
}
