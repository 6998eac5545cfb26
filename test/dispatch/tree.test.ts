// A job's whole process tree ends with it: background children, children that ignore SIGTERM, call setsid or
// daemonize, when the job ends by itself and after a cancel's grace period.
import t from 'tap'
import { makeRepo, lab, labJson, labStart, procAlive, waitFor, type TestRepo } from '../helpers.ts'

/** A live `sleep` of this test's job with the marker (not the supervisor, which has the run command in its arguments). */
const alive = (r: TestRepo, marker: string) => procAlive(marker, [r], 'sleep')

async function setup(t: Parameters<typeof makeRepo>[0]): Promise<TestRepo> {
  const r = makeRepo(t)
  await lab(r, ['init'])
  return r
}

t.test('a job that ends leaves nothing running: background children, setsid, daemons', async t => {
  const r = await setup(t)
  const res = await lab(r, ['run', '-m', 'bg', '--run', 'sleep 417 & echo started'])
  t.equal(res.code, 0, res.err)
  t.equal(res.out, 'started\n')
  t.notOk(alive(r, 'sleep 417'), 'the background sleep is gone')
  const daemons = 'setsid sleep 418 & (setsid sh -c "sleep 419 & exit 0" &) ; echo detached'
  const d = await lab(r, ['run', '-m', 'daemons', '--run', daemons])
  t.equal(d.code, 0, d.err)
  t.notOk(alive(r, 'sleep 418'), 'a setsid child is gone')
  t.notOk(alive(r, 'sleep 419'), 'a daemonized grandchild (reparented to init) is gone')
  // one that ignores SIGTERM is killed after the grace period
  const started = Date.now()
  const stubborn = await lab(r, ['run', '-m', 'stubborn', '--grace', '1s', '--run', "sh -c \"trap '' TERM; sleep 420\" & echo left"])
  t.equal(stubborn.code, 0, stubborn.err)
  t.notOk(alive(r, 'sleep 420'), 'a leftover that ignores SIGTERM got SIGKILL')
  t.ok(Date.now() - started < 15_000)
  t.equal((await labJson(r, ['show', /experiment ([0-9a-f]+)/.exec(stubborn.err)![1]])).exit_code, 0, 'the job\'s own exit code is kept')
})

t.test('a leftover in the job\'s process group whose environment was cleared (no tag to find it by) is gone too', async t => {
  const r = await setup(t)
  const res = await lab(r, ['run', '-m', 'bare env', '--grace', '1s', '--run', 'env -i sleep 426 & env -i sh -c "trap \'\' TERM; sleep 427" & echo left'])
  t.equal(res.code, 0, res.err)
  t.equal(res.out, 'left\n')
  t.notOk(alive(r, 'sleep 426'), 'the group member without the tag is gone')
  t.notOk(alive(r, 'sleep 427'), 'and its child that ignores SIGTERM too')
})

t.test('cancel: a grandchild that ignores SIGTERM, a setsid child and a daemon are all gone after the grace period', async t => {
  const r = await setup(t)
  const job = "echo up; (trap '' TERM; exec sleep 421) & setsid sleep 422 & (setsid sh -c 'trap \"\" TERM; sleep 423 & wait' &); wait"
  const id = (await labJson(r, ['submit', '-m', 'tree', '--run', job])).id
  const worker = labStart(r, ['worker', '--once', '--grace', '1500ms'])
  await waitFor('running', async () => /up/.test((await lab(r, ['logs', id])).out) && alive(r, 'sleep 421') && alive(r, 'sleep 422') && alive(r, 'sleep 423'))
  const t0 = Date.now()
  t.equal((await lab(r, ['cancel', id])).code, 0)
  const res = await worker.result
  t.equal(res.code, 0, res.err)
  const took = Date.now() - t0
  t.ok(took >= 1000, `the grace period was given (${took} ms)`)
  t.ok(took < 15_000, `and not much more (${took} ms)`)
  t.notOk(alive(r, 'sleep 421'), 'the TERM-ignoring grandchild got SIGKILL')
  t.notOk(alive(r, 'sleep 422'), 'the setsid child is gone')
  t.notOk(alive(r, 'sleep 423'), 'the daemon that ignores SIGTERM is gone')
  t.match(await labJson(r, ['show', id]), { status: 'cancelled' })
})

t.test('cancel of a job whose worker was killed stops its whole tree too', async t => {
  const r = await setup(t)
  const id = (await labJson(r, ['submit', '-m', 'orphan tree', '--run', "echo up; (setsid sh -c \"trap '' TERM; sleep 424\" &); sleep 425"])).id
  const w1 = labStart(r, ['worker'])
  await waitFor('running', async () => (await labJson(r, ['show', id])).status === 'running' && alive(r, 'sleep 424') && alive(r, 'sleep 425'))
  w1.child.kill('SIGKILL')
  await w1.result
  t.equal((await lab(r, ['cancel', id, '--grace', '500ms'])).code, 0)
  t.notOk(alive(r, 'sleep 424'))
  t.notOk(alive(r, 'sleep 425'))
  t.equal((await lab(r, ['worker', '--once'])).code, 0)
  t.match(await labJson(r, ['show', id]), { status: 'cancelled' })
})
