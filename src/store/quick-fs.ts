// writeFile for the index's many small files when a save writes more than a few (IndexFiles.save): a refresh after
// 100 of 1,000 writers moved writes 84 shards, a first build 256. Through node:fs/promises each call costs the main
// thread ~0.1 ms (a FileHandle and its promises per file; measured here: 5-10 ms to issue 84 writes, 0.6-3 ms through
// the callback API).
import { writeFile as writeFileCb } from 'node:fs'

export function writeFile(file: string, data: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => writeFileCb(file, data, e => e ? reject(e) : resolve()))
}
