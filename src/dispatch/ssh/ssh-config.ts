// What ~/.ssh/config says about a host alias: HostName, User, Port, IdentityFile, ProxyJump (first value wins, as ssh).
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { globMatch } from './known-hosts.ts'

export interface SshConfig { hostname?: string; user?: string; port?: number; identityFiles: string[]; proxyJump?: string }

function patternsMatch(list: string[], alias: string): boolean {
  let hit = false
  for (const p of list) {
    if (p.startsWith('!')) { if (globMatch(p.slice(1), alias)) return false } else if (globMatch(p, alias)) hit = true
  }
  return hit
}

const expandHome = (p: string, home: string) => p === '~' ? home : p.startsWith('~/') ? path.join(home, p.slice(2)) : p

/** Reads the blocks of `text` that apply to `alias` (Match blocks and Include are not read). */
export function parseSshConfig(text: string, alias: string, home: string): SshConfig {
  const out: SshConfig = { identityFiles: [] }
  let on = true
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (!line || line.startsWith('#')) continue
    const m = /^(\S+?)(?:\s*=\s*|\s+)(.*)$/.exec(line)
    if (!m) continue
    const key = m[1].toLowerCase()
    const value = m[2].replace(/^"(.*)"$/, '$1').trim()
    if (key === 'host') { on = patternsMatch(value.split(/\s+/), alias); continue }
    if (key === 'match') { on = false; continue }
    if (!on) continue
    if (key === 'hostname') out.hostname ??= value.replace(/%h/g, alias)
    else if (key === 'user') out.user ??= value
    else if (key === 'port' && /^\d+$/.test(value)) out.port ??= Number(value)
    else if (key === 'identityfile') out.identityFiles.push(expandHome(value.replace(/%d/g, home).replace(/%h/g, alias), home))
    else if (key === 'proxyjump') out.proxyJump ??= value
  }
  return out
}

export async function sshConfig(home: string, alias: string): Promise<SshConfig> {
  const text = await readFile(path.join(home, '.ssh', 'config'), 'utf8').catch(() => '')
  return parseSshConfig(text, alias, home)
}
