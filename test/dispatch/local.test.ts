// Running on this host: git lab run end to end, exit codes, setup, timeout, Ctrl-C, cancel, a killed worker, a lost job.
import t from 'tap'
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { createHash } from 'node:crypto'
import { spawn } from 'node:child_process'
import { makeRepo, lab, labJson, labStart, procAlive, waitFor, write, type TestRepo } from '../helpers.ts'

const JOB = `echo "exp=$LAB_EXPERIMENT attempt=$LAB_ATTEMPT idea=$LAB_IDEA cwd=$(pwd)"
echo '{"step": 1, "loss": 2}' >> "$LAB_METRICS"
echo 'not json' >> "$LAB_METRICS"
echo '{"step": 2, "loss": 1.5, "acc": 0.5, "phase": "train"}' >> "$LAB_METRICS"
mkdir -p "$LAB_OUTPUT/sub" && echo hello > "$LAB_OUTPUT/sub/note.txt" && ln -s /etc/passwd "$LAB_OUTPUT/link"
echo oops >&2
echo '{"loss": 1.25}'
`

async function setup(t: Parameters<typeof makeRepo>[0]): Promise<TestRepo> {
  const r = makeRepo(t, { files: { 'job.sh': JOB } })
  await lab(r, ['init', '--objective', 'loss', '--minimize'])
  return r
}

const runsLeft = (r: TestRepo) => readdirSync(path.join(r.dir, '.git', 'lab', 'runs')).length
const show = (r: TestRepo, id: string) => labJson(r, ['show', id])
/** Whether a process whose command line contains the marker is alive (each test's jobs sleep a distinct time). */
const alive = (r: TestRepo, marker: string) => procAlive(marker, [r])

t.test('run: streams output, records metrics, final line, artifacts, and cleans up', async t => {
  const r = await setup(t)
  const idea = await labJson(r, ['idea', 'new', 'baseline'])
  const res = await lab(r, ['run', '-m', 'first', '--run', 'sh job.sh', '--setup', 'echo setting up', '--idea', idea.id])
  t.equal(res.code, 0, res.err)
  const id = /experiment ([0-9a-f]+)/.exec(res.err)![1]
  t.match(res.out, /^setting up\nexp=/)
  t.match(res.out, new RegExp(`exp=${id} attempt=1 idea=${idea.id} cwd=.*/\\.git/lab/runs/${id}\\.1/work\\n`))
  const e = await show(r, id)
  t.equal(e.status, 'succeeded')
  t.equal(e.exit_code, 0)
  t.same(e.metrics, { loss: 1.25, acc: 0.5 }, 'the last output line overrides the last point')
  t.same(e.series.loss, { count: 2, last: 1.5, min: 1.5, max: 2, last_step: 2 })
  t.equal(e.metrics_skipped, 1)
  t.same(e.artifacts.map((a: any) => [a.path, a.size, !!a.blob]), [['sub/note.txt', 6, true]], 'regular files only: the symlink is not followed')
  t.equal(r.git('cat-file', '-p', e.artifacts[0].blob), 'hello\n')
  t.ok(e.started_at && e.finished_at && e.runner.writer === r.git('config', 'lab.writer').trim())
  const logs = await lab(r, ['logs', id])
  t.match(logs.out, /oops\n\{"loss": 1.25\}\n$/)
  t.equal(runsLeft(r), 0, 'journals removed once sealed')
  // a file too large for git stays on the host, and the record says where
  const big = await lab(r, ['run', '-m', 'big', '--run', 'head -c 1100000 /dev/zero > "$LAB_OUTPUT/ckpt.bin"; echo small > "$LAB_OUTPUT/s.txt"'])
  const bigE = await show(r, /experiment ([0-9a-f]+)/.exec(big.err)![1])
  t.match(bigE.artifacts, [{ path: 'ckpt.bin', size: 1100000, blob: null, location: /\.git\/lab\/artifacts\/[0-9a-f]+\.1\/ckpt\.bin$/ }, { path: 's.txt', location: null }])
  t.equal(readFileSync(bigE.artifacts[0].location).length, 1100000)
  t.equal(r.git('worktree', 'list').trim().split('\n').length, 1, 'worktree removed')
  t.equal(r.git('status', '--porcelain'), '', 'the user worktree is untouched')
  const text = await lab(r, ['show', id])
  t.match(text.out, /metrics:\n\s+NAME\s+FINAL.*\n\s+acc\s+0\.5.*\n\s+loss\s+1\.25\s+1\.5\s+2\s+2\s+2\n/)
  t.match(text.out, /artifacts:\n\s+sub\/note\.txt\s+6\s+blob /)
})

t.test('run: exit codes, setup failure, timeout, --keep', async t => {
  const r = await setup(t)
  const fail = await lab(r, ['run', '-m', 'fails', '--run', 'echo before; exit 3'])
  t.equal(fail.code, 3)
  const f = await show(r, /experiment ([0-9a-f]+)/.exec(fail.err)![1])
  t.match(f, { status: 'failed', exit_code: 3, reason: 'exit code 3' })
  const setupFail = await lab(r, ['run', '-m', 'bad setup', '--setup', 'echo preparing; exit 4', '--run', 'echo never'])
  t.equal(setupFail.code, 4)
  t.notMatch(setupFail.out, /never/)
  t.match(await show(r, /experiment ([0-9a-f]+)/.exec(setupFail.err)![1]), { status: 'failed', exit_code: 4, reason: 'setup failed with exit code 4' })
  const started = Date.now()
  const slow = await lab(r, ['run', '-m', 'slow', '--timeout', '1', '--run', 'echo start; sleep 29.1'])
  t.equal(slow.code, 124)
  t.ok(Date.now() - started < 8000, 'stopped soon after its timeout')
  t.match(await show(r, /experiment ([0-9a-f]+)/.exec(slow.err)![1]), { status: 'timed_out', reason: /timeout of 1s/ })
  t.notOk(alive(r, 'sleep 29.1'))
  const probe = spawn('sleep', ['29.2'], { cwd: r.dir, stdio: 'ignore' })
  t.teardown(() => { probe.kill() })
  await waitFor('the probe', () => alive(r, 'sleep 29.2'))
  t.ok(alive(r, 'sleep 29.2'), 'the process check sees live processes')
  const kept = await lab(r, ['run', '-m', 'kept', '--keep', '--run', 'echo kept > kept.txt'])
  const kid = /experiment ([0-9a-f]+)/.exec(kept.err)![1]
  t.ok(existsSync(path.join(r.dir, '.git', 'lab', 'runs', `${kid}.1`, 'work', 'kept.txt')))
  // a kept run is done: a worker does not re-attach to it
  const w = await lab(r, ['worker', '--once'])
  t.notMatch(w.err, /re-attached/)
  // a worker that died after recording the end but before cleaning up: the next one only cleans up
  const art = await lab(r, ['run', '-m', 'art', '--keep', '--run', 'echo a > "$LAB_OUTPUT/a.txt"'])
  const aid = /experiment ([0-9a-f]+)/.exec(art.err)![1]
  rmSync(path.join(r.dir, '.git', 'lab', 'runs', `${aid}.1`, 'done'))
  const before = await show(r, aid)
  t.equal((await lab(r, ['worker', '--once'])).code, 0)
  t.same(await show(r, aid), before, 'nothing recorded twice')
  t.ok(existsSync(path.join(r.dir, '.git', 'lab', 'runs', `${aid}.1`, 'done')), 'cleaned up as asked: kept, and marked done')
})

t.test('run: Ctrl-C cancels the job and records it as cancelled', async t => {
  const r = await setup(t)
  const run = labStart(r, ['run', '-m', 'long', '--run', 'echo started; sleep 28.3'])
  await waitFor('the job to start', () => /started\n/.test(run.output().out))
  run.child.kill('SIGINT')
  const res = await run.result
  t.equal(res.code, 130, res.err)
  t.match(res.err, /cancelling/)
  const id = /experiment ([0-9a-f]+)/.exec(res.err)![1]
  t.match(await show(r, id), { status: 'cancelled', reason: 'interrupted (Ctrl-C)', exit_code: 143 })
  t.notOk(alive(r, 'sleep 28.3'), 'the job is gone')
  t.equal(runsLeft(r), 0)
})

t.test('cancel of a running job: SIGTERM to its process group, SIGKILL after the grace period', async t => {
  const r = await setup(t)
  const polite = (await labJson(r, ['submit', '-m', 'polite', '--run', 'echo up; (sleep 27.1) & sleep 27.2; wait'])).id
  const stubborn = (await labJson(r, ['submit', '-m', 'stubborn', '--run', "trap '' TERM; echo up; sleep 27.3"])).id
  const worker = labStart(r, ['worker', '--once', '--grace', '700ms', '--jobs', '2'])
  await waitFor('both running', async () => (await show(r, polite)).status === 'running' && (await show(r, stubborn)).status === 'running')
  await waitFor('output', async () => /up/.test((await lab(r, ['logs', stubborn])).out))
  const t0 = Date.now()
  t.equal((await lab(r, ['cancel', polite])).code, 0)
  t.equal((await lab(r, ['cancel', stubborn, '--reason', 'wrong config'])).code, 0)
  const res = await worker.result
  t.equal(res.code, 0, res.err)
  t.ok(Date.now() - t0 < 8000)
  t.match(await show(r, polite), { status: 'cancelled', exit_code: 143 })
  // the supervisor outlives the SIGKILL it gives the job, and records it
  t.match(await show(r, stubborn), { status: 'cancelled', reason: 'wrong config', exit_code: 137 })
  t.notOk(alive(r, 'sleep 27.'), 'every process of both groups is gone, children included')
})

t.test('a killed worker: jobs keep running, a new worker re-attaches, nothing is lost, the true exit code is kept', async t => {
  const r = await setup(t)
  write(r, 'steps.sh', 'i=1; while [ $i -le 40 ]; do echo "line $i"; echo "{\\"step\\": $i, \\"x\\": $i}" >> "$LAB_METRICS"; i=$((i+1)); sleep 0.05; done; exit 5\n')
  r.git('add', '-A'); r.git('commit', '-qm', 'steps')
  const id = (await labJson(r, ['submit', '-m', 'steps', '--run', 'sh steps.sh'])).id
  const w1 = labStart(r, ['worker'])
  await waitFor('some output', async () => /line 5\n/.test((await lab(r, ['logs', id])).out))
  w1.child.kill('SIGKILL')
  await w1.result
  const pid = Number(readFileSync(path.join(r.dir, '.git', 'lab', 'runs', `${id}.1`, 'pid'), 'utf8'))
  t.doesNotThrow(() => process.kill(pid, 0), 'the job outlived its worker')
  const w2 = await lab(r, ['worker', '--once'])
  t.equal(w2.code, 0)
  t.match(w2.err, new RegExp(`${id}: re-attached`))
  const e = await show(r, id)
  t.match(e, { status: 'failed', exit_code: 5 })
  t.equal((await lab(r, ['logs', id])).out, Array.from({ length: 40 }, (_, i) => `line ${i + 1}\n`).join(''), 'every line once, in order')
  const m = await labJson(r, ['metrics', id])
  t.same(m.series.x.map((p: any) => p.step), Array.from({ length: 40 }, (_, i) => i + 1), 'every point once')
})

t.test('a job whose process vanished without an exit code becomes lost', async t => {
  const r = await setup(t)
  const id = (await labJson(r, ['submit', '-m', 'doomed', '--run', 'echo up; sleep 26.4'])).id
  const w1 = labStart(r, ['worker'])
  await waitFor('running', async () => (await show(r, id)).status === 'running')
  w1.child.kill('SIGKILL')
  await w1.result
  const pid = Number(readFileSync(path.join(r.dir, '.git', 'lab', 'runs', `${id}.1`, 'pid'), 'utf8'))
  process.kill(-pid, 'SIGKILL') // as a reboot would: job and supervisor gone, no exit record
  await waitFor('the group to die', () => { try { process.kill(-pid, 0); return false } catch { return true } })
  const w2 = await lab(r, ['worker', '--once'])
  t.equal(w2.code, 0)
  t.match(await show(r, id), { status: 'lost', reason: /vanished without an exit code/ })
  t.match((await lab(r, ['logs', id])).out, /^up\n/)
})

t.test('secrets in the environment are masked before output and artifacts are sealed: no secret lands in any object', async t => {
  const r = await setup(t)
  r.git('config', 'lab.secret', 'DB_URL')
  const env = { ...r.env, HF_TOKEN: 'hf_abcdef123456', DB_URL: 'postgres://u:pw@db', SHORT_TOKEN: 'abc', PLAIN: 'visible-value' }
  const job = 'echo "token=$HF_TOKEN db=$DB_URL short=$SHORT_TOKEN plain=$PLAIN"; echo "cfg $HF_TOKEN $PLAIN" > "$LAB_OUTPUT/config.txt"'
  const res = await lab({ dir: r.dir, env }, ['run', '-m', 'leaky', '--run', job])
  t.equal(res.code, 0)
  const id = /experiment ([0-9a-f]+)/.exec(res.err)![1]
  t.equal((await lab(r, ['logs', id])).out, `token=${'*'.repeat(15)} db=${'*'.repeat(18)} short=abc plain=visible-value\n`)
  const art = (await show(r, id)).artifacts[0]
  t.equal(r.git('cat-file', 'blob', art.blob), `cfg ${'*'.repeat(15)} visible-value\n`, 'an artifact stored in git is masked the same way')
  t.equal(art.sha256, createHash('sha256').update(`cfg ${'*'.repeat(15)} visible-value\n`).digest('hex'), 'its hash is of what is recorded')
  const everything = r.git('cat-file', '--batch-all-objects', '--batch')
  t.notMatch(everything, /hf_abcdef123456|postgres:\/\/u:pw@db/)
  t.match(everything, /visible-value/, 'the scan does read blob contents')
})

t.test('cancel of a job whose worker was killed stops it at once; the next worker records how it ended', async t => {
  const r = await setup(t)
  const id = (await labJson(r, ['submit', '-m', 'orphan', '--run', 'echo up; sleep 25.6'])).id
  const w1 = labStart(r, ['worker'])
  await waitFor('running', async () => (await show(r, id)).status === 'running')
  w1.child.kill('SIGKILL')
  await w1.result
  const res = await lab(r, ['cancel', id])
  t.match(res.out, /cancelled \(its job was stopped here/)
  t.notOk(alive(r, 'sleep 25.6'))
  t.equal((await lab(r, ['worker', '--once'])).code, 0)
  t.match(await show(r, id), { status: 'cancelled', exit_code: 143 })
  t.equal(runsLeft(r), 0)
})

t.test('output past lab.maxOutput is not recorded, and says so', async t => {
  const r = await setup(t)
  r.git('config', 'lab.maxOutput', '10k')
  const res = await lab(r, ['run', '-m', 'chatty', '--run', 'i=0; while [ $i -lt 1000 ]; do echo "line $i of a chatty job"; i=$((i+1)); done; echo \'{"done": 1}\''])
  t.equal(res.code, 0)
  const id = /experiment ([0-9a-f]+)/.exec(res.err)![1]
  const e = await show(r, id)
  t.ok(e.output_bytes <= 10240 && e.output_bytes > 9000, `recorded ${e.output_bytes} bytes`)
  t.equal(e.output_bytes + e.output_dropped, res.out.length)
  t.same(e.metrics, { done: 1 }, 'the final line is still read from the journal')
  const logs = await lab(r, ['logs', id])
  t.match(logs.err, /more bytes of output were not recorded \(over lab\.maxOutput\)/)
  t.match(logs.out, /^line 0 of a chatty job\n/)
})
