// Processes on this host: is a pid alive, is it still the process we started (not a reused pid), what is a job's tree?
import { readFileSync, readdirSync } from 'node:fs'
import { execFileSync } from 'node:child_process'

const HAS_PROC = (() => { try { readFileSync('/proc/self/stat'); return true } catch { return false } })()

let bootMs: number | null = null
function boot(): number {
  bootMs ??= Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1] ?? 0) * 1000
  return bootMs
}

function stat(pid: number): string[] | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // the command name (field 2) may hold spaces and parentheses: split after its closing one
    return s.slice(s.lastIndexOf(')') + 2).split(' ')
  } catch { return null }
}

/** True if the process exists and is not a zombie. */
export function alive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 1) return false
  if (HAS_PROC) { const f = stat(pid); return !!f && f[0] !== 'Z' && f[0] !== 'X' }
  try { process.kill(pid, 0); return true } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM' }
}

/** When the process started, in ms since the epoch (to the clock tick); null if unknown. */
export function startedAt(pid: number): number | null {
  if (HAS_PROC) {
    const f = stat(pid)
    // field 22 (starttime) is the 20th after the command name: clock ticks since boot, 100 per second on Linux
    return f ? boot() + Number(f[19]) * 10 : null
  }
  try {
    const out = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    return out ? Date.parse(out) : null
  } catch { return null }
}

/** The process's command line, arguments joined by spaces (empty when it is gone). */
export function commandLine(pid: number): string {
  if (HAS_PROC) {
    try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ') } catch { return '' }
  }
  try { return execFileSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }) } catch { return '' }
}

/** This process's identity as another process can check it later: pid plus start time. */
export const self = () => ({ pid: process.pid, start: startedAt(process.pid) })

/** True if `who` (a pid and the start time recorded for it) is still that same live process. */
export function same(who: { pid: number; start: number | null }): boolean {
  if (!alive(who.pid)) return false
  const now = startedAt(who.pid)
  return who.start === null || now === null || Math.abs(now - who.start) < 1000
}

/**
 * The processes of a job (src/dispatch/supervisor.ts says what counts), except `leader` itself and this process:
 * with `leader` (a supervisor known to be alive), the members of its session and process group; with /proc, every
 * process whose environment carries `tag`. Without /proc, the group only (`ps`). A dead supervisor's pid is never
 * matched as a group: its number may have been reused by another session.
 */
export function jobProcesses(leader: number | null, tag: string | null): number[] {
  const out = new Set<number>()
  if (!HAS_PROC) {
    if (leader === null) return []
    try {
      const text = execFileSync('ps', ['-A', '-o', 'pid=', '-o', 'pgid='], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      for (const line of text.split('\n')) {
        const [p, g] = line.trim().split(/\s+/).map(Number)
        if (g === leader && p !== leader && p !== process.pid) out.add(p)
      }
    } catch { /* no ps: nothing known */ }
    return [...out]
  }
  const needle = tag ? Buffer.from(tag) : null
  for (const name of readdirSync('/proc')) {
    const pid = Number(name)
    if (!Number.isSafeInteger(pid) || pid === leader || pid === process.pid || pid <= 1) continue
    const f = stat(pid)
    if (!f || f[0] === 'Z' || f[0] === 'X') continue
    // fields after the name: state, ppid, pgrp, session
    if (leader !== null && (Number(f[2]) === leader || Number(f[3]) === leader)) { out.add(pid); continue }
    if (!needle) continue
    try { if (readFileSync(`/proc/${pid}/environ`).includes(needle)) out.add(pid) } catch { /* gone, or not ours */ }
  }
  return [...out]
}

/** Sends the signal to each process; gone ones are skipped. */
export function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const p of pids) { try { process.kill(p, signal) } catch { /* gone */ } }
}
