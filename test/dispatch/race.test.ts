// One claim authority per lab: `git lab run` beside a worker in the same clone, offline runs, and run folders of live
// jobs that nothing may remove or reuse.
import t from 'tap'
import { existsSync, readFileSync, renameSync } from 'node:fs'
import path from 'node:path'
import { lab, labJson, labProcess, remoteAndOrigin, tempDir, waitFor } from '../helpers.ts'
import { Lab } from '../../src/lab/lab.ts'
import { claimExperiment, readClaim } from '../../src/lab/claims.ts'
import { LocalBackend } from '../../src/dispatch/local.ts'
import { Worker } from '../../src/dispatch/worker.ts'
import { Claimer } from '../../src/dispatch/claimer.ts'
import { record, statusDraft } from '../../src/lab/runs.ts'
import { spawnSync } from 'node:child_process'
import type { JobSpec } from '../../src/dispatch/backend.ts'
import { alive } from '../../src/dispatch/proc.ts'

const trace = (file: string, extra = '') => `echo "$LAB_EXPERIMENT start" >> ${file}; ${extra} echo "ran $LAB_EXPERIMENT"`
const lines = (file: string) => { try { return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) } catch { return [] } }

t.test('git lab run beside a worker in the same clone, with a lab remote: each experiment runs once, none is lost', async t => {
  const { remote, origin } = remoteAndOrigin(t)
  await lab(origin, ['init'])
  const log = path.join(tempDir(t), 'trace')
  // A worker that looks at the queue every 20 ms (instead of every second) hits the window between a run's submit and
  // its claim as often as it can.
  const l = await Lab.open({ cwd: origin.dir, env: origin.env })
  const lines_: string[] = []
  const worker = new Worker(l, new LocalBackend(l, []), { tickMs: 20, jobs: 8, syncEvery: 0, name: 'fast-worker', log: s => lines_.push(s) })
  const running = worker.run()
  // (stopped however the test ends: a worker left running takes the next tests down with it)
  t.teardown(async () => { worker.stop(); await running.catch(() => undefined); l.close() })
  const queued: string[] = []
  for (let i = 0; i < 3; i++) queued.push((await labJson(origin, ['submit', '-m', `q${i}`, '--run', trace(log, 'sleep 0.2;')])).id)
  const runs = []
  for (let round = 0; round < 3; round++) {
    runs.push(...await Promise.all([0, 1].map(i => labProcess(origin, ['run', '-m', `r${round}.${i}`, '--run', trace(log, 'sleep 0.3;')]))))
  }
  const ids = runs.map(r => /experiment ([0-9a-f]+)/.exec(r.err)?.[1])
  runs.forEach((r, i) => {
    t.equal(r.code, 0, `run ${i} succeeded: ${r.err}`)
    t.match(r.out, new RegExp(`^ran ${ids[i]}\\n`), `run ${i} ran its own experiment and streamed it`)
  })
  await waitFor('the queued ones', async () => {
    const all = await labJson(origin, ['log', '--limit', '0'])
    return all.filter((e: any) => e.status === 'succeeded').length === queued.length + runs.length
  })
  worker.stop()
  await running
  const starts = lines(log).map(x => x.split(' ')[0]).sort()
  t.same(starts, [...queued, ...ids].sort(), 'every experiment started exactly once')
  const all = await labJson(origin, ['log', '--limit', '0'])
  t.same(all.map((e: any) => e.status), Array(9).fill('succeeded'), 'none failed or lost')
  t.notMatch(lines_.join('\n'), /could not prepare/)
  // every claim went through the lab remote, the run's included
  for (const id of [...queued, ...ids]) t.ok(remote.git('rev-parse', '--verify', '-q', `refs/lab/claims/${id}/1`).trim(), `${id}: claimed on the remote`)
})

t.test('git lab run with its lab remote unreachable: claims with this clone alone, says so, and runs', async t => {
  const { remote, origin } = remoteAndOrigin(t)
  await lab(origin, ['init'])
  renameSync(remote.dir, `${remote.dir}.gone`)
  t.teardown(() => renameSync(`${remote.dir}.gone`, remote.dir))
  const res = await lab(origin, ['run', '-m', 'offline', '--run', 'echo offline run'])
  t.equal(res.code, 0, res.err)
  t.equal(res.out, 'offline run\n')
  t.match(res.err, /cannot reach origin .*claimed in this clone only/)
  const id = /experiment ([0-9a-f]+)/.exec(res.err)![1]
  t.equal((await labJson(origin, ['show', id])).status, 'succeeded')
  // a worker of this clone, with the remote still unreachable, does not claim anything by itself
  const queued = (await labJson(origin, ['submit', '-m', 'for a worker', '--run', 'echo w'])).id
  const w = await lab(origin, ['worker', '--once', '--sync-every', '0'])
  t.match(w.err, /cannot claim/)
  t.equal((await labJson(origin, ['show', queued])).status, 'queued')
})

t.test('a claim this clone made offline binds every claimer of the clone, and reaches the remote when renewed', async t => {
  const { remote, origin } = remoteAndOrigin(t)
  await lab(origin, ['init'])
  const l = await Lab.open({ cwd: origin.dir, env: origin.env })
  t.teardown(() => l.close())
  renameSync(remote.dir, `${remote.dir}.gone`)
  const off = await claimExperiment(l, 'expoffline', 1, { offline: true })
  t.ok(off.won)
  t.equal(off.position.remote, null, 'held by this clone only')
  t.match(off.offline, /\S/, 'and says why the remote was not used')
  await t.rejects(claimExperiment(l, 'expother1', 1), /cannot claim expother1 on origin/, 'without offline a claim needs the remote')
  t.equal(await l.repo.revParse('refs/lab/claims/expother1/1'), null, 'and leaves nothing behind')
  renameSync(`${remote.dir}.gone`, remote.dir)
  // another process of this clone: the remote would let it win, this clone's ref does not
  t.equal((await claimExperiment(l, 'expoffline', 1)).won, false)
  const held = await readClaim(l, 'expoffline', 1, true)
  t.same(held!.position, { remote: null, local: off.sha })
  const renewed = await claimExperiment(l, 'expoffline', 1, { replacing: off.position })
  t.ok(renewed.won)
  t.equal(remote.git('rev-parse', 'refs/lab/claims/expoffline/1').trim(), renewed.sha, 'the renewal published it')
})

t.test('a run folder whose job is alive is never removed or reused', async t => {
  const { origin } = remoteAndOrigin(t)
  await lab(origin, ['init'])
  const l = await Lab.open({ cwd: origin.dir, env: origin.env })
  t.teardown(() => l.close())
  const a = new LocalBackend(l, [])
  const b = new LocalBackend(l, [])
  const spec: JobSpec = { id: 'expalive', attempt: 1, commit: null, run: 'echo up; sleep 24.1', setup: null, env: {}, gpus: [], timeout: null, keep: false }
  await a.prepare(spec)
  await a.start(spec)
  await waitFor('running', async () => (await a.poll(spec)).phase === 'running')
  await t.rejects(b.prepare(spec), { code: 'Busy' }, 'a second prepare of the attempt is refused')
  await b.cleanup(spec).catch(() => undefined)
  const dir = path.join(origin.dir, '.git', 'lab', 'runs', 'expalive.1')
  t.ok(existsSync(path.join(dir, 'output.log')), 'its folder is still there')
  t.equal((await a.poll(spec)).phase, 'running', 'and its job still runs')
  const pid = Number(readFileSync(path.join(dir, 'pid'), 'utf8'))
  await a.cancel(spec, 500)
  t.notOk(alive(pid))
  await a.cleanup(spec)
  t.notOk(existsSync(dir))
})

t.test('a worker working from a tick-old state does not take over the claim of a worker that ran the attempt and exited', async t => {
  const { origin } = remoteAndOrigin(t)
  await lab(origin, ['init'])
  const l = await Lab.open({ cwd: origin.dir, env: origin.env })
  t.teardown(() => l.close())
  const id = (await labJson(origin, ['submit', '-m', 'ran elsewhere', '--run', 'echo again'])).id
  const stale = (await l.state()).experiments[id]
  t.equal(stale.status, 'queued')
  // a --once worker of this clone claimed it, recorded it, ran it and exited: its claim names a dead process
  const gone = await Lab.open({ cwd: origin.dir, env: origin.env })
  const c = await claimExperiment(gone, id, 1, { worker: 'gone-worker' })
  gone.close()
  t.ok(c.won)
  const dead = spawnSync('true').pid!
  const forged = { ...c.claim, pid: dead }
  await record(l, id, [statusDraft(id, 1, { status: 'claimed', worker: 'gone-worker' }), statusDraft(id, 1, { status: 'succeeded' })], 'ran')
  // its claim, with the pid of a process that is gone
  const sha = (await l.repo.writeCommits([{ files: [{ path: 'claim.json', data: JSON.stringify(forged) + '\n' }], message: 'claim\n', author: l.ident() }]))[0]
  origin.git('push', '-q', '--force', 'origin', `${sha}:refs/lab/claims/${id}/1`)
  origin.git('update-ref', `refs/lab/claims/${id}/1`, sha)
  const logged: string[] = []
  const claimer = new Claimer(l, { name: 'late-worker', leaseSeconds: 120, offline: false, log: s => logged.push(s), holds: async () => false })
  t.equal(await claimer.claim(stale), null, 'not taken over: the attempt has a recorded runner')
  t.notMatch(logged.join('\n'), /took over/)
  t.ok(claimer.recentlyLost(stale))
})
