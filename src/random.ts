// Random names and ids without loading node:crypto at start-up (~3 ms on this machine, before any other work): the
// kernel's random bytes, read from /dev/urandom; node:crypto where there is none. node:crypto itself (hashes) is
// loaded on first use (a sha1 commit id, a submit's one hash, is computed without it: src/git/sha1.ts).
import { closeSync, openSync, readSync } from 'node:fs'
import { createRequire } from 'node:module'

const req = createRequire(import.meta.url)
let loaded: typeof import('node:crypto') | undefined

/** node:crypto, loaded on first use. */
export const nodeCrypto = (): typeof import('node:crypto') => loaded ??= req('node:crypto') as typeof import('node:crypto')

/** Random bytes read ahead (a build names hundreds of files: a read of /dev/urandom each cost three syscalls). */
let pool = Buffer.alloc(0)
let at = 0

/** `bytes` random bytes as hex (each byte handed out once). */
export function randomHex(bytes: number): string {
  if (pool.length - at < bytes) {
    const b = Buffer.alloc(Math.max(512, bytes))
    try {
      const fd = openSync('/dev/urandom', 'r')
      try {
        if (readSync(fd, b, 0, b.length, null) === b.length) { pool = b; at = 0 }
      } finally { closeSync(fd) }
    } catch { /* no /dev/urandom here: node's */ }
    if (pool !== b) return nodeCrypto().randomBytes(bytes).toString('hex')
  }
  at += bytes
  return pool.toString('hex', at - bytes, at)
}
