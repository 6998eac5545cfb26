// Experiments: submit (snapshot + run spec), list, inspect, cancel, tag, note, diff, checkout.
import type { Lab } from './lab.ts'
import { newId } from './lab.ts'
import { resolveId } from './ids.ts'
import { newestFirst } from './order.ts'
import { checkTags, checkText } from './ideas.ts'
import { snapshotWorktree } from './snapshot.ts'
import { recordCheckout } from './hook-trailer.ts'
import { expandSweep, paramSpec, type ParamSpec } from './params.ts'
import { matchesAll, type Where } from './where.ts'
import { AmbiguousError, ConflictError, InvalidError, NotFoundError, StateError } from '../errors.ts'
import { STATUSES, TERMINAL, type Experiment } from '../store/state.ts'

export interface SubmitOptions {
  /** the id to record it under (newId()): git lab run claims its experiment before recording it */
  id?: string
  message: string
  run: string
  setup?: string
  idea?: string
  from?: string
  priority?: number
  tags?: string[]
  gpus?: number
  dependsOn?: string[]
  noCode?: boolean
  /** the code is exactly the commit `from` (or HEAD) names, with no snapshot of the working tree (the post-commit hook) */
  exact?: boolean
  timeout?: string
  /** untracked files to snapshot even if they look like secrets (paths from the current directory) */
  include?: string[]
  /** name -> values (parseParams): one value each queues one experiment, lists queue every combination (a sweep) */
  params?: ParamSpec
  /** run it on this SSH host only (a name from `git lab hosts`) */
  host?: string
  /** run it on any SSH host with this tag */
  hostTag?: string
}

export interface Submitted {
  /** the first (the only one unless a sweep) */
  experiment: Experiment
  /** every experiment queued, in the sweep's order (the first param varying slowest) */
  experiments: Experiment[]
  /** the sweep's id when several were queued (also their tag `sweep:<id>`), else null */
  sweep: string | null
  /** untracked files that look like secrets, left out of the snapshot (paths from the current directory) */
  leftOut: string[]
}

/** The longest timeout an experiment may have (what readers accept). */
export const MAX_TIMEOUT = 10 * 365 * 86400

/** "90", "90s", "15m", "2h", "1h30m", "1d" -> seconds, from 1 s to MAX_TIMEOUT. */
export function parseDuration(text: string): number {
  const t = text.trim()
  const s = /^\d+$/.test(t) ? Number(t) : parseUnits(text, t)
  if (!(s >= 1 && s <= MAX_TIMEOUT)) throw new InvalidError(`invalid duration ${JSON.stringify(text)}: from 1s to ${MAX_TIMEOUT / 86400}d`)
  return s
}

function parseUnits(text: string, t: string): number {
  const re = /(\d+(?:\.\d+)?)(d|h|m|s)/gy
  let total = 0
  let m: RegExpExecArray | null
  let used = 0
  while ((m = re.exec(t))) { total += Number(m[1]) * { d: 86400, h: 3600, m: 60, s: 1 }[m[2] as 'd']; used = re.lastIndex }
  if (!t || used !== t.length || total <= 0) throw new InvalidError(`invalid duration ${JSON.stringify(text)}: use e.g. 90s, 15m, 2h, 1h30m`)
  return Math.round(total)
}

function intOption(name: string, v: number | undefined, min: number, max: number, dflt: number): number {
  if (v === undefined) return dflt
  if (!Number.isSafeInteger(v) || v < min || v > max) throw new InvalidError(`--${name} must be an integer from ${min} to ${max}`)
  return v
}

export async function getExperiment(lab: Lab, id: string): Promise<Experiment> {
  const s = await lab.state()
  return s.experiments[resolveId('experiment', s.experiments, id)]
}

/** The commit an experiment id or a git revision names. */
async function resolveCode(lab: Lab, ref: string): Promise<string> {
  const s = await lab.state()
  let id: string | null = null
  try {
    id = resolveId('experiment', s.experiments, ref)
  } catch (err) {
    if (err instanceof AmbiguousError) throw err // a prefix of several experiments: say so rather than guess
  }
  if (id) {
    const commit = s.experiments[id].commit
    if (!commit) throw new StateError(`experiment ${id} has no code`)
    return commit
  }
  const sha = await lab.repo.revParse(`${ref}^{commit}`)
  if (!sha) throw new NotFoundError(`--from ${JSON.stringify(ref)} is neither an experiment nor a git revision`)
  return sha
}

export async function submit(lab: Lab, o: SubmitOptions): Promise<Submitted> {
  lab.requireWriter()
  const message = checkText('message (-m)', o.message)
  const run = checkText('run command (--run)', o.run)
  const setup = o.setup === undefined ? null : checkText('setup command (--setup)', o.setup)
  const priority = intOption('priority', o.priority, -1_000_000, 1_000_000, 0)
  const gpus = intOption('gpus', o.gpus, 0, 1024, 0)
  const timeout = o.timeout === undefined ? null : parseDuration(o.timeout)
  const combos = expandSweep(paramSpec(o.params ?? {}, '--param'))
  // A sweep is one write: its experiments share the snapshot, the commit, and a tag that lists them (`log --tag`).
  const sweep = combos.length > 1 ? newId() : null
  const tags = checkTags([...(o.tags ?? []), ...(sweep ? [`sweep:${sweep}`] : [])])
  // Ascending ids: experiments made at one time are listed by id, so `log` shows a sweep in its order.
  const ids = o.id && combos.length === 1 ? [o.id] : combos.map(() => newId()).sort()
  // (no params, no sweep: the fields are left out, as older versions wrote the record)
  if (o.host !== undefined && o.hostTag !== undefined) throw new InvalidError('give --host or --host-tag, not both')
  if (o.hostTag !== undefined) checkTags([o.hostTag])
  const pin = { ...(o.host !== undefined ? { host: o.host } : {}), ...(o.hostTag !== undefined ? { host_tag: o.hostTag } : {}) }
  const optional = (i: number) => ({ ...(Object.keys(combos[i]).length ? { params: combos[i] } : {}), ...(sweep ? { sweep } : {}), ...pin })
  const record = (i: number, extra: Record<string, unknown>) => ({
    type: 'experiment.queue', entity: ids[i], payload: { message, run, setup, priority, tags, gpus, timeout, ...optional(i), ...extra },
  })
  // What readers would refuse (an author name too long, ...) is refused before the snapshot writes a single object.
  lab.check(combos.map((_, i) => record(i, {})))
  // The snapshot and HEAD do not depend on the index: start them while it refreshes.
  // A bare repository has no working tree: its code is the commit itself (HEAD, or --from).
  const treeP = o.noCode || o.exact || !lab.repo.topLevel ? null : snapshotWorktree(lab, o.include)
  const headP = lab.repo.head()
  // (HEAD's tree too, to compare with the snapshot's: asked while git adds)
  const headTreeP = o.from || !treeP ? null : headP.then(h => h ? lab.repo.treeOf(h) : null)
  treeP?.catch(() => undefined)
  headTreeP?.catch(() => undefined)
  const s = await lab.state()
  if (o.host !== undefined && !s.hosts[o.host]) throw new NotFoundError(`unknown host ${JSON.stringify(o.host)}: see 'git lab hosts'`)
  const idea = o.idea ? resolveId('idea', s.ideas, o.idea) : null
  const dependsOn = [...new Set((o.dependsOn ?? []).map(d => resolveId('experiment', s.experiments, d)))]
  let commit: string | null = null
  let leftOut: string[] = []
  let base: string | null = null
  const snapshots = []
  if (!o.noCode) {
    base = o.from ? await resolveCode(lab, o.from) : await headP
    if (!treeP && !base) throw new StateError('this bare repository has no commit at HEAD to take the code from: give --from REV, or --no-code')
    const { tree, leftOut: left } = treeP ? await treeP : { tree: null, leftOut: [] }
    leftOut = left
    if (base && (tree === null || (await (headTreeP ?? lab.repo.treeOf(base))) === tree)) commit = base
    else if (tree !== null) {
      const spec = { tree, from: base, message: `lab snapshot: ${message.split('\n')[0].slice(0, 200)}\n`, author: lab.ident() }
      commit = lab.repo.commitSha(spec)
      snapshots.push({ sha: commit, spec })
    }
  }
  const summary = sweep ? `sweep ${sweep}: ${ids.length} experiments: ${message}` : `experiment ${ids[0]}: ${message}`
  const state = await lab.write(combos.map((_, i) => record(i, { commit, base, idea, depends_on: dependsOn })), summary, snapshots)
  const experiments = ids.map(id => state.experiments[id])
  return { experiment: experiments[0], experiments, sweep, leftOut }
}

/** The commit the worktree's HEAD is at (null in a bare repository or on an unborn branch). */
export async function headCommit(lab: Lab): Promise<string | null> {
  return lab.repo.topLevel ? lab.repo.head() : null
}

export interface ListOptions {
  limit?: number; idea?: string; status?: string; tag?: string
  /** comparisons on params and final metrics, all of which must hold (parseWhere) */
  where?: Where[]
}

export function checkStatus(status: string | undefined): void {
  if (status && !(STATUSES as readonly string[]).includes(status)) throw new InvalidError(`unknown status ${JSON.stringify(status)}: one of ${STATUSES.join(', ')}`)
}

export async function listExperiments(lab: Lab, o: ListOptions = {}): Promise<Experiment[]> {
  checkStatus(o.status)
  const index = await lab.index()
  const s = index.state
  const idea = o.idea ? resolveId('idea', s.ideas, o.idea) : null
  const limit = o.limit && o.limit > 0 ? o.limit : Infinity
  const keep = (e: Experiment | undefined): e is Experiment => !!e && (!idea || e.idea === idea) && (!o.status || e.status === o.status) &&
    (!o.tag || e.tags.includes(o.tag)) && (!o.where?.length || matchesAll(o.where, e.params, e.metrics))
  // Work that has not ended is listed in the index: those are the only candidates for such a status.
  if (o.status && !TERMINAL.has(o.status)) return index.live.open.get().map(id => s.experiments[id]).filter(keep).sort(newestFirst).slice(0, limit)
  const list: Experiment[] = []
  for (const id of index.live.order.newest()) {
    if (list.length >= limit) break
    const e = s.experiments[id]
    if (keep(e)) list.push(e)
  }
  return list
}

export async function cancelExperiment(lab: Lab, id: string, reason?: string): Promise<Experiment> {
  const e = await getExperiment(lab, id)
  if (TERMINAL.has(e.status)) throw new ConflictError(`experiment ${e.id} already ${e.status}`)
  const payload = { reason: reason === undefined || !reason.trim() ? `cancelled by ${lab.identity.name}`.slice(0, 4096) : checkText('reason (--reason)', reason, 4096) }
  return (await lab.write([{ type: 'experiment.cancel', entity: e.id, payload }], `cancel ${e.id}`)).experiments[e.id]
}

export async function tagExperiment(lab: Lab, id: string, add: string[], remove: string[]): Promise<Experiment> {
  const e = await getExperiment(lab, id)
  if (!add.length && !remove.length) throw new InvalidError('nothing to change: give +TAG to add or -TAG to remove')
  return (await lab.write([{ type: 'experiment.tag', entity: e.id, payload: { add: checkTags(add), remove: checkTags(remove) } }], `tags on ${e.id}`)).experiments[e.id]
}

export async function noteExperiment(lab: Lab, id: string, text: string): Promise<Experiment> {
  const e = await getExperiment(lab, id)
  return (await lab.write([{ type: 'experiment.note', entity: e.id, payload: { text: checkText('note', text) } }], `note on ${e.id}`)).experiments[e.id]
}

export async function diffExperiment(lab: Lab, id: string, opts: { stat?: boolean; color?: boolean }): Promise<string> {
  const e = await getExperiment(lab, id)
  if (!e.commit) throw new StateError(`experiment ${e.id} was submitted without code`)
  return lab.repo.diff(e.base, e.commit, opts)
}

export async function checkoutExperiment(lab: Lab, id: string, force = false): Promise<Experiment> {
  const e = await getExperiment(lab, id)
  if (!e.commit) throw new StateError(`experiment ${e.id} was submitted without code`)
  if (!lab.repo.topLevel) throw new StateError(`this repository is bare: it has no working tree to check ${e.id}'s code out into`)
  if (!force && !(await lab.repo.isClean())) {
    throw new ConflictError("you have local changes: submit them first ('git lab submit') or discard them with --force")
  }
  await lab.repo.checkoutDetached(e.commit, force)
  await recordCheckout(lab, e.id, e.commit)
  return e
}
