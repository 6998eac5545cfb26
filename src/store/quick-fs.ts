// writeFile and rm for the index's many small files: a refresh after 100 of 1,000 writers moved writes 84 shards and
// removes as many, a first build writes 256. Through node:fs/promises each call costs the main thread ~0.1 ms (a
// FileHandle and its promises per file; measured here: 5-10 ms to issue 84 writes, 0.6-3 ms through the callback API).
import { unlink, writeFile as writeFileCb } from 'node:fs'

export function writeFile(file: string, data: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => writeFileCb(file, data, e => e ? reject(e) : resolve()))
}

/** Removes a file (never a folder: one unlink, where fs.rm first looks at what the path is); force: gone already is fine. */
export function rm(file: string, opts: { force?: boolean } = {}): Promise<void> {
  return new Promise((resolve, reject) => unlink(file, e => e && !(opts.force && e.code === 'ENOENT') ? reject(e) : resolve()))
}
