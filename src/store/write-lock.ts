// A short exclusive lock that serializes this clone's local writers around read-tip, write, update-ref and index save.
// Without it, N processes writing at once all lose compare-and-swap but one and redo their work (N^2 writes);
// with it they take turns. Compare-and-swap stays the safety net: a writer that cannot get the lock still writes.
import { linkSync, mkdirSync, readFileSync, rmSync, watch, writeFileSync, type FSWatcher } from 'node:fs'
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { same, self } from '../proc.ts'

/** How long a writer waits for a live holder before writing anyway (compare-and-swap then decides). */
export const LOCK_WAIT_MS = 20_000

export interface Held {
  /** true if another writer held the lock when we asked: the tip this process read is probably stale */
  waited: boolean
  release(): Promise<void>
}

interface Holder { pid: number; start: number | null }

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

/**
 * Until the lock file is removed or replaced (inotify on its folder), or `ms` passed: waiters sleep instead of
 * polling (16 writers polling every few ms took a core of a 2-core machine from the one holding the lock).
 */
async function released(file: string, ms: number): Promise<void> {
  let w: FSWatcher | undefined
  let timer: NodeJS.Timeout | undefined
  await new Promise<void>(resolve => {
    timer = setTimeout(resolve, ms)
    try { w = watch(path.dirname(file), { persistent: false }, (_, name) => { if (name === path.basename(file)) resolve() }) } catch { /* polls */ }
    // released before the watch began
    stat(file).then(() => undefined, () => resolve())
  })
  clearTimeout(timer)
  w?.close()
}

/**
 * Creates the lock file with its content in one step (written aside, then hard-linked into place: the link fails if
 * the lock exists). Created empty and then written, a waiter could read it empty in between, take it for a holder
 * that died while writing, and break a live lock. Where hard links are refused, exclusive create and write.
 */
function createLock(file: string, me: string): boolean {
  // (a few syscalls on tiny files, made at once: through the thread pool they were most of the lock's cost)
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`
  try {
    try { writeFileSync(tmp, me) } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
      mkdirSync(path.dirname(file), { recursive: true }) // (the lab folder is made by the first write)
      writeFileSync(tmp, me)
    }
    linkSync(tmp, file)
    return true
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'EEXIST') return false
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw e
    try { writeFileSync(file, me, { flag: 'wx' }); return true } catch (e2) {
      if ((e2 as NodeJS.ErrnoException).code === 'EEXIST') return false
      throw e2
    }
  } finally { rmSync(tmp, { force: true }) }
}

/** Removes the lock file if it is still ours (a holder that was waited out may have had it broken and retaken). */
function removeIfMine(file: string, me: string): void {
  let text: string | null = null
  try { text = readFileSync(file, 'utf8') } catch { /* gone */ }
  if (text === me) rmSync(file, { force: true })
}

/** Writers in this process queue here first: the lock file names a process, not a caller within it. */
const local = new Map<string, { busy: boolean; queue: Array<() => void> }>()

/** Takes `dir/write.lock`; a dead holder's lock is broken, a live one is waited for up to waitMs. */
export async function lockWrites(dir: string, waitMs = LOCK_WAIT_MS): Promise<Held> {
  const file = path.join(dir, 'write.lock')
  const q = local.get(file) ?? { busy: false, queue: [] }
  local.set(file, q)
  const queued = q.busy
  if (q.busy) await new Promise<void>(r => q.queue.push(r))
  q.busy = true
  const next = () => { const n = q.queue.shift(); if (n) n(); else q.busy = false }
  try {
    const held = await lockFile(file, waitMs)
    return { waited: queued || held.waited, release: async () => { try { await held.release() } finally { next() } } }
  } catch (e) { next(); throw e }
}

async function lockFile(file: string, waitMs: number): Promise<Held> {
  const me = JSON.stringify(self()) + '\n'
  const t0 = Date.now()
  let waited = false
  for (let pause = 1; ; pause = Math.min(pause * 2, 4)) {
    try {
      if (!createLock(file, me)) throw Object.assign(new Error('held'), { code: 'EEXIST' })
      let done = false
      return {
        waited,
        release: async () => {
          if (done) return
          done = true
          removeIfMine(file, me)
        },
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return { waited, release: async () => undefined }
    }
    waited = true
    const text = await readFile(file, 'utf8').catch(() => null)
    if (text === null) continue // released between our attempt and the read
    let holder: Holder | null = null
    try { holder = JSON.parse(text) as Holder } catch { /* half-written by a holder that died at once, or garbage */ }
    // (our own pid: another Store of this process that has not released, so a live holder too)
    if (holder && (holder.pid === process.pid || same(holder))) {
      if (Date.now() - t0 > waitMs) return { waited, release: async () => undefined }
      await released(file, Math.min(50, waitMs))
      continue
    }
    if (!holder && Date.now() - t0 < 50) { await sleep(pause); continue } // a holder may be writing it right now
    // Stale: moved aside under a unique name, so of two processes breaking it only one removes it.
    const aside = `${file}.stale-${process.pid}`
    try { await rename(file, aside) } catch { continue }
    const moved = await readFile(aside, 'utf8').catch(() => null)
    await rm(aside, { force: true })
    // Another breaker was first and a new holder took the lock before our rename: give it back.
    if (moved !== null && moved !== text) await writeFile(file, moved, { flag: 'wx' }).catch(() => undefined)
  }
}

/**
 * Takes the lock only if nobody holds it, without waiting: null when another writer (here or in another process)
 * has it. A reader that finds the refs moved folds in memory instead of queueing behind writers to save its fold.
 */
export async function tryLockWrites(dir: string): Promise<Held | null> {
  const file = path.join(dir, 'write.lock')
  const q = local.get(file) ?? { busy: false, queue: [] }
  local.set(file, q)
  if (q.busy) return null
  q.busy = true
  const next = () => { const n = q.queue.shift(); if (n) n(); else q.busy = false }
  const me = JSON.stringify(self()) + '\n'
  try {
    if (!createLock(file, me)) throw new Error('held')
  } catch {
    next()
    return null
  }
  return {
    waited: false,
    release: async () => {
      try { removeIfMine(file, me) } finally { next() }
    },
  }
}
