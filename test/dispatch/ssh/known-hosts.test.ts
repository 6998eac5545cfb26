// known_hosts as OpenSSH reads it: plain, [host]:port, hashed, patterns and negation, @revoked; fingerprints as
// ssh-keygen prints them; ~/.ssh/config's HostName, User, Port, IdentityFile.
import t from 'tap'
import { createHmac, randomBytes } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { checkKey, fingerprint, hostField, parseKnownHosts, trustKey, readKnownHosts } from '../../../src/dispatch/ssh/known-hosts.ts'
import { parseSshConfig } from '../../../src/dispatch/ssh/ssh-config.ts'
import { tempDir } from '../../helpers.ts'

function newKey(dir: string, name: string): { line: string; blob: Buffer; file: string } {
  const file = path.join(dir, name)
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', file])
  const line = readFileSync(file + '.pub', 'utf8').trim().split(' ').slice(0, 2).join(' ')
  return { line, blob: Buffer.from(line.split(' ')[1], 'base64'), file }
}

const hashed = (name: string) => {
  const salt = randomBytes(20)
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`
}

t.test('verdicts: known, unknown, changed, revoked; [host]:port and hashed entries', async t => {
  const dir = tempDir(t)
  const a = newKey(dir, 'a')
  const b = newKey(dir, 'b')
  const kh = parseKnownHosts([
    '# comment', '',
    `[10.0.0.1]:2222 ${a.line}`,
    `${hashed('gpu.example.com')} ${a.line}`,
    `${hashed('[gpu.example.com]:2200')} ${b.line}`,
    `*.lab.example,!evil.lab.example ${a.line}`,
    `@revoked * ${b.line}`,
  ].join('\n'))
  t.equal(checkKey(kh, '10.0.0.1', 2222, a.blob).verdict, 'known')
  t.equal(checkKey(kh, '10.0.0.1', 22, a.blob).verdict, 'unknown', 'another port is another host')
  t.equal(checkKey(kh, 'gpu.example.com', 22, a.blob).verdict, 'known', 'hashed entry')
  t.equal(checkKey(kh, 'gpu.example.com', 2200, b.blob).verdict, 'revoked', '@revoked wins')
  t.equal(checkKey(kh, '10.0.0.1', 2222, b.blob).verdict, 'revoked')
  const c = newKey(dir, 'c')
  t.equal(checkKey(kh, '10.0.0.1', 2222, c.blob).verdict, 'changed', 'same key type, another key')
  t.equal(checkKey(kh, 'gpu.example.com', 22, c.blob).verdict, 'changed')
  t.equal(checkKey(kh, 'n1.lab.example', 22, a.blob).verdict, 'known', 'pattern')
  t.equal(checkKey(kh, 'evil.lab.example', 22, c.blob).verdict, 'unknown', 'negated pattern')
  t.equal(hostField('h', 22), 'h')
  t.equal(hostField('h', 2022), '[h]:2022')
})

t.test('fingerprints are what ssh-keygen -l prints; trust appends a line OpenSSH reads', async t => {
  const dir = tempDir(t)
  const a = newKey(dir, 'a')
  const printed = execFileSync('ssh-keygen', ['-l', '-f', a.file + '.pub'], { encoding: 'utf8' }).split(' ')[1]
  t.equal(fingerprint(a.blob), printed)
  const home = tempDir(t)
  await trustKey(home, '127.0.0.1', 2022, a.blob)
  t.equal(checkKey(await readKnownHosts(home), '127.0.0.1', 2022, a.blob).verdict, 'known')
  const found = execFileSync('ssh-keygen', ['-F', '[127.0.0.1]:2022', '-f', path.join(home, '.ssh', 'known_hosts')], { encoding: 'utf8' })
  t.match(found, /Host \[127\.0\.0\.1\]:2022 found/, 'OpenSSH finds the entry')
})

t.test('~/.ssh/config: first value wins, Host patterns, Match blocks skipped', async t => {
  const cfg = [
    'Host gpu1 gpu2', '  HostName %h.cluster.example', '  User ann', '  Port 2222', '  IdentityFile ~/.ssh/lab_key',
    'Match host gpu1', '  User mallory',
    'Host *', '  User fallback', '  IdentityFile ~/.ssh/other', '  ProxyJump bastion',
  ].join('\n')
  t.same(parseSshConfig(cfg, 'gpu1', '/home/ann'), {
    hostname: 'gpu1.cluster.example', user: 'ann', port: 2222, identityFiles: ['/home/ann/.ssh/lab_key', '/home/ann/.ssh/other'], proxyJump: 'bastion',
  })
  t.same(parseSshConfig(cfg, 'other', '/h'), { user: 'fallback', identityFiles: ['/h/.ssh/other'], proxyJump: 'bastion' })
})
