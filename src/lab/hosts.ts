// The lab's SSH hosts: records every clone shares (host.add / host.remove), never credentials.
import type { Lab } from './lab.ts'
import type { Host } from '../store/state.ts'
import { ENTITY_RE } from '../store/op.ts'
import { HOST_ADDRESS_RE, HOST_USER_RE } from '../store/ops/host.ts'
import { InvalidError, NotFoundError } from '../errors.ts'
import { checkTags } from './ideas.ts'

export interface HostOptions {
  /** [user@]host[:port], or [user@][v6addr]:port */
  target: string
  /** a count, or 'auto' (what nvidia-smi -L lists there) */
  gpus?: string
  workdir?: string
  jobs?: number
  tags?: string[]
}

/** "ann@gpu1.example.com:2222" -> its parts; anything else is refused with what a target looks like. */
export function parseTarget(t: string): { user: string | null; address: string; port: number | null } {
  const m = /^(?:([^@]+)@)?(?:\[([0-9A-Fa-f:.]+)\]|([^:@[\]]+))(?::(\d{1,5}))?$/.exec(t)
  const bad = () => new InvalidError(`invalid host ${JSON.stringify(t)}: give [user@]host[:port], e.g. ann@gpu1.example.com:2222`)
  if (!m) throw bad()
  const [, user, v6, name, port] = m
  const address = v6 ?? name
  if (!HOST_ADDRESS_RE.test(address) || (user !== undefined && !HOST_USER_RE.test(user))) throw bad()
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) throw bad()
  return { user: user ?? null, address, port: port === undefined ? null : Number(port) }
}

export function checkHostName(name: string): string {
  if (!ENTITY_RE.test(name)) throw new InvalidError(`invalid host name ${JSON.stringify(name)}: 3 to 64 of a-z, 0-9, _ and -, starting with a letter or digit`)
  return name
}

export async function addHost(lab: Lab, name: string, o: HostOptions): Promise<Host> {
  checkHostName(name)
  const { user, address, port } = parseTarget(o.target)
  let gpus: number | null = null
  if (o.gpus !== undefined && o.gpus !== 'auto') {
    if (!/^\d{1,4}$/.test(o.gpus) || Number(o.gpus) > 1024) throw new InvalidError(`invalid --gpus ${JSON.stringify(o.gpus)}: a count (0 to 1024) or auto`)
    gpus = Number(o.gpus)
  }
  if (o.workdir !== undefined && (o.workdir === '' || /[\0\n\r]/.test(o.workdir) || o.workdir.length > 1024)) {
    throw new InvalidError('invalid --workdir: one line of 1 to 1024 characters')
  }
  if (o.jobs !== undefined && (!Number.isSafeInteger(o.jobs) || o.jobs < 1 || o.jobs > 1024)) throw new InvalidError('--jobs must be from 1 to 1024')
  const tags = checkTags(o.tags ?? [])
  const s = await lab.write([{
    type: 'host.add', entity: name,
    payload: { address, user, port, gpus, workdir: o.workdir ?? null, jobs: o.jobs ?? null, tags },
  }], `host add ${name}`)
  return s.hosts[name]
}

export async function removeHost(lab: Lab, name: string): Promise<void> {
  await getHost(lab, name)
  await lab.write([{ type: 'host.remove', entity: name, payload: {} }], `host remove ${name}`)
}

export async function getHost(lab: Lab, name: string): Promise<Host> {
  const h = (await lab.state()).hosts[name]
  if (!h) throw new NotFoundError(`unknown host ${JSON.stringify(name)}: see 'git lab hosts'`)
  return h
}

export async function listHosts(lab: Lab): Promise<Host[]> {
  return Object.values((await lab.state()).hosts).sort((a, b) => a.name < b.name ? -1 : 1)
}
