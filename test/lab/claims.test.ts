// Claims race: in one clone and across clones sharing a remote, exactly one claimer wins each attempt.
import t from 'tap'
import { Lab } from '../../src/lab/lab.ts'
import { claimExperiment, readClaim } from '../../src/lab/claims.ts'
import { makeRepo, lab, remoteAndOrigin } from '../helpers.ts'

async function open(r: { dir: string; env: NodeJS.ProcessEnv }, worker: string) {
  const l = await Lab.open({ cwd: r.dir, env: { ...r.env, LAB_AGENT: worker } })
  return l
}

t.test('without a remote: a local ref create decides', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  const labs = await Promise.all(['w1', 'w2', 'w3', 'w4', 'w5', 'w6'].map(w => open(r, w)))
  t.teardown(() => labs.forEach(l => l.close()))
  const results = await Promise.all(labs.map(l => claimExperiment(l, 'exp0001', 1)))
  t.equal(results.filter(x => x.won).length, 1, 'exactly one of six wins')
  const winner = results.find(x => x.won)!
  const seen = await readClaim(labs[0], 'exp0001', 1)
  t.equal(seen!.sha, winner.sha)
  t.equal(seen!.claim.worker, winner.claim.worker)
  t.ok(Date.parse(seen!.claim.expires_at) > Date.parse(seen!.claim.time))
  // another attempt is a new race
  t.equal((await claimExperiment(labs[1], 'exp0001', 2)).won, true)
  // a takeover must name the claim it replaces: one of several wins, a stale one loses
  const take = await Promise.all(labs.slice(2).map(l => claimExperiment(l, 'exp0001', 1, { replacing: winner.sha })))
  t.equal(take.filter(x => x.won).length, 1)
  t.equal((await claimExperiment(labs[0], 'exp0001', 1, { replacing: winner.sha })).won, false)
  t.equal(await readClaim(labs[0], 'nothing', 1), null)
  await t.rejects(claimExperiment(labs[0], '../x', 1), { code: 'Invalid' })
})

t.test('with a remote: racing clones, exactly one wins', async t => {
  const { remote } = remoteAndOrigin(t)
  const clones = ['Ann', 'Bob', 'Cat'].map(name => makeRepo(t, { clone: remote.dir, name }))
  for (const c of clones) await lab(c, ['init'])
  const labs = (await Promise.all(clones.map(c => Promise.all([open(c, 'a'), open(c, 'b')])))).flat()
  t.teardown(() => labs.forEach(l => l.close()))
  for (const id of ['expaaaa', 'expbbbb', 'expcccc']) {
    const results = await Promise.all(labs.map(l => claimExperiment(l, id, 1)))
    t.equal(results.filter(x => x.won).length, 1, `${id}: exactly one of six workers in three clones wins`)
    const winner = results.find(x => x.won)!
    t.equal(remote.git('rev-parse', `refs/lab/claims/${id}/1`).trim(), winner.sha, 'the remote holds the winner')
  }
  // a plain fetch shows the claims in another clone
  clones[2].git('fetch', '-q')
  const seen = await readClaim(labs[5], 'expaaaa', 1)
  t.equal(seen!.sha, remote.git('rev-parse', 'refs/lab/claims/expaaaa/1').trim())
  // the remote decides even when the local ref is absent: a second claim loses
  const again = await claimExperiment(labs[4], 'expaaaa', 1)
  t.equal(again.won, false)
})
