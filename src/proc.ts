// Is a pid alive, and is it still the process that recorded itself (not a reused pid)? Shared by every layer, like
// errors.ts: the store's write lock and the dispatcher's run locks and supervisors ask the same questions.
import { readFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'

let procFs: boolean | undefined
/** True where /proc is there to read (Linux); asked once, on first use (not as a module loads: every command loads it). */
export const hasProc = (): boolean => procFs ??= (() => { try { readFileSync('/proc/self/stat'); return true } catch { return false } })()

let bootMs: number | null = null
function boot(): number {
  bootMs ??= Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1] ?? 0) * 1000
  return bootMs
}

/** The fields of /proc/PID/stat after the command name (state, ppid, pgrp, session, ...); null if gone. */
export function stat(pid: number): string[] | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // the command name (field 2) may hold spaces and parentheses: split after its closing one
    return s.slice(s.lastIndexOf(')') + 2).split(' ')
  } catch { return null }
}

/** True if the process exists and is not a zombie. */
export function alive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 1) return false
  if (hasProc()) { const f = stat(pid); return !!f && f[0] !== 'Z' && f[0] !== 'X' }
  try { process.kill(pid, 0); return true } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM' }
}

/** When the process started, in ms since the epoch (to the clock tick); null if unknown. */
export function startedAt(pid: number): number | null {
  if (hasProc()) {
    const f = stat(pid)
    // field 22 (starttime) is the 20th after the command name: clock ticks since boot, 100 per second on Linux
    return f ? boot() + Number(f[19]) * 10 : null
  }
  try {
    const out = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    return out ? Date.parse(out) : null
  } catch { return null }
}

/** This process's identity as another process can check it later: pid plus start time. */
export const self = () => ({ pid: process.pid, start: startedAt(process.pid) })

/** True if `who` (a pid and the start time recorded for it) is still that same live process. */
export function same(who: { pid: number; start: number | null }): boolean {
  if (!alive(who.pid)) return false
  const now = startedAt(who.pid)
  return who.start === null || now === null || Math.abs(now - who.start) < 1000
}
