// `git lab host check`: each step of reaching and using a host, in order, with what failed and how to fix it.
import { lookup } from 'node:dns/promises'
import { connect as tcpConnect } from 'node:net'
import type { Lab } from '../../lab/lab.ts'
import type { Host } from '../../store/state.ts'
import { connect, HostKeyError, resolveTarget, type Client, type Target, type TargetContext } from './connect.ts'
import { checkKey, readKnownHosts } from './known-hosts.ts'
import { remoteWorkdir } from './backend.ts'
import { shCommand } from './quote.ts'
import { parseNvidiaSmi } from '../gpus.ts'

export interface Step { step: string; ok: boolean; detail: string; fix?: string }

function execOn(c: Client, cmd: string): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    c.exec(cmd, (err, ch) => {
      if (err) return reject(err)
      let out = ''
      let errText = ''
      let code = 0
      ch.on('data', (b: Buffer) => { out += b })
      ch.stderr.on('data', (b: Buffer) => { errText += b })
      ch.on('exit', (c2: number | null) => { code = c2 ?? 255 })
      ch.on('close', () => resolve({ code, out, err: errText }))
      ch.end()
    })
  })
}

/** The host key it offers, without authenticating (for check and trust). */
export function offeredKey(t: Target, ctx?: TargetContext): Promise<Buffer> {
  let key: Buffer | null = null
  return connect(t, { timeoutMs: 15_000, onKey: (_c, blob) => { key = blob; return false } }, ctx).then(
    c => { c.end(); return key! },
    e => { if (key) return key; throw e })
}

export async function checkHost(lab: Lab, host: Host): Promise<Step[]> {
  const steps: Step[] = []
  const t = await resolveTarget(lab, host)
  const add = (s: Step) => { steps.push(s); return s.ok }
  let addr = t.hostname
  if (t.proxyJump) {
    add({ step: 'resolve', ok: true, detail: `through ProxyJump ${t.proxyJump} (~/.ssh/config): the jump host resolves and connects` })
  } else try {
    addr = (await lookup(t.hostname)).address
    add({ step: 'resolve', ok: true, detail: `${t.hostname} is ${addr}` })
  } catch (e) {
    add({ step: 'resolve', ok: false, detail: `cannot resolve ${t.hostname}: ${(e as NodeJS.ErrnoException).code}`, fix: 'check the name (git lab host add again), or add a HostName in ~/.ssh/config' })
    return steps
  }
  const tcp = t.proxyJump ? null : await new Promise<string | null>(resolve => {
    const s = tcpConnect({ host: addr, port: t.port, timeout: 10_000 })
    s.on('connect', () => { s.destroy(); resolve(null) })
    s.on('timeout', () => { s.destroy(); resolve('no answer in 10s') })
    s.on('error', e => resolve((e as NodeJS.ErrnoException).code ?? e.message))
  })
  if (!add({ step: 'tcp', ok: !tcp, detail: tcp ? `cannot connect to ${addr}:${t.port}: ${tcp}` : `${addr}:${t.port} accepts connections`, fix: tcp ? 'is sshd running there, and the port right? a firewall in the way?' : undefined })) return steps
  let blob: Buffer
  try { blob = await offeredKey(t, lab) } catch (e) {
    add({ step: 'host key', ok: false, detail: (e as Error).message, fix: 'is it an SSH server on that port?' })
    return steps
  }
  const k = checkKey(await readKnownHosts(t.home), t.hostname, t.port, blob)
  if (!add({
    step: 'host key', ok: k.verdict === 'known', detail: `${k.type} ${k.fingerprint}: ${k.verdict}`,
    fix: k.verdict === 'unknown' ? `check the fingerprint with the host's administrator, then: git lab host trust ${host.name}`
      : k.verdict === 'changed' ? `the key changed: find out why before anything else; then ssh-keygen -R and git lab host trust ${host.name}` : undefined,
  })) return steps
  let c: Client
  try { c = await connect(t, {}, lab) } catch (e) {
    add({ step: 'auth', ok: false, detail: (e as Error).message, fix: e instanceof HostKeyError ? undefined : `ssh-copy-id -p ${t.port} ${t.user}@${t.hostname}, or git config lab.host.${host.name}.identity ~/.ssh/KEY` })
    return steps
  }
  try {
    add({ step: 'auth', ok: true, detail: `logged in as ${t.user}${t.agent ? ' (agent or identity file)' : ''}` })
    const git = await execOn(c, 'git --version')
    if (!add({ step: 'git', ok: git.code === 0, detail: git.code === 0 ? git.out.trim() : 'git not found', fix: 'install git 2.29 or newer there' })) return steps
    const sh = await execOn(c, shCommand('[ "$((1 + 1))" = 2 ] && command -v setsid >/dev/null && echo ok', 'git-lab', []))
    add({ step: 'shell', ok: sh.out.trim() === 'ok', detail: sh.out.trim() === 'ok' ? 'POSIX sh and setsid' : `sh -c failed or setsid is missing: ${sh.err.trim()}`, fix: 'a POSIX sh and setsid (util-linux) are needed' })
    const wd = remoteWorkdir(host.workdir)
    const w = await execOn(c, shCommand('mkdir -p "$1" && cd "$1" && t=.git-lab-check.$$ && : > "$t" && rm -f "$t" && pwd -P && df -Pk . | tail -1', 'git-lab', [wd]))
    const lines = w.out.trim().split('\n')
    if (!add({ step: 'workdir', ok: w.code === 0, detail: w.code === 0 ? `${lines[0]} is writable` : `cannot write in ${wd}: ${w.err.trim()}`, fix: `git lab host add ${host.name} ... --workdir DIR with a folder you can write` })) return steps
    const avail = Number(lines[1]?.split(/\s+/)[3]) * 1024
    add({ step: 'disk', ok: avail > 1024 ** 3, detail: Number.isFinite(avail) ? `${(avail / 1024 ** 3).toFixed(1)} GiB free` : 'unknown', fix: avail > 1024 ** 3 ? undefined : 'less than 1 GiB free in the workdir' })
    const smi = await execOn(c, 'nvidia-smi -L')
    const gpus = smi.code === 0 ? parseNvidiaSmi(smi.out) : []
    add({ step: 'nvidia-smi', ok: smi.code === 0 || host.gpus === 0, detail: smi.code === 0 ? `${gpus.length} GPU${gpus.length === 1 ? '' : 's'}` : 'nvidia-smi not found', fix: smi.code === 0 || host.gpus === 0 ? undefined : 'install the NVIDIA driver, or add the host with --gpus 0' })
  } finally {
    c.end()
  }
  return steps
}
