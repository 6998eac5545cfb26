// host.add / host.remove: the lab's SSH hosts (where to reach them, how many GPUs and jobs). No secrets: credentials
// stay in each clone (ssh-agent, ~/.ssh/config, lab.host.<name>.identity).
import type { OpKind } from './kind.ts'
import { checkFields, int, list, tag, strs, type Check } from './check.ts'
import { dict } from '../safe-json.ts'

/** A DNS name, an IPv4 address or a bracketless IPv6 address; never starting with '-' (read as an option by ssh). */
export const HOST_ADDRESS_RE = /^(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,252})|[0-9A-Fa-f:.]{2,45})$/
/** POSIX login names (and the usual extensions: dots, a trailing $ is not allowed here). */
export const HOST_USER_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/

const address: Check = v => typeof v === 'string' && HOST_ADDRESS_RE.test(v) ? null : 'not a host name or address'
const user: Check = v => v === null || v === undefined ? null : typeof v === 'string' && HOST_USER_RE.test(v) ? null : 'not a user name'
/** Any path (it is quoted wherever it is used), but one line, no NUL, and not empty. */
export const workdirCheck: Check = v => v === null || v === undefined ? null :
  typeof v !== 'string' ? 'not a string' : v.length === 0 || v.length > 1024 ? 'not 1..1024 characters' :
  /[\0\n\r]/.test(v) ? 'holds a NUL or a line break' : null

export const hostAdd: OpKind = {
  type: 'host.add',
  validate: p => checkFields(p, {
    address, user, port: int(1, 65535, true), gpus: int(0, 1024, true), workdir: workdirCheck, jobs: int(1, 1024, true),
    tags: list(tag, 64),
  }),
  apply(s, op) {
    const p = op.payload
    s.hosts ??= dict()
    s.hosts[op.entity] = {
      name: op.entity, address: String(p.address), user: typeof p.user === 'string' ? p.user : null,
      port: typeof p.port === 'number' ? p.port : null, gpus: typeof p.gpus === 'number' ? p.gpus : null,
      workdir: typeof p.workdir === 'string' ? p.workdir : null, jobs: typeof p.jobs === 'number' ? p.jobs : null,
      tags: [...new Set(strs(p.tags))].sort(), writer: op.writer, updated_at: op.time,
    }
    return null
  },
}

export const hostRemove: OpKind = {
  type: 'host.remove',
  validate: () => null,
  apply(s, op) {
    if (!s.hosts?.[op.entity]) return `unknown host ${op.entity}`
    delete s.hosts[op.entity]
    return null
  },
}
