// Writing files named by records (hostile input) into a folder the user chose: never outside it, never through a
// symlink, never over a file without `force`, and only once the contents match the hash the record gives.
import { createHash, randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { link, lstat, mkdir, open, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { StateError } from '../errors.ts'

/** Why a relative path from a record may not be written under a folder (null: it may): plain `a/b/c` only. */
export function unsafeArtifactPath(p: string): string | null {
  if (!p) return 'empty'
  if (p.includes('\0')) return 'a NUL character'
  if (p.startsWith('/')) return 'absolute'
  for (const part of p.split('/')) {
    if (part === '') return 'an empty component'
    if (part === '.' || part === '..') return `a "${part}" component`
    // As git refuses in trees: a .git folder written into a work tree could configure git to run commands.
    if (part.toLowerCase() === '.git') return 'a .git component'
  }
  return null
}

export interface Target {
  /** the folder everything goes under, as the user gave it (followed if a symlink: the user named it) */
  dir: string
  /** the record's relative path, already checked by unsafeArtifactPath */
  rel: string
  size: number
  sha256: string
  force: boolean
  /** a path as the user should read it */
  shown: (file: string) => string
}

/** Makes the folders of target.rel under target.dir; a symlink or a file in the way is refused, not followed. */
async function folderOf(t: Target): Promise<string> {
  const parts = t.rel.split('/')
  await mkdir(t.dir, { recursive: true }).catch((e: NodeJS.ErrnoException) => {
    throw e.code === 'EEXIST' || e.code === 'ENOTDIR' ? new StateError(`${t.shown(t.dir)} is not a folder: nothing can be written under it`) : e
  })
  let cur = t.dir
  for (const part of parts.slice(0, -1)) {
    cur = path.join(cur, part)
    let st = await lstat(cur).catch(() => null)
    if (!st) {
      await mkdir(cur).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'EEXIST') throw e })
      st = await lstat(cur)
    }
    if (st.isSymbolicLink()) throw new StateError(`${t.rel}: ${t.shown(cur)} is a symlink, not a folder: not written`)
    if (!st.isDirectory()) throw new StateError(`${t.rel}: ${t.shown(cur)} is a file, not a folder: not written`)
  }
  return path.join(cur, parts[parts.length - 1])
}

/**
 * Writes target.rel under target.dir from `data` (a buffer, or chunks as they are read): into a new temporary file
 * beside it (O_EXCL | O_NOFOLLOW), checked against size and sha256, then moved into place. Without `force` an
 * existing name (a symlink too) is refused, and the move is a hard link, which never replaces anything; with it,
 * a rename, which replaces a symlink itself rather than writing where it points. Returns the file written.
 */
export async function placeFile(t: Target, data: Buffer | AsyncIterable<Buffer>): Promise<string> {
  const file = await folderOf(t)
  const existing = await lstat(file).catch(() => null)
  if (existing && !t.force) throw new StateError(`${t.shown(file)} exists: give --force to overwrite it`)
  if (existing?.isDirectory()) throw new StateError(`${t.rel}: ${t.shown(file)} is a folder: not written`)
  const tmp = path.join(path.dirname(file), `.${path.basename(file).slice(0, 64)}.${randomBytes(6).toString('hex')}.lab-tmp`)
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o666)
  let open_ = true
  try {
    const hash = createHash('sha256')
    let size = 0
    for await (const chunk of Buffer.isBuffer(data) ? [data] : data) {
      hash.update(chunk)
      size += chunk.length
      if (size > t.size) break
      await fh.write(chunk)
    }
    await fh.close()
    open_ = false
    const got = hash.digest('hex')
    if (size !== t.size || got !== t.sha256) {
      throw new StateError(`${t.rel}: its contents do not match its recorded sha256 ${t.sha256.slice(0, 12)}... and size ${t.size}: not written`)
    }
    if (t.force) await rename(tmp, file)
    else await linkNew(tmp, file, t)
    return file
  } finally {
    if (open_) await fh.close().catch(() => undefined)
    await rm(tmp, { force: true })
  }
}

/** A hard link never replaces a name; where links are not supported, check again and rename. */
async function linkNew(tmp: string, file: string, t: Target): Promise<void> {
  try {
    await link(tmp, file)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'EEXIST') throw new StateError(`${t.shown(file)} exists: give --force to overwrite it`)
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EMLINK') throw e
    if (await lstat(file).catch(() => null)) throw new StateError(`${t.shown(file)} exists: give --force to overwrite it`)
    await rename(tmp, file)
  }
}
