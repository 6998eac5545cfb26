// Faults on SSH hosts, with real sshd processes: connections killed and sshd stopped mid-run (every line kept exactly
// once), a worker killed with kill -9 and a new one re-attaching, cancel killing the remote tree, a host down at
// dispatch, a host unreachable past lab.hostTimeout, a host that restarted (boot id changed).
import t, { type Test } from 'tap'
import path from 'node:path'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { makeRepo, lab, labJson, labStart, waitFor, type TestRepo } from '../../helpers.ts'
import { fakeHost, HAVE_SSHD, type FakeHost } from './sshd.ts'

if (!HAVE_SSHD) { t.fail('no /usr/sbin/sshd: .ci/run installs openssh-server'); process.exit(1) }

/** n output lines and n metric points, one every `gap` seconds. */
const counter = (n: number, gap = '0.02') =>
  `i=0; while [ $i -lt ${n} ]; do i=$((i+1)); echo "line $i"; echo "{\\"step\\": $i, \\"x\\": $i}" >> "$LAB_METRICS"; sleep ${gap}; done`

/** Lines of the job's output journal on the host so far. */
function remoteLines(h: FakeHost): number {
  try {
    const runs = path.join(h.dir, 'w', 'runs')
    return readdirSync(runs).reduce((n, d) => n + readFileSync(path.join(runs, d, 'output.log'), 'utf8').split('\n').length - 1, 0)
  } catch { return 0 }
}

/** Processes whose environment names this experiment (its whole tree on the host, which is this machine). */
function jobPids(id: string): number[] {
  const out: number[] = []
  for (const p of readdirSync('/proc').filter(d => /^\d+$/.test(d))) {
    try { if (readFileSync(`/proc/${p}/environ`).includes(`LAB_EXPERIMENT=${id}\0`)) out.push(Number(p)) } catch { /* gone */ }
  }
  return out
}
const killTree = (id: string) => { for (const p of jobPids(id)) try { process.kill(p, 'SIGKILL') } catch { /* gone */ } }

async function setup(t: Test, gpus = 1): Promise<{ r: TestRepo; h: FakeHost }> {
  const r = makeRepo(t)
  await lab(r, ['init'])
  const h = await fakeHost(t, { home: r.home, gpus })
  await labJson(r, ['host', 'add', 'box', `127.0.0.1:${h.port}`, '--workdir', path.join(h.dir, 'w')])
  return { r, h }
}

async function checkAllLines(t: Test, r: TestRepo, id: string, n: number) {
  const out = (await lab(r, ['logs', id])).out
  t.same(out.trim().split('\n'), Array.from({ length: n }, (_, i) => `line ${i + 1}`), 'every line exactly once, in order')
  const m = await labJson(r, ['metrics', id])
  const points = (m.series ?? m).x?.points ?? (m.series ?? m).x
  t.equal(Array.isArray(points) ? points.length : (await labJson(r, ['show', id])).series.x.count, n, 'every point exactly once')
}

t.test('connections killed and sshd stopped for 20 s mid-run: the job survives, every line and point kept exactly once', async t => {
  const { r, h } = await setup(t)
  const id = (await labJson(r, ['submit', '-m', 'long', '--run', counter(400)])).id
  const w = lab(r, ['worker', '--once', '--host', 'box'])
  await waitFor('output on the host', () => remoteLines(h) > 40, 60_000)
  const sessions = h.sessionPids()
  t.ok(sessions.length > 0, 'the worker\'s connection has its sshd process')
  for (const p of sessions) process.kill(p, 'SIGKILL')
  await waitFor('more output', () => remoteLines(h) > 150, 60_000)
  // sshd gone for 20 s (the worker's reconnects back off, with jitter, and go on from their offsets)
  await h.down()
  await new Promise(res => setTimeout(res, 20_000))
  await h.start()
  const done = await w
  t.equal(done.code, 0, done.err)
  t.equal((await labJson(r, ['show', id])).status, 'succeeded', done.err)
  t.match(done.err, /the connection closed while a command ran|cannot connect/, 'the worker saw the connection go')
  await checkAllLines(t, r, id, 400)
})

t.test('a worker killed with kill -9: the job runs on, a new worker re-attaches and records it whole', async t => {
  const { r, h } = await setup(t)
  const id = (await labJson(r, ['submit', '-m', 'long', '--run', counter(200)])).id
  const first = labStart(r, ['worker', '--host', 'box'])
  await waitFor('output on the host', () => remoteLines(h) > 30, 60_000)
  first.child.kill('SIGKILL')
  await first.result
  const second = await lab(r, ['worker', '--once', '--host', 'box'])
  t.equal(second.code, 0, second.err)
  t.match(second.err, new RegExp(`${id}: re-attached \\(attempt 1\\)`))
  t.equal((await labJson(r, ['show', id])).status, 'succeeded')
  await checkAllLines(t, r, id, 200)
})

t.test('logs -f of a job on a host whose worker is gone: its lines come from the host, masked as the refs will hold them', async t => {
  const { r, h } = await setup(t)
  const env = { LAB_TAIL_TOKEN: 'tail-secret-123' }
  // (the worker and logs mask the values of secret-looking variables of their own environment, whoever prints them)
  const run = `echo first; sleep 4; echo "second ${env.LAB_TAIL_TOKEN}"; echo third; sleep 1004`
  const id = (await labJson(r, ['submit', '-m', 'tail', '--run', run])).id
  t.teardown(() => killTree(id))
  const first = labStart(r, ['worker', '--host', 'box'], env)
  await waitFor('the first line sealed', async () => /first/.test((await lab(r, ['logs', id])).out), 60_000)
  first.child.kill('SIGKILL')
  await first.result
  // (no worker seals anything now: what follows is on the host alone)
  await waitFor('the rest on the host', () => remoteLines(h) >= 3, 20_000)
  t.notMatch((await lab(r, ['logs', id])).out, /third/, 'not in the refs')
  const follow = labStart(r, ['logs', id, '-f'], env)
  await waitFor('logs -f to show the host\'s lines', () => /third/.test(follow.output().out), 20_000)
  t.equal(follow.output().out, `first\nsecond ${'*'.repeat(env.LAB_TAIL_TOKEN.length)}\nthird\n`, 'every line once, the secret masked')
  follow.child.kill('SIGTERM')
  await follow.result
  // a new worker re-attaches and seals the same bytes
  t.equal((await lab(r, ['cancel', id])).code, 0)
  const second = await lab({ dir: r.dir, env: { ...r.env, ...env } }, ['worker', '--once', '--host', 'box', '--grace', '500ms'])
  t.equal(second.code, 0, second.err)
  t.equal((await lab(r, ['logs', id])).out, `first\nsecond ${'*'.repeat(env.LAB_TAIL_TOKEN.length)}\nthird\n`, 'the refs hold what was shown')
})

t.test('cancel on a host: the whole remote tree is gone, daemonized children too', async t => {
  const { r, h } = await setup(t)
  const run = 'setsid sleep 1000 & nohup sleep 1001 >/dev/null 2>&1 & (trap "" TERM; sleep 1002) & echo started; sleep 1003'
  const id = (await labJson(r, ['submit', '-m', 'tree', '--run', run])).id
  t.teardown(() => killTree(id))
  const w = lab(r, ['worker', '--once', '--host', 'box', '--grace', '1s'])
  await waitFor('the tree on the host', () => remoteLines(h) > 0 && jobPids(id).length >= 4, 60_000)
  t.equal((await lab(r, ['cancel', id])).code, 0)
  const done = await w
  t.equal(done.code, 0, done.err)
  t.match(await labJson(r, ['show', id]), { status: 'cancelled' })
  t.same(jobPids(id), [], 'nothing of the job is left on the host')
})

t.test('a host down at dispatch: work goes to the host that answers; work pinned to it stays queued', async t => {
  const { r, h } = await setup(t)
  const down = await fakeHost(t, { home: r.home, gpus: 4 })
  await labJson(r, ['host', 'add', 'down', `127.0.0.1:${down.port}`, '--workdir', path.join(down.dir, 'w')])
  await down.stop()
  const a = (await labJson(r, ['submit', '-m', 'a', '--run', 'echo a'])).id
  const b = (await labJson(r, ['submit', '-m', 'b', '--run', 'echo b', '--host', 'down'])).id
  const w = await lab(r, ['worker', '--once', '--host', 'box', '--host', 'down'])
  t.equal(w.code, 0, w.err)
  t.match(w.err, /down: cannot connect to 127\.0\.0\.1:\d+ \(down\): .*ECONNREFUSED/)
  t.match(await labJson(r, ['show', a]), { status: 'succeeded', host: null })
  t.equal((await labJson(r, ['show', b])).status, 'queued')
  const hosts = await labJson(r, ['hosts'])
  t.match(hosts, [{ name: 'box', reachable: true }, { name: 'down', reachable: false, error: /ECONNREFUSED/, last_seen: null }])
  t.ok(h)
})

t.test('a host unreachable past lab.hostTimeout: its job is lost with the reason', async t => {
  const { r, h } = await setup(t)
  r.git('config', 'lab.hostTimeout', '3s')
  const id = (await labJson(r, ['submit', '-m', 'stuck', '--run', 'echo started; sleep 60'])).id
  t.teardown(() => killTree(id))
  const w = lab(r, ['worker', '--once', '--host', 'box'])
  await waitFor('its first line in the refs', async () => (await lab(r, ['logs', id])).out.includes('started'), 60_000)
  await h.down()
  const done = await w
  t.equal(done.code, 0, done.err)
  const e = await labJson(r, ['show', id])
  t.match(e, { status: 'lost', reason: /host box unreachable for \d+s/ })
  t.match((await lab(r, ['logs', id])).out, /started/, 'what was read before is kept')
  t.match(await labJson(r, ['hosts']), [{ name: 'box', reachable: false, last_seen: /^\d{4}-\d\d-\d\dT/ }], 'since when it is down')
})

t.test('a host that restarted (its boot id changed): its job is lost at once, and queued again with --retry-lost', async t => {
  const { r, h } = await setup(t)
  const id = (await labJson(r, ['submit', '-m', 'rebooted', '--run', 'echo "started $LAB_ATTEMPT"; if [ "$LAB_ATTEMPT" = 1 ]; then sleep 60; fi'])).id
  t.teardown(() => killTree(id))
  const first = labStart(r, ['worker', '--host', 'box'])
  await waitFor('the job on the host', () => remoteLines(h) > 0, 60_000)
  first.child.kill('SIGKILL')
  await first.result
  // What a restart leaves: the job's record names a boot id the host no longer has.
  const runs = path.join(h.dir, 'w', 'runs')
  const file = path.join(runs, readdirSync(runs)[0], 'job.json')
  const job = JSON.parse(readFileSync(file, 'utf8'))
  writeFileSync(file, JSON.stringify({ ...job, boot: 'an-older-boot' }) + '\n')
  const started = Date.now()
  const w = await lab(r, ['worker', '--once', '--host', 'box', '--retry-lost', '2'])
  t.equal(w.code, 0, w.err)
  t.ok(Date.now() - started < 50_000, 'not waited on')
  t.match(w.err, new RegExp(`${id}: lost \\(host box restarted \\(its boot id changed\\)\\)`))
  t.match(w.err, new RegExp(`${id}: queued again as attempt 2`))
  t.match(await labJson(r, ['show', id]), { status: 'succeeded', attempt: 2 })
  t.equal((await lab(r, ['logs', id, '--attempt', '2'])).out, 'started 2\n')
  t.equal((await lab(r, ['worker', '--once', '--host', 'box', '--retry-lost', '0'])).code, 2, 'a bad --retry-lost is refused')
})

t.test('a worker restarted while its host is down follows the recorded jobs there and marks them lost after lab.hostTimeout', async t => {
  const { r, h } = await setup(t)
  r.git('config', 'lab.hostTimeout', '3s')
  const id = (await labJson(r, ['submit', '-m', 'stuck', '--run', 'echo started; sleep 60'])).id
  t.teardown(() => killTree(id))
  const first = labStart(r, ['worker', '--host', 'box'])
  await waitFor('the job running', async () => (await labJson(r, ['show', id])).status === 'running', 60_000)
  first.child.kill('SIGKILL')
  await first.result
  await h.down()
  const w = await lab(r, ['worker', '--once', '--host', 'box'])
  t.equal(w.code, 0, w.err)
  t.match(w.err, /box: cannot look for jobs to re-attach to: .*\(following the 1 the records place there\)/)
  t.match(await labJson(r, ['show', id]), { status: 'lost', reason: /host box unreachable for \d+s/ })
})
