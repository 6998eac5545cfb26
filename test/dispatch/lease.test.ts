// Leases: a worker whose claim is lost stops its job and says why; expiry is judged on the observer's clock alone,
// so a worker whose clock is 5 minutes off neither takes over a live claim nor waits 5 minutes on a dead one.
import t from 'tap'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { git, lab, procAlive, labJson, labStart, makeRepo, remoteAndOrigin, tempDir, waitFor, type TestRepo } from '../helpers.ts'
import { Lab } from '../../src/lab/lab.ts'
import { claimExperiment, readClaim } from '../../src/lab/claims.ts'
import { record, statusDraft } from '../../src/lab/runs.ts'
import { sync } from '../../src/lab/sync.ts'
import { LocalBackend } from '../../src/dispatch/local.ts'
import { Worker } from '../../src/dispatch/worker.ts'

const alive = (r: TestRepo, marker: string) => procAlive(marker, [r])
const lines = (file: string) => { try { return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) } catch { return [] } }
const MIN5 = 5 * 60_000

async function twoClones(t: Parameters<typeof makeRepo>[0]): Promise<{ remote: TestRepo; origin: TestRepo; bob: TestRepo }> {
  const { remote, origin } = remoteAndOrigin(t)
  await lab(origin, ['init'])
  const bob = makeRepo(t, { clone: remote.dir, name: 'Bob' })
  // the smallest writer id: of two `claimed` reports with the same clock, Bob's comes first in the fold
  bob.git('config', 'lab.writer', '00000000')
  await lab(bob, ['init'])
  return { remote, origin, bob }
}

t.test('a renewal refused (the claim was taken over): the worker stops the job, logs why, records the attempt lost', async t => {
  const { origin, bob } = await twoClones(t)
  const id = (await labJson(origin, ['submit', '-m', 'long', '--run', 'echo up; sleep 426'])).id
  const w = labStart(origin, ['worker', '--once', '--lease', '3s', '--sync-every', '0', '--grace', '500ms'])
  await waitFor('running', () => alive(origin, 'sleep 426'))
  // Bob takes the claim over on the remote (as a worker that thought it expired would)
  const b = await Lab.open({ cwd: bob.dir, env: bob.env })
  t.teardown(() => b.close())
  const held = await readClaim(b, id, 1, true)
  t.ok((await claimExperiment(b, id, 1, { worker: 'bob-worker', replacing: held!.position })).won)
  const res = await w.result
  t.equal(res.code, 0, res.err)
  t.match(res.err, new RegExp(`${id}: its claim was taken over by bob-worker .*: stopping it`))
  t.notOk(alive(origin, 'sleep 426'), 'the job was stopped')
  t.match(await labJson(origin, ['show', id]), { status: 'lost', reason: /claim .*taken over by bob-worker/ })
})

t.test('the fold shows another writer as the runner: the worker stops the job, logs why, and writes no end', async t => {
  const { origin, bob } = await twoClones(t)
  const id = (await labJson(origin, ['submit', '-m', 'contested', '--run', 'echo up; sleep 427'])).id
  await lab(origin, ['sync'])
  await lab(bob, ['sync'])
  const w = labStart(origin, ['worker', '--once', '--sync-every', '300ms', '--grace', '500ms'])
  await waitFor('running', () => alive(origin, 'sleep 427'))
  // Bob recorded a claim of attempt 1 that comes first in the fold (he had not seen origin's)
  const b = await Lab.open({ cwd: bob.dir, env: bob.env })
  t.teardown(() => b.close())
  await record(b, id, [statusDraft(id, 1, { status: 'claimed', worker: 'bob-worker' })], 'claimed')
  await sync(b)
  const res = await w.result
  t.equal(res.code, 0, res.err)
  t.match(res.err, new RegExp(`${id}: attempt 1 is recorded as run by bob-worker \\(writer 00000000\\): stopping it`))
  t.notOk(alive(origin, 'sleep 427'), 'the job was stopped')
  const e = await labJson(origin, ['show', id])
  t.equal(e.runner.writer, '00000000')
  t.equal(e.status, 'claimed', 'nothing more recorded for an attempt this worker does not run')
})

t.test('a worker whose clock is 5 minutes ahead does not take over a live claim', async t => {
  const { origin, bob } = await twoClones(t)
  const log = path.join(tempDir(t), 'trace')
  const id = (await labJson(origin, ['submit', '-m', 'live', '--run', `echo "$LAB_EXPERIMENT" >> ${log}; echo up; sleep 428`])).id
  await lab(origin, ['sync'])
  // origin's worker does not sync: Bob sees the experiment queued, and only its claim ref tells him it is taken
  const w = labStart(origin, ['worker', '--lease', '3s', '--sync-every', '0', '--grace', '500ms'])
  t.teardown(() => { w.child.kill('SIGTERM') })
  await waitFor('running', () => alive(origin, 'sleep 428'))
  await lab(bob, ['sync'])
  t.equal((await labJson(bob, ['show', id])).status, 'queued')
  const b = await Lab.open({ cwd: bob.dir, env: bob.env, now: () => new Date(Date.now() + MIN5) })
  t.teardown(() => b.close())
  const out: string[] = []
  const worker = new Worker(b, new LocalBackend(b, []), { leaseSeconds: 3, syncEvery: 0, tickMs: 200, log: s => out.push(s) })
  const running = worker.run()
  await new Promise(r => setTimeout(r, 8000)) // more than two leases
  worker.stop()
  await running
  t.same(lines(log), [id], 'it ran once, on origin')
  t.notMatch(out.join('\n'), /started/, `Bob's worker started nothing: ${out.join(' | ')}`)
  t.ok(alive(origin, 'sleep 428'), 'the live job runs on')
  t.equal((await lab(origin, ['cancel', id])).code, 0)
  await waitFor('the job to stop', () => !alive(origin, 'sleep 428'))
  w.child.kill('SIGTERM')
  await w.result
})

t.test('a worker whose clock is 5 minutes behind takes over a dead claim after one lease of seeing it unchanged', async t => {
  const { remote, origin, bob } = await twoClones(t)
  const id = (await labJson(origin, ['submit', '-m', 'abandoned', '--run', 'echo taken over'])).id
  await lab(origin, ['sync'])
  // a claim made on another host by a worker that is gone: a 3 s lease, never renewed
  const now = Date.now()
  const claim = { experiment: id, attempt: 1, writer: 'deadbeef', worker: 'gone', host: 'elsewhere', pid: 12345,
    time: new Date(now).toISOString(), expires_at: new Date(now + 3000).toISOString() }
  const blob = git(origin.dir, ['hash-object', '-w', '--stdin'], origin.env, JSON.stringify(claim)).trim()
  const tree = git(origin.dir, ['mktree'], origin.env, `100644 blob ${blob}\tclaim.json\n`).trim()
  const commit = git(origin.dir, ['commit-tree', tree, '-m', 'claim'], origin.env).trim()
  origin.git('push', '-q', 'origin', `${commit}:refs/lab/claims/${id}/1`)
  await lab(bob, ['sync'])
  const b = await Lab.open({ cwd: bob.dir, env: bob.env, now: () => new Date(Date.now() - MIN5) })
  t.teardown(() => b.close())
  const out: string[] = []
  const worker = new Worker(b, new LocalBackend(b, []), { syncEvery: 0, tickMs: 200, log: s => out.push(s) })
  const running = worker.run()
  const t0 = Date.now()
  await waitFor('the takeover', async () => (await b.state()).experiments[id].status === 'succeeded', 30_000)
  t.ok(Date.now() - t0 >= 2500, 'not before a lease of seeing it unchanged')
  worker.stop()
  await running
  t.not(remote.git('rev-parse', `refs/lab/claims/${id}/1`).trim(), commit, 'the claim on the remote is Bob\'s now')
})
