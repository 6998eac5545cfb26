// The SSH backend against real OpenSSH servers on 127.0.0.1: a submit runs on a host and its output, metrics,
// artifacts and exit code reach the refs and another clone; placement by GPUs over two hosts.
import t from 'tap'
import path from 'node:path'
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { makeRepo, lab, labJson, remoteAndOrigin } from '../../helpers.ts'
import { fakeHost, HAVE_SSHD } from './sshd.ts'
import { Lab } from '../../../src/lab/lab.ts'
import { statusDraft } from '../../../src/lab/runs.ts'
import { SshBackend } from '../../../src/dispatch/ssh/backend.ts'

if (!HAVE_SSHD) { t.fail('no /usr/sbin/sshd: .ci/run installs openssh-server'); process.exit(1) }

const JOB = [
  'echo "start $LAB_EXPERIMENT gpus=${CUDA_VISIBLE_DEVICES-unset}"',
  'for i in 1 2 3; do echo "{\\"step\\": $i, \\"loss\\": 0.$i}" >> "$LAB_METRICS"; echo line $i; done',
  'mkdir -p "$LAB_OUTPUT/plots" && echo small > "$LAB_OUTPUT/plots/a.txt"',
  'cat train.py',
  'exit 3',
].join('; ')

t.test('a submit runs on a host: output, metrics, artifacts and exit code reach the refs and another clone', async t => {
  const { remote, origin: r } = remoteAndOrigin(t)
  await lab(r, ['init'])
  const h = await fakeHost(t, { home: r.home, gpus: 2 })
  const wd = path.join(h.dir, "work dir $(touch pwned) 'q'")
  const add = await labJson(r, ['host', 'add', 'gpu-a', `127.0.0.1:${h.port}`, '--gpus', 'auto', '--workdir', wd, '--tag', 'a100'])
  t.match(add, { name: 'gpu-a', address: '127.0.0.1', port: h.port, gpus: null, workdir: wd, tags: ['a100'] })
  const hosts = await labJson(r, ['hosts'])
  t.match(hosts, [{ name: 'gpu-a', reachable: true, gpus: 2, jobs_running: 0 }])
  const id = (await labJson(r, ['submit', '-m', 'on a host', '--run', JOB, '--gpus', '1', '--host', 'gpu-a'])).id
  const local = await lab(r, ['worker', '--once'])
  t.match(local.err, /pinned to host gpu-a/, 'a worker without hosts leaves a pinned experiment alone')
  const w = await lab(r, ['worker', '--once', '--host', 'gpu-a'])
  t.equal(w.code, 0, w.err)
  t.match(w.err, new RegExp(`${id}: started \\(attempt 1 on gpu-a, GPUs gpu-a:0\\)`))
  const e = await labJson(r, ['show', id])
  t.match(e, { status: 'failed', exit_code: 3, host: 'gpu-a', metrics: { loss: 0.3 }, runner: { host: 'gpu-a' } })
  t.match(await labJson(r, ['hosts']), [{ name: 'gpu-a', gpus: 2, gpus_busy: 0, experiments_running: 0, jobs_running: 0 }])
  const logs = await lab(r, ['logs', id])
  t.match(logs.out, new RegExp(`start ${id} gpus=0\\n`), 'CUDA_VISIBLE_DEVICES is the host\'s own index')
  t.match(logs.out, /line 1\nline 2\nline 3\nprint\("loss", 1.0\)/, 'output in order, the code checked out on the host')
  t.match(e.artifacts, [{ path: 'plots/a.txt', size: 6 }])
  t.notOk(existsSync(path.join(h.dir, 'pwned')), 'the workdir reached the shell quoted')
  t.equal(readdirSync(path.join(wd, 'runs')).length, 0, 'the run folder is removed on the host')
  await lab(r, ['sync'])
  const other = makeRepo(t, { clone: remote.dir })
  await lab(other, ['init'])
  const seen = await labJson(other, ['show', id])
  t.match(seen, { status: 'failed', exit_code: 3 })
  t.match((await lab(other, ['logs', id])).out, /line 3/)
  t.match(await labJson(other, ['hosts', '--offline']), [{ name: 'gpu-a', port: h.port }], 'host records travel with sync')
})

t.test('host keys: an unknown key is refused with its fingerprint until trusted; a changed key is refused loudly', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  const h = await fakeHost(t, { home: r.home, trust: false })
  await labJson(r, ['host', 'add', 'box', `127.0.0.1:${h.port}`, '--gpus', '0', '--workdir', path.join(h.dir, 'w')])
  const fp = execFileSync('ssh-keygen', ['-l', '-f', path.join(h.dir, 'host_key.pub')], { encoding: 'utf8' }).split(' ')[1]
  const check = await lab(r, ['host', 'check', 'box'])
  t.equal(check.code, 1)
  t.match(check.out, new RegExp(`FAIL host key +ssh-ed25519 ${fp.replace(/[+/]/g, '\\$&')}: unknown\\n +fix: .*git lab host trust box`))
  const id = (await labJson(r, ['submit', '-m', 'x', '--run', 'echo hi', '--host', 'box'])).id
  const w = await lab(r, ['worker', '--once', '--host', 'box'])
  t.match(w.err, new RegExp(`host key of box .* is not known: ssh-ed25519 ${fp.replace(/[+/]/g, '\\$&')}.*git lab host trust box`))
  t.equal((await labJson(r, ['show', id])).status, 'queued', 'nothing ran, nothing recorded as failed')
  t.notOk(existsSync(path.join(h.dir, 'w')), 'nothing was done on the host')
  t.equal((await lab(r, ['host', 'trust', 'box', '--fingerprint', 'SHA256:nope'])).code, 1, 'a fingerprint that does not match is not trusted')
  const trusted = await labJson(r, ['host', 'trust', 'box'])
  t.match(trusted, { fingerprint: fp, added: true })
  const ok = await labJson(r, ['host', 'check', 'box'])
  t.match(ok, { ok: true })
  t.same(ok.steps.map((s: { step: string }) => s.step), ['resolve', 'tcp', 'host key', 'auth', 'git', 'shell', 'workdir', 'disk', 'nvidia-smi'])
  t.equal((await lab(r, ['worker', '--once', '--host', 'box'])).code, 0)
  t.equal((await labJson(r, ['show', id])).status, 'succeeded')
  // The host is "reinstalled": a new host key on the same address.
  await h.stop()
  rmSync(path.join(h.dir, 'host_key'))
  rmSync(path.join(h.dir, 'host_key.pub'))
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(h.dir, 'host_key')])
  await h.start()
  const id2 = (await labJson(r, ['submit', '-m', 'y', '--run', 'echo hi', '--host', 'box'])).id
  const w2 = await lab(r, ['worker', '--once', '--host', 'box'])
  t.match(w2.err, /THE HOST KEY OF box \(127\.0\.0\.1:\d+\) HAS CHANGED/)
  t.equal((await labJson(r, ['show', id2])).status, 'queued')
  const again = await lab(r, ['host', 'trust', 'box'])
  t.equal(again.code, 1)
  t.match(again.err, /CHANGED .*not trusted/)
})

t.test('6 jobs over 2 hosts placed by GPU count; each gets its host\'s GPU indices; bad host input refused', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  const a = await fakeHost(t, { home: r.home, gpus: 2 })
  const b = await fakeHost(t, { home: r.home, gpus: 1 })
  await labJson(r, ['host', 'add', 'two', `127.0.0.1:${a.port}`, '--workdir', path.join(a.dir, 'w')])
  await labJson(r, ['host', 'add', 'one', `127.0.0.1:${b.port}`, '--workdir', path.join(b.dir, 'w'), '--tag', 'small'])
  const run = 'echo "host=$(basename $(dirname $(dirname $(dirname "$LAB_OUTPUT")))) gpus=$CUDA_VISIBLE_DEVICES"; sleep 1'
  const ids: string[] = []
  ids.push((await labJson(r, ['submit', '-m', 'big', '--run', run, '--gpus', '2'])).id)
  for (let i = 0; i < 4; i++) ids.push((await labJson(r, ['submit', '-m', `j${i}`, '--run', run, '--gpus', '1'])).id)
  ids.push((await labJson(r, ['submit', '-m', 'tagged', '--run', run, '--host-tag', 'small'])).id)
  const w = await lab(r, ['worker', '--once', '--host', 'two', '--host', 'one'])
  t.equal(w.code, 0, w.err)
  const seen: Record<string, string> = {}
  for (const id of ids) {
    const e = await labJson(r, ['show', id])
    t.equal(e.status, 'succeeded', id)
    seen[id] = (await lab(r, ['logs', id])).out.trim()
  }
  const where = (id: string) => /started \(attempt 1 on (\w+)/.exec(w.err.split('\n').find(l => l.includes(`${id}: started`)) ?? '')?.[1]
  t.equal(where(ids[0]), 'two', 'a 2-GPU job runs on the host with 2 GPUs')
  t.equal(seen[ids[0]], 'host=w gpus=0,1')
  t.equal(where(ids[5]), 'one', '--host-tag pins to the tagged host')
  for (const id of ids.slice(1, 5)) t.match(seen[id], /^host=w gpus=[01]$/)
  t.ok(ids.slice(1, 5).some(id => where(id) === 'one') && ids.slice(1, 5).some(id => where(id) === 'two'), 'single-GPU jobs spread over both hosts')
  for (const [args, msg] of [
    [['host', 'add', 'x', '127.0.0.1'], /invalid host name "x"/],
    [['host', 'add', 'good', 'ann@-oProxyCommand=touch'], /invalid host/],
    [['host', 'add', 'good', 'a b@host'], /invalid host/],
    [['host', 'add', 'good', 'host:99999'], /invalid host/],
    [['host', 'add', 'good', 'host', '--gpus', 'many'], /invalid --gpus/],
    [['host', 'add', 'good', 'host', '--workdir', 'a\nb'], /invalid --workdir/],
    [['host', 'remove', 'nope'], /unknown host "nope"/],
    [['submit', '-m', 'x', '--run', 'true', '--host', 'nope'], /unknown host "nope"/],
    [['worker', '--once', '--host', 'nope'], /unknown host "nope"/],
    [['worker', '--once', '--host', 'one', '--gpus', '2'], /--gpus is for this machine/],
    [['submit', '-m', 'x', '--run', 'true', '--host', 'one', '--host-tag', 'small'], /--host or --host-tag, not both/],
    [['submit', '-m', 'x', '--run', 'true', '--host-tag', 'bad tag'], /invalid tag/],
  ] as const) {
    const res = await lab(r, [...args])
    t.not(res.code, 0, args.join(' '))
    t.match(res.err, msg)
    t.equal(res.err.trim().split('\n').length, 1, 'one line')
  }
})

t.test('a large artifact stays on the host, recorded by host and path, and is fetched on demand', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  const h = await fakeHost(t, { home: r.home })
  await labJson(r, ['host', 'add', 'box', `127.0.0.1:${h.port}`, '--gpus', '0', '--workdir', path.join(h.dir, 'w')])
  const run = 'mkdir -p "$LAB_OUTPUT/ckpt" && head -c 3000000 /dev/urandom > "$LAB_OUTPUT/ckpt/model.bin" && echo tiny > "$LAB_OUTPUT/note.txt"'
  const id = (await labJson(r, ['submit', '-m', 'big file', '--run', run, '--host', 'box'])).id
  t.equal((await lab(r, ['worker', '--once', '--host', 'box'])).code, 0)
  const list = await labJson(r, ['artifacts', id])
  const big = list.artifacts.find((a: { path: string }) => a.path === 'ckpt/model.bin')
  t.match(big, { size: 3000000, blob: null, location: new RegExp(`^ssh://box/.*/artifacts/${id}\\.1/ckpt/model\\.bin$`) })
  const kept = big.location.replace(/^ssh:\/\/box/, '')
  t.ok(existsSync(kept), 'kept on the host after the run folder is gone')
  const out = path.join(r.dir, 'fetched')
  const got = await labJson(r, ['artifacts', id, 'ckpt', '-o', out])
  t.match(got.files, [{ path: 'ckpt/model.bin', from: 'host', size: 3000000 }])
  t.ok(readFileSync(path.join(out, 'ckpt/model.bin')).equals(readFileSync(kept)), 'the same bytes')
})

t.test('~/.ssh/config: a host added by its alias is reached through its ProxyJump host', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  const jump = await fakeHost(t, { home: r.home })
  const target = await fakeHost(t, { home: r.home })
  writeFileSync(path.join(r.home, '.ssh', 'config'), [
    'Host viajump', '  HostName 127.0.0.1', `  Port ${target.port}`, `  ProxyJump 127.0.0.1:${jump.port}`, '',
  ].join('\n'))
  await labJson(r, ['host', 'add', 'inner', 'viajump', '--gpus', '0', '--workdir', path.join(target.dir, 'w')])
  const check = await labJson(r, ['host', 'check', 'inner'])
  t.match(check, { ok: true, steps: [{ step: 'resolve', detail: /through ProxyJump 127\.0\.0\.1:\d+/ }] })
  const id = (await labJson(r, ['submit', '-m', 'x', '--run', 'echo through', '--host', 'inner'])).id
  t.equal((await lab(r, ['worker', '--once', '--host', 'inner'])).code, 0)
  t.match(await labJson(r, ['show', id]), { status: 'succeeded' })
  await jump.down()
  t.match(await labJson(r, ['hosts']), [{ name: 'inner', reachable: false, error: /jump 127\.0\.0\.1/ }], 'without the jump host, no way in')
})

t.test('~/.ssh/config: ProxyJump with two hops goes through both, in order', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  const first = await fakeHost(t, { home: r.home })
  const second = await fakeHost(t, { home: r.home })
  const target = await fakeHost(t, { home: r.home })
  writeFileSync(path.join(r.home, '.ssh', 'config'), [
    'Host second', '  HostName 127.0.0.1', `  Port ${second.port}`, '',
    'Host deep', '  HostName 127.0.0.1', `  Port ${target.port}`, `  ProxyJump 127.0.0.1:${first.port},second`, '',
  ].join('\n'))
  await labJson(r, ['host', 'add', 'deep', 'deep', '--gpus', '0', '--workdir', path.join(target.dir, 'w')])
  const id = (await labJson(r, ['submit', '-m', 'x', '--run', 'echo two hops', '--host', 'deep'])).id
  t.equal((await lab(r, ['worker', '--once', '--host', 'deep'])).code, 0)
  t.match(await labJson(r, ['show', id]), { status: 'succeeded' })
  t.equal((await lab(r, ['logs', id])).out, 'two hops\n')
  await second.down()
  t.match(await labJson(r, ['hosts']), [{ name: 'deep', reachable: false, error: /jump second/ }], 'the second hop is on the way')
  await second.start()
  await first.down()
  t.match(await labJson(r, ['hosts']), [{ name: 'deep', reachable: false, error: /jump 127\.0\.0\.1/ }], 'and so is the first')
})

t.test('code reaches a host incrementally: a second snapshot travels as a thin pack against the first', async t => {
  const big = randomBytes(150_000).toString('base64')
  const r = makeRepo(t, { files: { 'train.py': 'print("v1")\n', 'data/big.txt': big + '\n' } })
  await lab(r, ['init'])
  const h = await fakeHost(t, { home: r.home })
  const wd = path.join(h.dir, 'w')
  await labJson(r, ['host', 'add', 'box', `127.0.0.1:${h.port}`, '--gpus', '0', '--workdir', wd])
  const a = (await labJson(r, ['submit', '-m', 'v1', '--run', 'cat train.py', '--host', 'box'])).id
  t.equal((await lab(r, ['worker', '--once', '--host', 'box'])).code, 0)
  writeFileSync(path.join(r.dir, 'train.py'), 'print("v2")\n')
  const b = (await labJson(r, ['submit', '-m', 'v2', '--run', 'cat train.py; wc -c < data/big.txt', '--host', 'box'])).id
  t.equal((await lab(r, ['worker', '--once', '--host', 'box'])).code, 0)
  t.equal((await lab(r, ['logs', a])).out, 'print("v1")\n')
  t.equal((await lab(r, ['logs', b])).out, `print("v2")\n${big.length + 1}\n`)
  const refs = execFileSync('git', ['-C', path.join(wd, 'repo.git'), 'for-each-ref', '--format=%(refname)', 'refs/lab/'], { encoding: 'utf8' })
  t.equal(refs.trim().split('\n').length, 2, 'the host keeps each commit it received')
  const packs = readdirSync(path.join(wd, 'repo.git', 'objects', 'pack')).filter(f => f.endsWith('.pack'))
    .map(f => readFileSync(path.join(wd, 'repo.git', 'objects', 'pack', f)).length).sort((x, y) => x - y)
  t.equal(packs.length, 2)
  t.ok(packs[1] > 100_000 && packs[0] < 1000, `the second pack carries only what changed (${packs[0]} bytes; the first ${packs[1]})`)
})

t.test('the pool opens more connections past sshd\'s 10 sessions per connection, and never fails a command for it', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  const h = await fakeHost(t, { home: r.home })
  await labJson(r, ['host', 'add', 'box', `127.0.0.1:${h.port}`, '--gpus', '0', '--workdir', path.join(h.dir, 'w')])
  const l = await Lab.open({ cwd: r.dir, env: r.env })
  const b = new SshBackend(l, (await l.state()).hosts.box)
  t.teardown(() => { b.close(); l.close() })
  const results = await Promise.all(Array.from({ length: 30 }, (_, i) => b.sh('sleep 1; echo "$1"', [`n${i}`])))
  t.same(results.map(x => x.stdout.toString().trim()), Array.from({ length: 30 }, (_, i) => `n${i}`))
  t.ok(b.pool.opened >= 4, `30 sessions at once over ${b.pool.opened} connections`)
})

t.test('hostile records: host records that could reach ssh as options are refused; ssh:// locations outside the artifact folders are not read', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  const h = await fakeHost(t, { home: r.home })
  const wd = path.join(h.dir, 'w')
  await labJson(r, ['host', 'add', 'box', `127.0.0.1:${h.port}`, '--gpus', '0', '--workdir', wd])
  const id = (await labJson(r, ['submit', '-m', 'x', '--no-code', '--run', 'true'])).id
  const l = await Lab.open({ cwd: r.dir, env: r.env })
  t.teardown(() => l.close())
  for (const payload of [
    { address: '-oProxyCommand=touch /tmp/pwned' }, { address: 'ok.example', user: '-oProxyCommand=x' }, { address: 'a b' },
    { address: 'ok.example', workdir: 'a\nb' }, { address: 'ok.example', port: 0 }, { address: 'ok.example', gpus: -1 },
  ]) {
    await t.rejects(l.write([{ type: 'host.add', entity: 'evil', payload }], 'evil'), { code: 'Invalid' }, JSON.stringify(payload))
  }
  const passwd = readFileSync('/etc/passwd')
  const sha = createHash('sha256').update(passwd).digest('hex')
  const file = (p: string, location: string) => ({ path: p, size: passwd.length, sha256: sha, blob: null, location })
  await l.write([
    statusDraft(id, 1, { status: 'claimed', host: 'box' }),
    { type: 'experiment.artifacts', entity: id, payload: { attempt: 1, files: [
      file('a', 'ssh://box/etc/passwd'),
      file('b', `ssh://box${wd}/artifacts/${id}.1/../../../../../../etc/passwd`),
      file('c', `ssh://nosuch${wd}/artifacts/${id}.1/c`),
      file('d', `ssh://box${wd}/artifacts/${id}.2/d`),
    ] } },
  ], 'hostile')
  const res = await lab(r, ['artifacts', id, '-o', 'out', '--json'])
  t.equal(res.code, 1)
  const why = Object.fromEntries(JSON.parse(res.out).failed.map((f: { path: string; reason: string }) => [f.path, f.reason]))
  t.match(why, { a: /not where git lab keeps artifacts/, b: /not where git lab keeps artifacts/, c: /not a host of this lab/, d: /not where git lab keeps artifacts/ })
  t.notOk(existsSync(path.join(r.dir, 'out', 'a')))
})

t.test('logging in: an identity named in local git config, then the ssh-agent; a refused login says how to fix it', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  const h = await fakeHost(t, { home: r.home })
  // The key moves out of the default place: nothing finds it by itself.
  const keys = path.join(r.home, 'keys')
  mkdirSync(keys)
  renameSync(path.join(r.home, '.ssh', 'id_ed25519'), path.join(keys, 'lab key'))
  await labJson(r, ['host', 'add', 'box', `127.0.0.1:${h.port}`, '--gpus', '0', '--workdir', path.join(h.dir, 'w')])
  const no = await labJson(r, ['hosts'])
  t.match(no, [{ reachable: false, error: /cannot log in to box as \w+: no key was accepted .*git config lab\.host\.box\.identity/ }])
  r.git('config', 'lab.host.box.identity', '~/keys/lab key')
  t.match(await labJson(r, ['hosts']), [{ reachable: true }], 'the identity named in local git config')
  r.git('config', '--unset', 'lab.host.box.identity')
  const sock = path.join(r.home, 'agent.sock')
  const agent = execFileSync('ssh-agent', ['-a', sock, '-s'], { encoding: 'utf8' })
  const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(agent)![1])
  t.teardown(() => { try { process.kill(pid) } catch { /* gone */ } })
  execFileSync('ssh-add', ['-q', path.join(keys, 'lab key')], { env: { ...r.env, SSH_AUTH_SOCK: sock } })
  r.env.SSH_AUTH_SOCK = sock
  const id = (await labJson(r, ['submit', '-m', 'x', '--run', 'echo via agent', '--host', 'box'])).id
  t.equal((await lab(r, ['worker', '--once', '--host', 'box'])).code, 0)
  t.match(await labJson(r, ['show', id]), { status: 'succeeded' }, 'the ssh-agent')
})
