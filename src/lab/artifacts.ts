// An attempt's artifacts: where each is kept (a blob in git, or a file on the host that ran the job), and fetching
// them into a folder. Paths, locations and hosts come from records, so each is checked before it is used.
import { constants } from 'node:fs'
import { lstat, open } from 'node:fs/promises'
import { hostname } from 'node:os'
import path from 'node:path'
import type { Lab } from './lab.ts'
import { placeFile, unsafeArtifactPath } from './write-into.ts'
import { LabError, NotFoundError, StateError } from '../errors.ts'
import { MAX_COMPANION_BYTES } from '../store/layout.ts'
import type { Artifact, Experiment } from '../store/state.ts'

export { unsafeArtifactPath }

/** host and location: where a file too large for git is kept (null for a blob); here: it can be fetched here */
export interface ArtifactView { path: string; size: number; sha256: string; blob: string | null; host: string | null; location: string | null; here: boolean }

/** The attempt's artifacts in record order, one per path (a later record of the same path wins). */
export function artifactsOf(e: Experiment, attempt: number): Artifact[] {
  const byPath = new Map<string, Artifact>()
  for (const a of e.artifacts) if (a.attempt === attempt) byPath.set(a.path, a)
  return [...byPath.values()]
}

/** A file kept on a host can be read here when the host that ran the attempt is this one. */
const runsHere = (e: Experiment, attempt: number) => e.runners[attempt]?.host === hostname()

export function artifactViews(e: Experiment, attempt: number): ArtifactView[] {
  const host = e.runners[attempt]?.host || null
  return artifactsOf(e, attempt).map(a => {
    // Kept on an SSH host of the lab: ssh://<host>/<path> names it.
    const ssh = /^ssh:\/\/([^/]+)/.exec(a.location ?? '')?.[1] ?? null
    return {
      path: a.path, size: a.size, sha256: a.sha256, blob: a.blob, host: a.blob ? null : ssh ?? host, location: a.blob ? null : a.location,
      here: a.blob !== null || (a.location !== null && !ssh && runsHere(e, attempt)),
    }
  })
}

/** The artifacts PATHs name (a file, or a folder: everything under it); all of them without PATHs. */
export function selectArtifacts(e: Experiment, attempt: number, paths: string[]): Artifact[] {
  const all = artifactsOf(e, attempt)
  if (!all.length) throw new NotFoundError(`${e.id} (attempt ${attempt}) has no artifacts: a job leaves files in $LAB_OUTPUT`)
  if (!paths.length) return all
  const chosen = new Set<Artifact>()
  for (const p of paths) {
    const q = p.replace(/^(\.\/)+/, '').replace(/\/+$/, '')
    const hits = q ? all.filter(a => a.path === q || a.path.startsWith(q + '/')) : []
    if (!hits.length) {
      const names = all.slice(0, 10).map(a => a.path).join(', ') + (all.length > 10 ? `, ... (${all.length} in all)` : '')
      throw new NotFoundError(`${e.id} (attempt ${attempt}) has no artifact ${JSON.stringify(p)} (it has: ${names})`)
    }
    for (const a of hits) chosen.add(a)
  }
  return all.filter(a => chosen.has(a))
}

export interface Fetched { path: string; file: string; size: number; sha256: string; from: 'git' | 'host' }
export interface FetchResult { written: Fetched[]; failed: Array<{ path: string; reason: string }> }
export interface FetchOptions {
  paths: string[]; dir: string; force: boolean; shown: (file: string) => string
  /** reads a file kept on an SSH host of the lab (its name, the absolute path there): the dispatch layer's, given by the caller */
  remote?: (host: string, file: string) => Promise<AsyncIterable<Buffer>>
}

/**
 * Writes the chosen artifacts under `dir` at their relative paths. Each file is written whole and checked, or
 * named in `failed` with the reason; an unknown PATH fails before anything is written.
 */
export async function fetchArtifacts(lab: Lab, e: Experiment, attempt: number, o: FetchOptions): Promise<FetchResult> {
  const res: FetchResult = { written: [], failed: [] }
  for (const a of selectArtifacts(e, attempt, o.paths)) {
    try {
      const why = unsafeArtifactPath(a.path)
      if (why) throw new StateError(`${a.path}: not a safe relative path (${why}): not written`)
      const t = { dir: o.dir, rel: a.path, size: a.size, sha256: a.sha256, force: o.force, shown: o.shown }
      if (a.blob) {
        const obj = await lab.repo.catFile.read(a.blob, MAX_COMPANION_BYTES)
        if (!obj?.data) throw new StateError(`${a.path}: its blob ${a.blob.slice(0, 12)} is missing or too large: run 'git lab sync' or 'git lab fsck'`)
        res.written.push({ path: a.path, file: await placeFile(t, obj.data), size: a.size, sha256: a.sha256, from: 'git' })
      } else if (a.location?.startsWith('ssh://')) {
        const [host, file] = sshLocation(e, attempt, a)
        if (!o.remote) throw new StateError(`${a.path} is on SSH host ${host}: not reachable from here`)
        res.written.push({ path: a.path, file: await placeFile(t, await o.remote(host, file)), size: a.size, sha256: a.sha256, from: 'host' })
      } else {
        const src = await hostFile(e, attempt, a)
        try {
          res.written.push({ path: a.path, file: await placeFile(t, src.createReadStream({ autoClose: false })), size: a.size, sha256: a.sha256, from: 'host' })
        } finally { await src.close().catch(() => undefined) }
      }
    } catch (err) {
      // A file system's refusal (no permission, no space, a file where DIR should be) concerns this file only.
      const sys = typeof (err as NodeJS.ErrnoException).code === 'string' && typeof (err as NodeJS.ErrnoException).syscall === 'string'
      if (!(err instanceof LabError) && !sys) throw err
      res.failed.push({ path: a.path, reason: err instanceof LabError ? err.message : `${a.path}: not written: ${(err as Error).message}` })
    }
  }
  return res
}

/**
 * ssh://<host>/<path> -> [host, path], read only where the SSH backend keeps artifacts on a host:
 * <workdir>/artifacts/<id>.<attempt>/<path>, or a kept run's <workdir>/runs/<id>.<attempt>/out/<path>. The host must be
 * one of the lab's (the caller looks it up); the file's hash is checked as it is copied.
 */
function sshLocation(e: Experiment, attempt: number, a: Artifact): [string, string] {
  const m = /^ssh:\/\/([a-z0-9][a-z0-9_-]{2,63})(\/.*)$/.exec(a.location ?? '')
  const file = m?.[2] ?? ''
  const ok = m && path.posix.normalize(file) === file &&
    [`/artifacts/${e.id}.${attempt}/${a.path}`, `/runs/${e.id}.${attempt}/out/${a.path}`].some(s => file.endsWith(s))
  if (!ok) throw new StateError(`${a.path}: its location ${JSON.stringify(a.location)} is not where git lab keeps artifacts on a host: not read`)
  return [m![1], file]
}

/**
 * Opens a file kept on this host. Its location is a record's word, so it is only read where git lab keeps
 * artifacts, `<git dir>/lab/artifacts/<id>.<attempt>/<path>` or a kept run's `<git dir>/lab/runs/<id>.<attempt>/out/<path>`
 * (of any clone here), down real folders (no symlink) to a regular file; its hash is checked as it is copied.
 */
async function hostFile(e: Experiment, attempt: number, a: Artifact) {
  const host = e.runners[attempt]?.host || '(unknown)'
  if (!a.location) throw new StateError(`${a.path}: no copy was kept on the host that ran it`)
  if (!runsHere(e, attempt)) throw new StateError(`${a.path} is on host ${host}: fetching from another host needs the ssh backend (not yet)`)
  const loc = a.location
  const suffix = [`/lab/artifacts/${e.id}.${attempt}/${a.path}`, `/lab/runs/${e.id}.${attempt}/out/${a.path}`].find(s => loc.endsWith(s))
  if (!suffix || !path.isAbsolute(loc) || path.normalize(loc) !== loc) {
    throw new StateError(`${a.path}: its location ${loc} is not in this machine's artifact folders (lab/artifacts/${e.id}.${attempt}/ or a kept run's out/): not read`)
  }
  let cur = loc.slice(0, loc.length - a.path.length - 1)
  const gone = () => new StateError(`${a.path}: not on this machine: ${loc} is gone`)
  for (const part of ['', ...a.path.split('/').slice(0, -1)]) {
    cur = path.join(cur, part)
    const st = await lstat(cur).catch(() => null)
    if (!st) throw gone()
    if (!st.isDirectory()) throw new StateError(`${a.path}: ${cur} is not a folder (a symlink?): not read`)
  }
  const fh = await open(loc, constants.O_RDONLY | constants.O_NOFOLLOW).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw gone()
    throw new StateError(`${a.path}: cannot open ${loc}: ${err.code === 'ELOOP' ? 'a symlink' : err.message}`)
  })
  if (!(await fh.stat()).isFile()) {
    await fh.close()
    throw new StateError(`${a.path}: ${loc} is not a regular file: not read`)
  }
  return fh
}
