// The worker: queue order, dependencies, GPUs, racing workers in one clone and across clones, retry, compare.
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { hostname } from 'node:os'
import path from 'node:path'
import { makeRepo, lab, labJson, labStart, remoteAndOrigin, tempDir, waitFor, git, type TestRepo } from '../helpers.ts'
import { Lab } from '../../src/lab/lab.ts'
import { claimExperiment } from '../../src/lab/claims.ts'

/** A job that appends "<id> <CUDA_VISIBLE_DEVICES> start|end" lines to a shared file outside the repo. */
const trace = (file: string, extra = '') => `echo "$LAB_EXPERIMENT \${CUDA_VISIBLE_DEVICES-unset} start" >> ${file}; ${extra} echo "$LAB_EXPERIMENT end" >> ${file}`
const lines = (file: string) => { try { return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) } catch { return [] } }

async function submit(r: TestRepo, msg: string, run: string, ...opts: string[]): Promise<string> {
  return (await labJson(r, ['submit', '-m', msg, '--run', run, ...opts])).id
}

t.test('--once: priority then submission order; a failed dependency cancels its dependent; unfit GPU jobs stay queued', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  const log = path.join(tempDir(t), 'trace')
  const a = await submit(r, 'a', trace(log))
  const d = await submit(r, 'd fails', trace(log, 'exit 1;'))
  const c = await submit(r, 'c after d', trace(log), '--depends-on', d)
  const b = await submit(r, 'b urgent', trace(log), '--priority', '5')
  const e = await submit(r, 'e after a', trace(log), '--depends-on', a, '--priority', '9')
  const big = await submit(r, 'big', trace(log), '--gpus', '3')
  const w = await lab(r, ['worker', '--once', '--gpus', '2'])
  t.equal(w.code, 0, w.err)
  const started = lines(log).filter(l => l.endsWith(' start')).map(l => l.split(' ')[0])
  t.same(started, [b, a, e, d], 'priority first, then submission order, dependents after their dependency')
  t.same(lines(log).filter(l => l.endsWith('start')).map(l => l.split(' ')[1]), ['', '', '', ''], 'jobs needing no GPU see none')
  const s = (id: string) => labJson(r, ['show', id])
  t.match(await s(c), { status: 'cancelled', reason: `dependency ${d} failed` })
  t.equal((await s(big)).status, 'queued')
  t.match(w.err, new RegExp(`${big}: needs 3 GPUs; this host has 2`))
  t.match(w.err, new RegExp(`${e}: waiting for ${a} \\(queued\\)`), 'says what a dependent waits for')
})

t.test('GPUs: a job waits for enough free GPUs and gets CUDA_VISIBLE_DEVICES', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  r.git('config', 'lab.gpus', '0,1')
  const log = path.join(tempDir(t), 'trace')
  const x = await submit(r, 'x', trace(log, 'sleep 0.3;'), '--gpus', '2')
  const y = await submit(r, 'y', trace(log, 'sleep 0.3;'), '--gpus', '1')
  const z = await submit(r, 'z', trace(log, 'sleep 0.3;'), '--gpus', '1')
  t.equal((await lab(r, ['worker', '--once', '--jobs', '3'])).code, 0)
  const l = lines(log)
  t.same(l.slice(0, 2), [`${x} 0,1 start`, `${x} end`], 'x has both GPUs and runs alone')
  const rest = l.slice(2).filter(s => s.endsWith('start')).sort()
  t.same(rest.map(s => s.split(' ')[0]), [y, z].sort())
  t.same(rest.map(s => s.split(' ')[1]).sort(), ['0', '1'], 'y and z run together on one GPU each')
})

t.test('racing workers never run the same experiment: five in one clone, two more in another clone', async t => {
  const { remote, origin } = remoteAndOrigin(t)
  await lab(origin, ['init'])
  const other = makeRepo(t, { clone: remote.dir, name: 'Bob' })
  const log = path.join(tempDir(t), 'trace')
  const ids: string[] = []
  for (let i = 0; i < 10; i++) ids.push(await submit(origin, `e${i}`, trace(log, 'sleep 0.3;')))
  await lab(origin, ['sync'])
  await lab(other, ['init'])
  // (the other clone's first: five workers of origin started first could run all ten before the other clone's have
  // started, on a loaded machine; they race all the same)
  const workers = [
    ...Array.from({ length: 2 }, () => labStart(other, ['worker', '--once', '--jobs', '2', '--sync-every', '0'])),
    ...Array.from({ length: 5 }, () => labStart(origin, ['worker', '--once', '--sync-every', '0'])),
  ]
  const results = await Promise.all(workers.map(w => w.result))
  t.same(results.map(x => x.code), [0, 0, 0, 0, 0, 0, 0], results.map(x => x.err).join(''))
  const starts = lines(log).filter(l => l.endsWith('start')).map(l => l.split(' ')[0]).sort()
  t.same(starts, [...ids].sort(), 'each experiment ran exactly once')
  await lab(other, ['sync'])
  await lab(origin, ['sync'])
  const all = await labJson(origin, ['log', '--limit', '0'])
  t.same(all.map((e: any) => e.status), Array(10).fill('succeeded'))
  const runners = new Set(all.map((e: any) => e.runner.writer))
  t.equal(runners.size, 2, 'both clones ran some')
  // the other clone's records arrived with their chunks: logs read from refs there
  const fromOther = all.find((e: any) => e.runner.writer === other.git('config', 'lab.writer').trim())
  t.equal((await lab(origin, ['logs', fromOther.id])).code, 0)
})

t.test('retry runs a finished experiment again as attempt 2; compare ranks by the objective', async t => {
  const r = makeRepo(t)
  await lab(r, ['init', '--objective', 'val_loss', '--minimize'])
  const flag = path.join(tempDir(t), 'flag')
  const run = `echo attempt $LAB_ATTEMPT; echo '{"step": 1, "val_loss": 0.9}' >> "$LAB_METRICS"; test -e ${flag} && echo '{"val_loss": 0.5, "acc": 0.8}' || exit 2`
  const one = await lab(r, ['run', '-m', 'flaky', '--run', run])
  t.equal(one.code, 2)
  const id = /experiment ([0-9a-f]+)/.exec(one.err)![1]
  t.match(await lab(r, ['retry', id]), { code: 0, out: `${id} queued again (attempt 2)\n` })
  t.match(await lab(r, ['retry', id]), { code: 1, err: /only a finished experiment can be retried/ })
  writeFileSync(flag, '')
  t.equal((await lab(r, ['worker', '--once'])).code, 0)
  const e = await labJson(r, ['show', id])
  t.match(e, { status: 'succeeded', attempt: 2, metrics: { val_loss: 0.5, acc: 0.8 } })
  t.equal((await lab(r, ['logs', id, '--attempt', '1'])).out, 'attempt 1\n')
  t.equal((await lab(r, ['logs', id])).out, 'attempt 2\n{"val_loss": 0.5, "acc": 0.8}\n')
  const two = await lab(r, ['run', '-m', 'worse', '--run', `echo '{"step": 1, "val_loss": 0.7}' >> "$LAB_METRICS"`])
  const id2 = /experiment ([0-9a-f]+)/.exec(two.err)![1]
  const c = await labJson(r, ['compare', id2, id])
  t.same(c.best, { metric: 'val_loss', direction: 'minimize', id, value: 0.5 })
  t.same(c.metrics.val_loss.by_experiment[id2], { last: 0.7, min: 0.7, max: 0.7, best: 0.7, count: 1 })
  t.equal(c.metrics.acc.direction, 'maximize')
  t.same(c.experiments.map((x: any) => x.code.files), [0, 0])
  const text = await lab(r, ['compare', id2, id])
  t.match(text.out, new RegExp(`best by val_loss \\(minimize\\): ${id} \\(0\\.5\\)`))
  t.match(await lab(r, ['compare', id]), { code: 2, err: /two or more/ })
})

t.test('claims: a running job renews its claim; a claim left by a worker that died before starting is taken over', async t => {
  const { remote, origin } = remoteAndOrigin(t)
  await lab(origin, ['init'])
  const id = await submit(origin, 'slow', 'sleep 2.5')
  const w = labStart(origin, ['worker', '--once', '--lease', '3s', '--sync-every', '0'])
  const claimOnRemote = () => git(remote.dir, ['for-each-ref', '--format=%(objectname)', `refs/lab/claims/${id}/1`], remote.env).trim()
  const first = await waitFor('the claim', claimOnRemote)
  await waitFor('a renewal', () => claimOnRemote() !== first && claimOnRemote(), 5000)
  t.equal((await w.result).code, 0)
  // A claim by a dead worker of this clone with nothing prepared: the next worker takes it over and runs the job.
  const orphan = await submit(origin, 'orphaned claim', 'echo ran')
  const l = await Lab.open({ cwd: origin.dir, env: origin.env })
  const dead = await claimExperiment(l, orphan, 1)
  l.close()
  t.ok(dead.won)
  const claimJson = JSON.parse(git(remote.dir, ['cat-file', '-p', `refs/lab/claims/${orphan}/1:claim.json`], remote.env))
  t.equal(claimJson.pid, process.pid, 'claimed by this (live) test process')
  const blocked = await lab(origin, ['worker', '--once', '--sync-every', '0'])
  t.equal(blocked.code, 0)
  t.equal((await labJson(origin, ['show', orphan])).status, 'queued', 'a live claimer is not overtaken')

  const ghost = await submit(origin, 'claimed by a dead worker', 'echo ran')
  const now = Date.now()
  const claim = { experiment: ghost, attempt: 1, writer: origin.git('config', 'lab.writer').trim(), worker: 'ghost', host: hostname(),
    pid: spawnSync('true').pid, time: new Date(now).toISOString(), expires_at: new Date(now + 600_000).toISOString() }
  const blob = git(origin.dir, ['hash-object', '-w', '--stdin'], origin.env, JSON.stringify(claim)).trim()
  const tree = git(origin.dir, ['mktree'], origin.env, `100644 blob ${blob}\tclaim.json\n`).trim()
  const commit = git(origin.dir, ['commit-tree', tree, '-m', 'claim'], origin.env).trim()
  origin.git('push', '-q', 'origin', `${commit}:refs/lab/claims/${ghost}/1`)
  origin.git('update-ref', `refs/lab/claims/${ghost}/1`, commit)
  const taken = await lab(origin, ['worker', '--once', '--sync-every', '0'])
  t.equal(taken.code, 0, taken.err)
  t.equal((await labJson(origin, ['show', ghost])).status, 'succeeded', 'the dead worker\'s claim was taken over')
  t.equal((await labJson(origin, ['show', orphan])).status, 'queued')
})

t.test('a worker in another clone syncs: it picks up what was pushed, and its results come back by sync', async t => {
  const { remote, origin } = remoteAndOrigin(t)
  await lab(origin, ['init'])
  const gpuBox = makeRepo(t, { clone: remote.dir, name: 'Box' })
  await lab(gpuBox, ['init'])
  const w = labStart(gpuBox, ['worker', '--sync-every', '500ms'])
  await waitFor('the worker', () => /ready/.test(w.output().err))
  const id = await submit(origin, 'remote run', 'echo "ran on the box"')
  await lab(origin, ['sync'])
  const done = await waitFor('the result to come back', async () => {
    await lab(origin, ['sync'])
    const e = await labJson(origin, ['show', id])
    return e.status === 'succeeded' && e
  })
  t.equal(done.runner.writer, gpuBox.git('config', 'lab.writer').trim())
  t.equal((await lab(origin, ['logs', id])).out, 'ran on the box\n')
  w.child.kill('SIGTERM')
  const res = await w.result
  t.equal(res.code, 0)
  t.match(res.err, /stopping: running jobs keep running/)
})

t.test('an idle worker wakes when a record lands: a submit from another process starts without waiting for the tick', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  const first = await submit(r, 'first', 'true') // (and refs/lab/w exists: the folder the worker watches)
  const { Worker } = await import('../../src/dispatch/worker.ts')
  const { LocalBackend } = await import('../../src/dispatch/local.ts')
  const l = await Lab.open({ cwd: r.dir, env: r.env })
  t.teardown(() => l.close())
  // An idle tick of ten minutes: only the wake can start the next job within the test's time.
  const worker = new Worker(l, new LocalBackend(l, []), { tickMs: 600_000, syncEvery: 0 })
  const running = worker.run()
  await waitFor('the first job done', async () => (await labJson(r, ['show', first])).status === 'succeeded' || null)
  const id = await submit(r, 'second', 'true')
  await waitFor('the second job done, woken by its record', async () => (await labJson(r, ['show', id])).status === 'succeeded' || null, 30_000)
  worker.stop()
  await running
})
