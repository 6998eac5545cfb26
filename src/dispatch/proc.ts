// Processes on this host: a job's tree, a command line; is a pid alive and still ours (src/proc.ts, re-exported).
import { readFileSync, readdirSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { hasProc, stat } from '../proc.ts'

export { alive, same, self, startedAt } from '../proc.ts'

/** The process's command line, arguments joined by spaces (empty when it is gone). */
export function commandLine(pid: number): string {
  if (hasProc()) {
    try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ') } catch { return '' }
  }
  try { return execFileSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }) } catch { return '' }
}

/**
 * The processes of a job (src/dispatch/supervisor.ts says what counts), except `leader` itself and this process:
 * with `leader` (a supervisor known to be alive), the members of its session and process group; with /proc, every
 * process whose environment carries `tag`. Without /proc, the group only (`ps`). A dead supervisor's pid is never
 * matched as a group: its number may have been reused by another session.
 */
export function jobProcesses(leader: number | null, tag: string | null): number[] {
  const out = new Set<number>()
  if (!hasProc()) {
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
