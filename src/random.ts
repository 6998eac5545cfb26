// Random names and ids without loading node:crypto at start-up (~3 ms on this machine, before any other work): the
// kernel's random bytes, read from /dev/urandom; node:crypto where there is none. node:crypto itself (hashes) is
// loaded on first use (a sha1 commit id, a submit's one hash, is computed without it: src/git/sha1.ts).
import { closeSync, openSync, readSync } from 'node:fs'
import { createRequire } from 'node:module'

const req = createRequire(import.meta.url)
let loaded: typeof import('node:crypto') | undefined

/** node:crypto, loaded on first use. */
export const nodeCrypto = (): typeof import('node:crypto') => loaded ??= req('node:crypto') as typeof import('node:crypto')

/** `bytes` random bytes as hex. */
export function randomHex(bytes: number): string {
  const b = Buffer.alloc(bytes)
  try {
    const fd = openSync('/dev/urandom', 'r')
    try {
      if (readSync(fd, b, 0, bytes, null) === bytes) return b.toString('hex')
    } finally { closeSync(fd) }
  } catch { /* no /dev/urandom here: node's */ }
  return nodeCrypto().randomBytes(bytes).toString('hex')
}
