// `git lab init`: writer id, remote and fetch refspec, hooks, objective. Idempotent.
import { readFile, writeFile, rename, chmod, mkdir, access } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import type { Lab } from './lab.ts'
import { InvalidError, NotFoundError } from '../errors.ts'
import type { Objective } from '../store/state.ts'

export const HOOKS = ['pre-push']
const MARKER = 'git-lab hook'

export interface InitOptions { remote?: string; objective?: string; direction?: 'minimize' | 'maximize'; fetch?: boolean }
export interface InitResult {
  writer: string; created: boolean; remote: string | null; hooks_dir: string; hooks: string[]; chained: string[]
  objective: Objective | null
  /** true: lab records fetched from the remote; a string: why fetching failed; null: not asked */
  fetched: true | string | null
}

export const labRefspec = (remote: string) => `+refs/lab/*:refs/remotes/${remote}/lab/*`

/** True if the remote's fetch refspecs carry lab records (what init sets up). */
export async function isLabRemote(lab: Lab, remote: string): Promise<boolean> {
  const key = `remote.${remote}.fetch`
  const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  return ((await lab.repo.configMatching(`^${escaped}$`)).get(key) ?? []).includes(labRefspec(remote))
}

/** The folder holding the hook templates, next to the bundle (dist/) or the sources (src/lab/). */
async function templatesDir(): Promise<string> {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 4; i++) {
    const cand = path.join(dir, 'hooks')
    if (await access(path.join(cand, 'pre-push')).then(() => true, () => false)) return cand
    dir = path.dirname(dir)
  }
  throw new NotFoundError('cannot find git-lab hook templates (hooks/ next to the installation)')
}

async function installHook(dir: string, name: string, template: string): Promise<'installed' | 'updated' | 'chained'> {
  const target = path.join(dir, name)
  const existing = await readFile(target, 'utf8').catch(() => null)
  let result: 'installed' | 'updated' | 'chained' = 'installed'
  if (existing !== null && existing.includes(MARKER)) result = 'updated'
  else if (existing !== null) {
    const chained = `${target}.lab-chained`
    if (await access(chained).then(() => true, () => false)) throw new InvalidError(`both ${target} and ${chained} exist: merge them by hand, then run init again`)
    await rename(target, chained)
    result = 'chained'
  }
  const tmp = `${target}.lab-tmp`
  await writeFile(tmp, template)
  await chmod(tmp, 0o755)
  await rename(tmp, target)
  return result
}

export async function init(lab: Lab, o: InitOptions = {}): Promise<InitResult> {
  let writer = lab.identity.writer
  const created = !writer
  if (!writer) {
    writer = randomBytes(4).toString('hex')
    await lab.repo.configSet('lab.writer', writer)
    lab.config.set('lab.writer', [writer])
  }
  const remotes = await lab.repo.remotes()
  let remote = o.remote ?? lab.remote ?? (remotes.includes('origin') ? 'origin' : remotes.length === 1 ? remotes[0] : null)
  if (o.remote && !remotes.includes(o.remote)) throw new NotFoundError(`no remote named ${JSON.stringify(o.remote)} (remotes: ${remotes.join(', ') || 'none'})`)
  if (remote) {
    await lab.repo.configSet('lab.remote', remote)
    if (!(await isLabRemote(lab, remote))) await lab.repo.configAdd(`remote.${remote}.fetch`, labRefspec(remote))
  } else remote = null
  // A fresh clone has not fetched lab refs yet (the refspec did not exist): bring them now, so `log` shows them.
  let fetched: true | string | null = null
  if (remote && o.fetch !== false) {
    fetched = await lab.repo.fetch(remote, [labRefspec(remote)]).then(() => true as const, (e: Error) => e.message)
  }
  const hooksDir = await lab.repo.hooksDir()
  await mkdir(hooksDir, { recursive: true })
  const templates = await templatesDir()
  const chained: string[] = []
  for (const h of HOOKS) {
    if ((await installHook(hooksDir, h, await readFile(path.join(templates, h), 'utf8'))) === 'chained') chained.push(h)
  }
  let objective = (await lab.state()).config.objective
  if (o.objective !== undefined || o.direction !== undefined) {
    if (!o.objective || !o.direction) throw new InvalidError('--objective METRIC needs --minimize or --maximize (and the other way round)')
    if (!/^[A-Za-z0-9_.:/-]{1,200}$/.test(o.objective)) throw new InvalidError(`invalid metric name ${JSON.stringify(o.objective)}`)
    objective = { metric: o.objective, direction: o.direction }
    await lab.write([{ type: 'lab.config', entity: 'lab', payload: { objective } }], `objective: ${o.direction} ${o.objective}`)
  }
  return { writer, created, remote, hooks_dir: hooksDir, hooks: HOOKS, chained, objective, fetched }
}
