// `git lab init`: writer id, remote and fetch refspec, hooks, objective. Idempotent.
import { randomHex } from '../random.ts'
import type { Lab } from './lab.ts'
import { labRefspecs } from './remotes.ts'
import { installHooks, type HooksResult } from './hooks.ts'
import { firstLook } from './hook-summary.ts'
import { InvalidError, NotFoundError, reasonOf } from '../errors.ts'
import type { Objective } from '../store/state.ts'

export interface InitOptions { remote?: string; objective?: string; direction?: 'minimize' | 'maximize'; fetch?: boolean }
export interface InitResult extends HooksResult {
  writer: string; created: boolean; remote: string | null
  objective: Objective | null
  /** true: lab records fetched from the remote; a string: why fetching failed; null: not asked */
  fetched: true | string | null
}

/** True if the remote's fetch refspecs carry lab records (what init sets up). */
export function isLabRemote(lab: Lab, remote: string): boolean {
  return lab.labRemotes.has(remote)
}

export async function init(lab: Lab, o: InitOptions = {}): Promise<InitResult> {
  let writer = lab.identity.writer
  const created = !writer
  if (!writer) {
    writer = randomHex(4)
    await lab.repo.configSet('lab.writer', writer)
    lab.config.set('lab.writer', [writer])
  }
  const remotes = await lab.repo.remotes()
  let remote = o.remote ?? lab.remote ?? (remotes.includes('origin') ? 'origin' : remotes.length === 1 ? remotes[0] : null)
  if (o.remote && !remotes.includes(o.remote)) throw new NotFoundError(`no remote named ${JSON.stringify(o.remote)} (remotes: ${remotes.join(', ') || 'none'})`)
  if (remote) {
    await lab.repo.configSet('lab.remote', remote)
    const key = `remote.${remote}.fetch`
    const specs = lab.config.get(key) ?? []
    for (const spec of labRefspecs(remote).filter(x => !specs.includes(x))) {
      await lab.repo.configAdd(key, spec)
      lab.config.set(key, [...(lab.config.get(key) ?? []), spec])
    }
  } else remote = null
  // A fresh clone has not fetched lab refs yet (the refspec did not exist): bring them now, so `log` shows them.
  let fetched: true | string | null = null
  if (remote && o.fetch !== false) {
    fetched = await lab.repo.fetch(remote, labRefspecs(remote)).then(() => true as const, reasonOf)
  }
  const hooks = await installHooks(lab)
  let objective = (await lab.state()).config.objective
  if (o.objective !== undefined || o.direction !== undefined) {
    if (!o.objective || !o.direction) throw new InvalidError('--objective METRIC needs --minimize or --maximize (and the other way round)')
    if (!/^[A-Za-z0-9_.:/-]{1,200}$/.test(o.objective)) throw new InvalidError(`invalid metric name ${JSON.stringify(o.objective)}`)
    objective = { metric: o.objective, direction: o.direction }
    await lab.write([{ type: 'lab.config', entity: 'lab', payload: { objective } }], `objective: ${o.direction} ${o.objective}`)
  }
  // The hooks' summaries start from here: what is in the lab already is not news.
  await firstLook(lab)
  return { writer, created, remote, ...hooks, objective, fetched }
}
