// Claims of ended attempts are removed once the end is synced: locally, on the lab remote, and in other clones.
import t from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { Lab } from '../../src/lab/lab.ts'
import { claimExperiment } from '../../src/lab/claims.ts'
import { sweepClaims } from '../../src/lab/claim-sweep.ts'
import { Claimer } from '../../src/dispatch/claimer.ts'
import { makeRepo, lab, labJson, remoteAndOrigin } from '../helpers.ts'

const claimRefs = (r: { git(...a: string[]): string }, pattern = 'refs/lab/claims/') => r.git('for-each-ref', '--format=%(refname)', pattern).split('\n').filter(Boolean)

t.test('two clones and a bare remote: after runs end and sync, no claim ref is left anywhere', async t => {
  const { remote } = remoteAndOrigin(t)
  const [ann, bob] = ['Ann', 'Bob'].map(name => makeRepo(t, { clone: remote.dir, name }))
  for (const c of [ann, bob]) t.equal((await lab(c, ['init'])).code, 0)
  const ids: string[] = []
  for (let i = 0; i < 4; i++) ids.push((await labJson(ann, ['submit', '--no-code', '-m', `job ${i}`, '--run', `echo ${i}`])).id)
  t.equal((await lab(ann, ['sync'])).code, 0)
  t.equal((await lab(bob, ['sync'])).code, 0)
  // Both clones' workers take jobs until the queue is empty; each syncs as it goes and when it stops.
  const runs = await Promise.all([ann, bob].map(c => lab(c, ['worker', '--once', '--jobs', '1'])))
  for (const r of runs) t.equal(r.code, 0, r.err)
  for (const c of [ann, bob, ann, bob]) t.equal((await lab(c, ['sync'])).code, 0)
  const states = (await labJson<any[]>(bob, ['log', '--limit', '0'])).map(e => e.status)
  t.same(states, ['succeeded', 'succeeded', 'succeeded', 'succeeded'])
  t.same(remote.git('ls-remote', remote.dir, 'refs/lab/claims/*').trim(), '', 'the remote holds no claims')
  for (const c of [ann, bob]) {
    t.same(claimRefs(c), [], 'no local claim refs')
    t.same(claimRefs(c, 'refs/lab/remotes/origin/claims/'), [], 'no copies of the remote\'s claims')
  }
  // A deleted claim does not let a worker run a finished attempt again.
  const again = await lab(bob, ['worker', '--once'])
  t.equal(again.code, 0, again.err)
  t.same((await labJson<any[]>(bob, ['log', '--limit', '0'])).map(e => e.attempt ?? 1), [1, 1, 1, 1])
  t.same(claimRefs(bob), [])
})

t.test('a worker that picked an ended attempt from an old state undoes the run it prepared meanwhile and runs nothing', async t => {
  const { remote } = remoteAndOrigin(t)
  const [ann, bob] = ['Ann', 'Bob'].map(name => makeRepo(t, { clone: remote.dir, name }))
  for (const c of [ann, bob]) t.equal((await lab(c, ['init'])).code, 0)
  const marker = path.join(ann.home, 'ran')
  const id = (await labJson(ann, ['submit', '-m', 'job', '--run', `echo run >> '${marker}'`])).id
  t.equal((await lab(ann, ['sync'])).code, 0)
  t.equal((await lab(bob, ['sync'])).code, 0)
  t.equal((await lab(ann, ['worker', '--once'])).code, 0)
  t.equal((await lab(ann, ['sync'])).code, 0)
  // Bob's worker never syncs: it picks the attempt as queued, wins its swept claim, and prepares the run while the
  // claimer fetches the records again.
  const res = await lab(bob, ['worker', '--once', '--sync-every', '0'])
  t.equal(res.code, 0, res.err)
  t.equal(readFileSync(marker, 'utf8'), 'run\n', 'the job ran once, on Ann\'s worker')
  t.same(remote.git('ls-remote', remote.dir, 'refs/lab/claims/*').trim(), '', 'the claim was given back on the remote')
  t.same(claimRefs(bob), [], 'and here')
  t.same(readdirSync(path.join(bob.dir, '.git', 'lab', 'runs')), [], 'no run folder left')
  t.same(bob.git('worktree', 'list', '--porcelain').match(/^worktree /gm)?.length, 1, 'no worktree left')
  t.match((await labJson(bob, ['show', id])), { status: 'succeeded', attempt: 1 })
})

t.test('a claim stays while its attempt is queued or running, and while the end is not pushed', async t => {
  const { remote, origin } = remoteAndOrigin(t)
  void remote
  t.equal((await lab(origin, ['init'])).code, 0)
  const id = (await labJson(origin, ['submit', '--no-code', '-m', 'job', '--run', 'true'])).id
  t.equal((await lab(origin, ['sync'])).code, 0)
  const l = await Lab.open({ cwd: origin.dir, env: origin.env })
  t.teardown(() => l.close())
  t.equal((await claimExperiment(l, id, 1)).won, true)
  t.equal(await sweepClaims(l, await l.state()), 0, 'queued: kept')
  t.equal((await lab(origin, ['cancel', id])).code, 0)
  await l.store.refresh()
  t.equal(await sweepClaims(l, await l.state()), 0, 'ended, but the cancel is not on the remote yet: kept')
  t.equal((await lab(origin, ['sync'])).code, 0)
  t.same(claimRefs(origin), [], 'swept by the sync that pushed the end')
  t.same(origin.git('ls-remote', 'origin', 'refs/lab/claims/*').trim(), '')
})

t.test('without a remote: the worker sweeps its ended attempts\' claims', async t => {
  const r = makeRepo(t)
  t.equal((await lab(r, ['init'])).code, 0)
  for (let i = 0; i < 2; i++) await labJson(r, ['submit', '--no-code', '-m', `job ${i}`, '--run', 'true'])
  t.equal((await lab(r, ['worker', '--once'])).code, 0)
  t.same((await labJson<any[]>(r, ['log', '--limit', '0'])).map(e => e.status), ['succeeded', 'succeeded'])
  t.same(claimRefs(r), [])
})

t.test('a worker that picked an ended attempt from an old state wins its deleted claim, then gives it back', async t => {
  const { remote } = remoteAndOrigin(t)
  const [ann, bob] = ['Ann', 'Bob'].map(name => makeRepo(t, { clone: remote.dir, name }))
  for (const c of [ann, bob]) t.equal((await lab(c, ['init'])).code, 0)
  const id = (await labJson(ann, ['submit', '--no-code', '-m', 'job', '--run', 'true'])).id
  t.equal((await lab(ann, ['sync'])).code, 0)
  t.equal((await lab(bob, ['sync'])).code, 0)
  const l = await Lab.open({ cwd: bob.dir, env: bob.env })
  t.teardown(() => l.close())
  const stale = (await l.state()).experiments[id]
  t.equal(stale.status, 'queued')
  // Ann runs it, syncs, and its claim is swept everywhere; Bob has not fetched since.
  t.equal((await lab(ann, ['worker', '--once'])).code, 0)
  t.equal((await lab(ann, ['sync'])).code, 0)
  t.same(remote.git('ls-remote', remote.dir, 'refs/lab/claims/*').trim(), '')
  const lines: string[] = []
  const claimer = new Claimer(l, { name: 'bob-worker', leaseSeconds: 120, offline: false, log: x => lines.push(x), holds: async () => false })
  const won = await claimer.claim(stale)
  t.ok(won, 'the deleted claim is won')
  t.equal(await won!.queued, false, 'but the records fetched after winning show the attempt ended')
  t.ok(claimer.recentlyLost(stale), 'not tried again soon')
  await claimer.giveBack(stale, won!.position)
  t.same(remote.git('ls-remote', remote.dir, 'refs/lab/claims/*').trim(), '', 'the claim was given back on the remote')
  t.same(claimRefs(bob), [], 'and here')
  t.equal((await l.state()).experiments[id].status, 'succeeded')
})
