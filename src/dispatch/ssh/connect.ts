// Opening one SSH connection to a lab host: where it is (the host record, then ~/.ssh/config), its key checked against
// known_hosts before authentication, then the ssh-agent and the identity files this clone names. Nothing secret is
// ever read from a lab record.
import ssh2 from 'ssh2'
import type { Client as ClientType, ConnectConfig } from 'ssh2'
import { readFile } from 'node:fs/promises'
import { homedir, userInfo } from 'node:os'
import path from 'node:path'
import type { Host } from '../../store/state.ts'
import { LabError } from '../../errors.ts'
import { checkKey, readKnownHosts, type Check } from './known-hosts.ts'
import { sshConfig } from './ssh-config.ts'

export type Client = ClientType

/** Everything needed to reach a host from this clone. */
export interface Target {
  name: string
  hostname: string
  port: number
  user: string
  /** identity files to try after the agent, in order */
  identities: string[]
  agent: string | null
  home: string
  proxyJump: string | null
}

/** The host's key was refused (unknown, changed or revoked): never retried without the user acting. */
export class HostKeyError extends LabError {
  code = 'HostKey'
  constructor(message: string, readonly check: Check) { super(message, { fingerprint: check.fingerprint }) }
}
/** The host could not be reached or did not let us in: the worker retries with backoff. */
export class UnreachableError extends LabError {
  code = 'Unreachable'
  constructor(message: string, readonly step: 'resolve' | 'tcp' | 'auth' | 'ssh') { super(message) }
}

export interface TargetContext { env: NodeJS.ProcessEnv; get(key: string): string | null }

export async function resolveTarget(ctx: TargetContext, host: Host): Promise<Target> {
  const home = ctx.env.HOME || homedir()
  const cfg = await sshConfig(home, host.address)
  const named = [ctx.get(`lab.host.${host.name}.identity`), ctx.get('lab.sshIdentity') ?? ctx.get('lab.sshidentity')]
    .filter((x): x is string => !!x).map(p => p.startsWith('~/') ? path.join(home, p.slice(2)) : p)
  const defaults = ['id_ed25519', 'id_ecdsa', 'id_rsa'].map(f => path.join(home, '.ssh', f))
  let user = host.user ?? cfg.user ?? ctx.env.USER ?? ctx.env.LOGNAME ?? ''
  if (!user) try { user = userInfo().username } catch { user = 'root' }
  return {
    name: host.name, hostname: cfg.hostname ?? host.address, port: host.port ?? cfg.port ?? 22, user,
    identities: [...new Set([...named, ...cfg.identityFiles, ...defaults])], agent: ctx.env.SSH_AUTH_SOCK || null, home,
    proxyJump: cfg.proxyJump && cfg.proxyJump !== 'none' ? cfg.proxyJump : null,
  }
}

export const keyRefusal = (t: Target, c: Check): string => c.verdict === 'changed'
  ? `THE HOST KEY OF ${t.name} (${t.hostname}:${t.port}) HAS CHANGED: it offers ${c.type} ${c.fingerprint}, which is not the key in ` +
    `${path.join(t.home, '.ssh', 'known_hosts')}. Someone may be intercepting the connection, or the host was reinstalled. ` +
    `Nothing was sent. If you know why it changed, remove the old key (ssh-keygen -R ${t.port === 22 ? t.hostname : `'[${t.hostname}]:${t.port}'`}) and run 'git lab host trust ${t.name}'`
  : c.verdict === 'revoked'
    ? `the host key of ${t.name} (${c.type} ${c.fingerprint}) is marked @revoked in known_hosts: refused`
    : `the host key of ${t.name} (${t.hostname}:${t.port}) is not known: ${c.type} ${c.fingerprint}. ` +
      `Check that fingerprint with the host's administrator (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub there), then run 'git lab host trust ${t.name}'`

const SERVER_KEYS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']
/** Key algorithms whose keys known_hosts holds for this host first (as OpenSSH orders them), so a known key is offered. */
function preferKnown(known: string[]): string[] {
  const first = SERVER_KEYS.filter(a => known.includes(a) || (a.startsWith('rsa-sha2') && known.includes('ssh-rsa')))
  return [...first, ...SERVER_KEYS.filter(a => !first.includes(a))]
}

export interface ConnectOptions {
  timeoutMs?: number
  /** called with the offered key's check; true accepts it (host trust: false, to only see it) */
  onKey?: (c: Check, blob: Buffer) => boolean
  /** a stream to run the connection over (ProxyJump) */
  sock?: NodeJS.ReadableStream & NodeJS.WritableStream
}

/**
 * The hops of a ProxyJump value, in order (`[user@]host[:port]` each, comma-separated, an alias of ~/.ssh/config
 * too), each as a target of its own. (As ssh: the hops of the list are taken as they are, their own ProxyJump not.)
 */
export async function jumpTargets(t: Target, ctx: TargetContext): Promise<Target[]> {
  const hops = t.proxyJump!.split(',').map(h => h.trim())
  if (hops.length > MAX_HOPS) throw new UnreachableError(`${t.name}: ProxyJump ${JSON.stringify(t.proxyJump)} has more than ${MAX_HOPS} hops`, 'ssh')
  const out: Target[] = []
  for (const hop of hops) {
    const m = /^(?:([^@]+)@)?(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(hop)
    if (!m) throw new UnreachableError(`${t.name}: cannot read ProxyJump ${JSON.stringify(hop)} in ~/.ssh/config`, 'ssh')
    const alias = m[2] ?? m[3]
    const hostRec = { name: `${t.name} (jump ${alias})`, address: alias, user: m[1] ?? null, port: m[4] ? Number(m[4]) : null }
    const j = await resolveTarget(ctx, { ...hostRec, gpus: null, workdir: null, jobs: null, tags: [], writer: '', updated_at: '' })
    out.push({ ...j, name: hostRec.name, proxyJump: null })
  }
  return out
}

const MAX_HOPS = 8

/** A stream through `via` to `t`'s address (what the next connection runs over). */
function forward(via: Client, t: Target): Promise<NodeJS.ReadableStream & NodeJS.WritableStream> {
  return new Promise((resolve, reject) => {
    via.forwardOut('127.0.0.1', 0, t.hostname, t.port, (err, stream) => err
      ? reject(new UnreachableError(`${t.name}: the jump host cannot reach ${t.hostname}:${t.port}: ${err.message}`, 'tcp'))
      : resolve(stream))
  })
}

/** Opens a connection (through its ProxyJump hosts first, one after another, if ~/.ssh/config names them);
 *  HostKeyError for a key not accepted (any host's), UnreachableError for anything else. */
export async function connect(t: Target, o: ConnectOptions = {}, ctx?: TargetContext): Promise<Client> {
  if (!t.proxyJump || o.sock || !ctx) return connectDirect(t, o)
  const opened: Client[] = []
  const close = () => { for (const j of [...opened].reverse()) j.end() }
  try {
    for (const hop of await jumpTargets(t, ctx)) {
      const via = opened[opened.length - 1]
      opened.push(await connectDirect(hop, { timeoutMs: o.timeoutMs, ...(via ? { sock: await forward(via, hop) } : {}) }))
    }
    const c = await connectDirect(t, { ...o, sock: await forward(opened[opened.length - 1], t) })
    c.on('close', close)
    return c
  } catch (e) {
    close()
    throw e
  }
}

async function connectDirect(t: Target, o: ConnectOptions): Promise<Client> {
  const entries = await readKnownHosts(t.home)
  const keys: Buffer[] = []
  for (const f of t.identities) {
    const k = await readFile(f).catch(() => null)
    if (k) keys.push(k)
  }
  let refused: HostKeyError | null = null
  const known = entries.length ? preferKnown(entries.filter(e => !e.marker).map(e => e.type)) : SERVER_KEYS
  return new Promise<Client>((resolve, reject) => {
    const c = new ssh2.Client()
    let settled = false
    const fail = (e: Error) => { if (settled) return; settled = true; c.end(); reject(e) }
    c.on('ready', () => {
      settled = true
      const sock = (c as unknown as { _sock?: { setNoDelay?: (b: boolean) => void } })._sock
      sock?.setNoDelay?.(true)
      resolve(c)
    })
    c.on('error', (err: Error & { level?: string; code?: string }) => {
      if (refused) return fail(refused)
      const msg = err.message
      if (err.level === 'client-authentication') {
        return fail(new UnreachableError(`cannot log in to ${t.name} as ${t.user}: no key was accepted (tried ${t.agent ? 'the ssh-agent and ' : ''}` +
          `${keys.length} identity file${keys.length === 1 ? '' : 's'}). Add your public key to ~${t.user}/.ssh/authorized_keys there, ` +
          `or name a key with 'git config lab.host.${t.name}.identity ~/.ssh/KEY'`, 'auth'))
      }
      if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return fail(new UnreachableError(`cannot resolve ${t.hostname} (${t.name}): ${err.code}`, 'resolve'))
      if (err.level === 'client-socket' || err.level === 'client-timeout' || err.code) {
        return fail(new UnreachableError(`cannot connect to ${t.hostname}:${t.port} (${t.name}): ${msg}`, 'tcp'))
      }
      fail(new UnreachableError(`ssh to ${t.name} failed: ${msg}`, 'ssh'))
    })
    c.on('close', () => fail(refused ?? new UnreachableError(`${t.name} closed the connection`, 'ssh')))
    const cfg: ConnectConfig = {
      host: t.hostname, port: t.port, username: t.user, readyTimeout: o.timeoutMs ?? 20_000,
      keepaliveInterval: 15_000, keepaliveCountMax: 3,
      algorithms: { serverHostKey: known as never },
      ...(o.sock ? { sock: o.sock as never } : {}),
      hostVerifier: (blob: Buffer) => {
        const check = checkKey(entries, t.hostname, t.port, blob)
        if (o.onKey) return o.onKey(check, blob)
        if (check.verdict === 'known') return true
        refused = new HostKeyError(keyRefusal(t, check), check)
        return false
      },
      authHandler: [
        ...(t.agent ? [{ type: 'agent' as const, username: t.user, agent: t.agent }] : []),
        ...keys.map(key => ({ type: 'publickey' as const, username: t.user, key })),
      ] as never,
    }
    try { c.connect(cfg) } catch (e) { fail(new UnreachableError(`ssh to ${t.name}: ${(e as Error).message}`, 'ssh')) }
  })
}
