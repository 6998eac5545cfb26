// Host keys checked against ~/.ssh/known_hosts as OpenSSH reads it (hashed |1|salt|hash entries, [host]:port, patterns,
// @revoked), before any authentication. Nothing is ever accepted silently: trusting a key is `git lab host trust`.
import { createHash, createHmac } from 'node:crypto'
import { appendFile, mkdir, readFile } from 'node:fs/promises'
import path from 'node:path'

export type Verdict = 'known' | 'unknown' | 'changed' | 'revoked'

/** The key type a host key blob names (its first SSH string). */
export function keyType(blob: Buffer): string {
  if (blob.length < 4) return 'unknown'
  const n = blob.readUInt32BE(0)
  return blob.subarray(4, 4 + Math.min(n, 64)).toString('latin1')
}

/** As `ssh-keygen -l` prints it: SHA256:<base64, no padding>. */
export const fingerprint = (blob: Buffer) => 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')

/** How known_hosts names a host: the name alone on port 22, else [name]:port. */
export const hostField = (host: string, port: number) => port === 22 ? host : `[${host}]:${port}`

/** OpenSSH's pattern matching: * and ?, whole name, case-insensitive. */
export function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$', 'i')
  return re.test(name)
}

/** Whether a comma-separated host field of known_hosts names this host (negations win, hashed entries compared by HMAC). */
export function hostsMatch(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|')
    if (!salt || !hash) return false
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash
  }
  let hit = false
  for (const p of field.split(',')) {
    if (p.startsWith('!')) { if (globMatch(p.slice(1), name)) return false } else if (globMatch(p, name)) hit = true
  }
  return hit
}

interface Entry { marker: string | null; hosts: string; type: string; key: Buffer }

export function parseKnownHosts(text: string): Entry[] {
  const out: Entry[] = []
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (!line || line.startsWith('#')) continue
    const f = line.split(/\s+/)
    const marker = f[0].startsWith('@') ? f.shift()! : null
    if (f.length < 3) continue
    out.push({ marker, hosts: f[0], type: f[1], key: Buffer.from(f[2], 'base64') })
  }
  return out
}

export function knownHostsFile(home: string): string { return path.join(home, '.ssh', 'known_hosts') }

export interface Check { verdict: Verdict; type: string; fingerprint: string; knownTypes: string[] }

/** The verdict on a host's key: known (an entry holds it), changed (entries of its type hold another), revoked, unknown. */
export function checkKey(entries: Entry[], host: string, port: number, blob: Buffer): Check {
  const name = hostField(host, port)
  const type = keyType(blob)
  const mine = entries.filter(e => e.marker !== '@cert-authority' && hostsMatch(e.hosts, name))
  const base = { type, fingerprint: fingerprint(blob), knownTypes: [...new Set(mine.filter(e => !e.marker).map(e => e.type))] }
  if (mine.some(e => e.marker === '@revoked' && e.key.equals(blob))) return { verdict: 'revoked', ...base }
  if (mine.some(e => !e.marker && e.key.equals(blob))) return { verdict: 'known', ...base }
  if (mine.some(e => !e.marker && e.type === type)) return { verdict: 'changed', ...base }
  return { verdict: 'unknown', ...base }
}

export async function readKnownHosts(home: string): Promise<Entry[]> {
  const text = await readFile(knownHostsFile(home), 'utf8').catch(() => '')
  return parseKnownHosts(text)
}

/** Adds a key for this host to ~/.ssh/known_hosts (made owner-only if it does not exist). */
export async function trustKey(home: string, host: string, port: number, blob: Buffer): Promise<string> {
  const file = knownHostsFile(home)
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 })
  const prev = await readFile(file, 'utf8').catch(() => '')
  const line = `${hostField(host, port)} ${keyType(blob)} ${blob.toString('base64')}\n`
  await appendFile(file, (prev && !prev.endsWith('\n') ? '\n' : '') + line, { mode: 0o600 })
  return file
}
