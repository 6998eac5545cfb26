// git's own housekeeping for a lab's objects: git runs it after commits and fetches, never after the plumbing git lab
// writes through (fast-import packs, hash-object loose objects), so a worker that only records would pile them up.
import { mkdir, stat, utimes, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { Lab } from './lab.ts'

/** At most one start per this interval across every process of the clone (the stamp file's mtime says when). */
export const TIDY_EVERY_MS = 10 * 60 * 1000

/**
 * Starts `git maintenance run --auto` in the background unless some process of this clone did within TIDY_EVERY_MS.
 * Costs a stat when it is not due; never waits for git. Returns whether it started it.
 */
export async function tidy(lab: Lab, now = Date.now()): Promise<boolean> {
  const stamp = path.join(lab.repo.commonDir, 'lab', 'maintenance-at')
  const last = await stat(stamp).then(s => s.mtimeMs, () => null)
  if (last !== null && now - last < TIDY_EVERY_MS && last <= now) return false
  // Stamped first: of processes that look at once, few start git, and git's own lock stops the rest.
  const at = new Date(now)
  const made = last === null ? mkdir(path.dirname(stamp), { recursive: true }).then(() => writeFile(stamp, '')) : Promise.resolve()
  await made.then(() => utimes(stamp, at, at)).catch(() => undefined)
  lab.repo.startMaintenance()
  return true
}
