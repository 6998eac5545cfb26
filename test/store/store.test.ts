// The store on real repos: concurrent writers, incremental refresh vs rebuild across clones, hostile logs.
import t from 'tap'
import { Repo } from '../../src/git/repo.ts'
import { makeRepo, lab, labJson, labProcess, write, remoteAndOrigin, type TestRepo } from '../helpers.ts'

async function init(r: TestRepo) {
  const res = await lab(r, ['init'])
  if (res.code !== 0) throw new Error(res.err)
}

t.test('concurrent local writers in one clone all land', async t => {
  const r = makeRepo(t)
  await init(r)
  const n = 8
  const results = await Promise.all(Array.from({ length: n }, (_, i) => labProcess(r, ['idea', 'new', `idea number ${i}`])))
  t.same(results.map(x => x.code), Array(n).fill(0), results.map(x => x.err).join(''))
  const ideas = await labJson<any[]>(r, ['idea', 'list'])
  t.equal(ideas.length, n)
  t.same(ideas.map(i => i.text).sort(), Array.from({ length: n }, (_, i) => `idea number ${i}`).sort())
  const seqs = r.git('log', '--format=%B', 'refs/lab/w/' + r.git('config', 'lab.writer').trim()).match(/Lab-Seq: \d+/g)!
  t.equal(new Set(seqs).size, n, 'every op has its own seq: no op was overwritten')
  const f = await labJson(r, ['fsck'])
  t.equal(f.index_consistent, true)
  t.equal(f.operations, n)
})

function prng(seed: number) {
  return (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n }
}

t.test('random writes and syncs across three clones: incremental index = rebuild, clones converge', async t => {
  const { remote } = remoteAndOrigin(t)
  const clones = ['Ann', 'Bob', 'Cat'].map(name => makeRepo(t, { clone: remote.dir, name }))
  for (const c of clones) await init(c)
  const rnd = prng(Number(process.env.LAB_TEST_SEED ?? 7))
  const ids: string[] = []
  const ideas: string[] = []
  for (let step = 0; step < 40; step++) {
    const c = clones[rnd(3)]
    const action = rnd(8)
    if (action === 0 || ids.length === 0) {
      write(c, `f${step}.py`, `print(${step})\n`)
      ids.push((await labJson(c, ['submit', '-m', `step ${step}`, '--run', 'python train.py'])).id)
    } else if (action === 1) {
      const parents = ideas.length && rnd(2) ? ['--parent', ideas[rnd(ideas.length)]] : []
      ideas.push((await labJson(c, ['idea', 'new', `idea ${step}`, ...parents])).id)
    } else if (action === 2) {
      await lab(c, ['note', ids[rnd(ids.length)], `note ${step}`])
    } else if (action === 3) {
      await lab(c, ['tag', ids[rnd(ids.length)], `+t${rnd(3)}`, `-t${rnd(3)}`])
    } else if (action === 4) {
      await lab(c, ['cancel', ids[rnd(ids.length)]])
    } else if (action === 5) {
      t.equal((await lab(c, ['sync'])).code, 0)
    } else if (action === 6) {
      c.git('fetch', '-q', 'origin')
    } else {
      await lab(c, ['msg', 'send', '--to', 'all', `hello ${step}`])
    }
    // the known ids may not all be visible in this clone yet: errors are fine, state must stay consistent
    const f = await labJson(c, ['fsck'])
    t.equal(f.index_consistent, true, `step ${step}: incremental index equals a rebuild`)
  }
  for (let round = 0; round < 2; round++) for (const c of clones) await lab(c, ['sync'])
  const states = await Promise.all(clones.map(async c => ({
    log: await labJson(c, ['log', '--limit', '0']), ideas: await labJson(c, ['idea', 'list']),
  })))
  const strip = (s: any) => ({ log: s.log.map(({ at_head, ...e }: any) => e), ideas: s.ideas })
  t.same(strip(states[1]), strip(states[0]), 'Bob sees what Ann sees')
  t.same(strip(states[2]), strip(states[0]), 'Cat sees what Ann sees')
  t.equal(states[0].log.length, ids.length)
})

t.test('a re-clone that keeps its writer id continues its log instead of forking it', async t => {
  const { remote, origin: a } = remoteAndOrigin(t)
  await init(a)
  await labJson(a, ['idea', 'new', 'one'])
  await lab(a, ['sync'])
  const again = makeRepo(t, { clone: remote.dir })
  again.git('config', 'lab.writer', a.git('config', 'lab.writer').trim())
  await init(again)
  again.git('fetch', '-q', 'origin')
  await labJson(again, ['idea', 'new', 'two'])
  t.equal((await lab(again, ['sync'])).code, 0, 'fast-forward push')
  await lab(a, ['sync'])
  t.same((await labJson(a, ['idea', 'list'])).map((i: any) => i.text).sort(), ['one', 'two'])
  t.equal((await lab(a, ['fsck'])).code, 0)
})

t.test('hostile or corrupt records in another writer\'s log are skipped, reported, never fatal', async t => {
  const { remote, origin: a } = remoteAndOrigin(t)
  await init(a)
  const good = await labJson(a, ['submit', '-m', 'good one', '--run', 'true'])
  t.equal((await lab(a, ['sync'])).code, 0)
  // An evil clone writes a log by hand.
  const evil = makeRepo(t, { clone: remote.dir, name: 'Eve' })
  const repo = await Repo.open(evil.dir, evil.env)
  const base = { v: 1, writer: 'evil', author: 'Eve <e@x>', time: '2026-01-01T00:00:00.000Z' }
  const q = (seq: number, lamport: number, entity: string, extra: Record<string, unknown> = {}) => JSON.stringify({
    ...base, id: `evil/${seq}`, seq, lamport, type: 'experiment.queue', entity, payload: { message: `evil ${seq}`, run: 'x' }, ...extra })
  const ident = { name: 'Eve', email: 'e@x', when: new Date() }
  const [tip] = await repo.writeCommits([{
    files: [
      { path: 'format', data: '1\n' },
      { path: 'ops/0000/00/01.json', data: q(1, 100, 'evil01') },
      { path: 'ops/0000/00/02.json', data: '{not json' },
      { path: 'ops/0000/00/03.json', data: q(3, 101, 'evil03', { type: 'experiment.detonate' }) },
      { path: 'ops/0000/00/04.json', data: q(4, 2 ** 45, 'evil04') },
      { path: 'ops/0000/00/05.json', data: q(5, 102, 'evil05', { writer: 'someone' }) },
      { path: 'ops/0000/00/06.json', data: 'x'.repeat(400_000) },
      { path: 'ops/0000/00/07.json', data: q(7, 103, 'evil07', { payload: { message: 'm', run: 'r', commit: '../../etc/passwd' } }) },
      { path: 'ops/zz/escape.json', data: q(8, 104, 'evil08') },
      { path: 'ops/0000/00/09.json', data: q(9, 105, good.id, { type: 'experiment.note', payload: { text: 'a valid note from evil' } }) },
    ],
    message: 'evil\n\nLab-Seq: 9\nLab-Lamport: 105\n', author: ident,
  }])
  repo.close()
  evil.git('update-ref', 'refs/lab/w/evil', tip)
  evil.git('push', '-q', 'origin', 'refs/lab/w/evil')
  a.git('fetch', '-q', 'origin')
  const log = await lab(a, ['log', '--json'])
  t.equal(log.code, 0, log.err)
  t.same(JSON.parse(log.out).map((e: any) => e.id).sort(), [good.id, 'evil01'].sort())
  const shown = await labJson(a, ['show', good.id.slice(0, 6)])
  t.same(shown.notes.map((n: any) => n.text), ['a valid note from evil'])
  const f = await lab(a, ['fsck'])
  t.equal(f.code, 1, 'fsck exits non-zero when it found problems')
  for (const re of [/evil\/2: .*JSON/, /evil\/3: unknown operation type/, /evil\/4: lamport clock jumps/, /evil\/5: writer/, /evil\/6: .*too large/, /evil\/7: .*commit/, /unexpected path "ops\/zz\/escape.json"/]) t.match(f.out, re)
  // a clone copied with its .git shares the writer id: fsck names the divergence
  const copy = makeRepo(t, { clone: remote.dir, name: 'Cop' })
  copy.git('config', 'lab.writer', a.git('config', 'lab.writer').trim())
  await lab(copy, ['init'])
  copy.git('fetch', '-q', 'origin')
  await labJson(copy, ['idea', 'new', 'from the copy'])
  await labJson(a, ['idea', 'new', 'from the original'])
  await lab(a, ['sync'])
  copy.git('push', '-q', '--force', 'origin', `refs/lab/w/${a.git('config', 'lab.writer').trim()}`)
  a.git('fetch', '-q', 'origin')
  // this clone's own log is the floor: the copy's log, forced onto the remote, is refused and reported, never read
  const w = a.git('config', 'lab.writer').trim()
  t.match((await lab(a, ['fsck'])).out, new RegExp(`warning: writer ${w}: refs/lab/remotes/origin/w/${w} \\([0-9a-f]{12}\\) does not descend from the log already read`))
  t.same((await labJson(a, ['idea', 'list'])).map((i: any) => i.text), ['from the original'])
  // a newer format: that writer is skipped with one warning line; everything else keeps working
  const repo2 = await Repo.open(evil.dir, evil.env)
  const [future] = await repo2.writeCommits([{ files: [{ path: 'format', data: '2\n' }], message: 'future\n\nLab-Seq: 1\nLab-Lamport: 1\n', author: ident }])
  repo2.close()
  evil.git('update-ref', 'refs/lab/w/future', future)
  evil.git('push', '-q', 'origin', 'refs/lab/w/future')
  a.git('fetch', '-q', 'origin')
  const r = await lab(a, ['log'])
  t.equal(r.code, 0)
  t.equal(r.err, 'git lab: warning: writer future is skipped: it uses lab format 2; this git-lab reads format 1: upgrade git-lab to read it\n')
  t.match(r.out, /good one/)
})
