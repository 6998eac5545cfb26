// git's own housekeeping for a lab's objects: git runs it after commits and fetches, never after the plumbing git lab
// writes through (a small pack per record from fast-import, hash-object loose objects), so a worker that only
// records would pile them up.
import { mkdir, readdir, stat, utimes, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { Lab } from './lab.ts'

/** At most one start per this interval across every process of the clone (the stamp file's mtime says when). */
export const TIDY_EVERY_MS = 10 * 60 * 1000
/** Packs past which a start is due sooner (git's gc.autoPackLimit default: git's gc --auto then repacks them)... */
export const TIDY_PACKS = 50
/** ...but not sooner than this after the last start (git may have been told not to repack: gc.autoPackLimit=0). */
export const TIDY_PACKS_EVERY_MS = 60 * 1000

/**
 * Starts `git maintenance run --auto` in the background unless some process of this clone did within TIDY_EVERY_MS
 * (or, with more than TIDY_PACKS packs, within TIDY_PACKS_EVERY_MS). packsOnly (every write of a command): only for
 * the packs. Costs a stat and a folder listing; never waits for git. Returns whether it started it.
 */
export async function tidy(lab: Lab, now = Date.now(), o: { packsOnly?: boolean } = {}): Promise<boolean> {
  const stamp = path.join(lab.repo.commonDir, 'lab', 'maintenance-at')
  const last = await stat(stamp).then(s => s.mtimeMs, () => null)
  const since = last === null || last > now ? Infinity : now - last
  const timely = since >= TIDY_EVERY_MS && !o.packsOnly
  if (!timely && (since < TIDY_PACKS_EVERY_MS || (await packCount(lab)) <= TIDY_PACKS)) return false
  // Stamped first: of processes that look at once, few start git, and git's own lock stops the rest.
  const at = new Date(now)
  const made = last === null ? mkdir(path.dirname(stamp), { recursive: true }).then(() => writeFile(stamp, '')) : Promise.resolve()
  await made.then(() => utimes(stamp, at, at)).catch(() => undefined)
  lab.repo.startMaintenance()
  return true
}

async function packCount(lab: Lab): Promise<number> {
  const names = await readdir(path.join(lab.repo.commonDir, 'objects', 'pack')).catch(() => [] as string[])
  return names.filter(n => n.endsWith('.pack')).length
}
