// A real OpenSSH server for tests: its own host key, authorized key, port on 127.0.0.1, and a fake nvidia-smi on
// the PATH of its sessions. Each simulated host is one of these, with a workdir of its own.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync, chmodSync, appendFileSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import path from 'node:path'
import { tempDir } from '../../helpers.ts'

export const SSHD = '/usr/sbin/sshd'
export const HAVE_SSHD = existsSync(SSHD)

interface Teardown { teardown(fn: () => void | Promise<void>): void }

export interface FakeHost {
  dir: string
  port: number
  /** the host key's public line (type base64) */
  hostKey: string
  start(): Promise<void>
  stop(): Promise<void>
  /** the host goes away: the listener stopped and every connection's sshd process killed */
  down(): Promise<void>
  /** pids of sshd's per-connection processes (children of the listener) */
  sessionPids(): number[]
  pid(): number | null
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)) })
    s.on('error', reject)
  })
}

/** A client identity in home/.ssh (id_ed25519), made once per home. */
export function clientKey(home: string): string {
  const key = path.join(home, '.ssh', 'id_ed25519')
  if (!existsSync(key)) {
    mkdirSync(path.dirname(key), { recursive: true, mode: 0o700 })
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'test', '-f', key])
  }
  return readFileSync(key + '.pub', 'utf8').trim()
}

export async function fakeHost(t: Teardown, o: { home: string; gpus?: number; trust?: boolean }): Promise<FakeHost> {
  const dir = tempDir(t, 'lab-sshd-')
  mkdirSync('/run/sshd', { recursive: true })
  const port = await freePort()
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'host', '-f', path.join(dir, 'host_key')])
  writeFileSync(path.join(dir, 'authorized_keys'), clientKey(o.home) + '\n')
  const bin = path.join(dir, 'bin')
  mkdirSync(bin)
  const lines = Array.from({ length: o.gpus ?? 0 }, (_, i) => `GPU ${i}: Fake GPU (UUID: GPU-0000000${i}-0000-0000-0000-000000000000)`)
  writeFileSync(path.join(bin, 'nvidia-smi'), `#!/bin/sh\n${lines.length ? `cat <<'X'\n${lines.join('\n')}\nX` : 'exit 9'}\n`)
  chmodSync(path.join(bin, 'nvidia-smi'), 0o755)
  writeFileSync(path.join(dir, 'sshd_config'), [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${path.join(dir, 'host_key')}`,
    `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`, 'StrictModes no', 'UsePAM no', `PidFile ${path.join(dir, 'sshd.pid')}`,
    'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'PubkeyAuthentication yes', 'PermitRootLogin yes',
    `SetEnv PATH=${bin}:/usr/local/bin:/usr/bin:/bin`, 'LogLevel ERROR', '',
  ].join('\n'))
  const hostKey = readFileSync(path.join(dir, 'host_key.pub'), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ')
  if (o.trust !== false) appendFileSync(path.join(o.home, '.ssh', 'known_hosts'), `[127.0.0.1]:${port} ${hostKey}\n`)
  let child: ChildProcess | null = null
  const h: FakeHost = {
    dir, port, hostKey,
    async start() {
      child = spawn(SSHD, ['-D', '-e', '-f', path.join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] })
      child.stderr!.on('data', () => undefined)
      const until = Date.now() + 10_000
      for (;;) {
        const ok = await new Promise<boolean>(r => { const s = connect(port, '127.0.0.1'); s.on('connect', () => { s.destroy(); r(true) }); s.on('error', () => r(false)) })
        if (ok) return
        if (Date.now() > until) throw new Error('sshd did not start')
        await new Promise(r => setTimeout(r, 50))
      }
    },
    async stop() {
      const c = child
      child = null
      if (!c || c.exitCode !== null) return
      await new Promise<void>(r => { c.on('exit', () => r()); c.kill('SIGTERM') })
    },
    async down() {
      const sessions = h.sessionPids()
      await h.stop()
      for (const p of sessions) try { process.kill(p, 'SIGKILL') } catch { /* gone */ }
    },
    pid: () => child?.pid ?? null,
    sessionPids() {
      const pid = child?.pid
      if (!pid) return []
      // Children of the listener, from /proc (no ps needed): field 4 of /proc/PID/stat is the parent.
      return readdirSync('/proc').filter(p => /^\d+$/.test(p)).filter(p => {
        try { return readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]?.split(' ')[1] === String(pid) } catch { return false }
      }).map(Number)
    },
  }
  await h.start()
  t.teardown(() => h.stop())
  return h
}
