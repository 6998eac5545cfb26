// --param and sweeps as a user runs them: recorded, given to the job, filtered, shown as columns and compared;
// a sweep is one write; bad input is a usage error that writes nothing; another writer's params are contained.
import t from 'tap'
import { Repo } from '../../src/git/repo.ts'
import { makeRepo, lab, labJson, type TestRepo } from '../helpers.ts'

const writerRef = (r: TestRepo) => `refs/lab/w/${r.git('config', 'lab.writer').trim()}`
const commits = (r: TestRepo) => Number(r.git('rev-list', '--count', '--first-parent', writerRef(r)).trim())

t.test('params round trip: --json typed, show and compare as given, the job gets $LAB_PARAMS and LAB_PARAM_*', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  const e = await labJson(r, ['submit', '-m', 'p', '--run', 'true', '--param', 'lr=1e-3', '--param', 'opt=adam', '--param', 'name=a\\,b', '--param', 'seed=007'])
  t.same(e.params, { lr: 0.001, opt: 'adam', name: 'a,b', seed: 7 }, 'numbers as numbers, in the order given')
  t.equal(e.sweep, null)
  t.same(e.tags, [])
  t.same((await labJson(r, ['show', e.id])).params, e.params)
  t.same((await labJson(r, ['log']))[0].params, e.params, 'log --json rows carry them')
  const show = await lab(r, ['show', e.id])
  t.match(show.out, /\nparams:\n {2}lr {4}1e-3\n {2}opt {3}adam\n {2}name {2}a,b\n {2}seed {2}007\n/, 'show gives the text as typed')
  const plain = await labJson(r, ['submit', '-m', 'none', '--run', 'true'])
  t.same(plain.params, {}, 'no params: an empty object')

  const c = await lab(r, ['compare', e.id, plain.id])
  t.match(c.out, new RegExp(`param lr\\s+1e-3\\s+-\\n`))
  t.match(c.out, /param opt\s+adam\s+-\n/)
  const cj = await labJson(r, ['compare', e.id, plain.id])
  t.same(cj.experiments.map((x: any) => x.params), [e.params, {}])

  // The job: a stale LAB_PARAM_ in the worker's own environment does not reach it.
  const env = { ...r.env, LAB_PARAM_STALE: 'leaked', LAB_PARAMS: '/nowhere' }
  const ran = await lab({ dir: r.dir, env }, ['run', '-m', 'job', '--param', 'lr=1e-3', '--param', 'opt.beta-1=0.9',
    '--run', 'echo "lr=$LAB_PARAM_LR beta=$LAB_PARAM_OPT_BETA_1 stale=${LAB_PARAM_STALE-unset}"; cat "$LAB_PARAMS"; echo end'])
  t.equal(ran.code, 0, ran.err)
  t.equal(ran.out, 'lr=1e-3 beta=0.9 stale=unset\n{"lr":0.001,"opt.beta-1":0.9}\nend\n')
  const none = await lab(r, ['run', '-m', 'job', '--run', 'cat "$LAB_PARAMS"'])
  t.equal(none.out, '{}\n', 'without params the file holds {}')
})

t.test('a 3x2 sweep is 6 experiments in one commit, sharing one snapshot, grouped by its id and tag', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  await labJson(r, ['submit', '-m', 'before', '--run', 'true', '--no-code'])
  const before = commits(r)
  const text = await lab(r, ['submit', '-m', 'sweep', '--run', 'python train.py', '--tag', 'mine', '--param', 'lr=1e-3,3e-4,1e-4', '--param', 'wd=0,0.1'])
  t.equal(text.code, 0, text.err)
  t.equal(commits(r), before + 1, 'one write')
  const ids = text.out.trim().split('\n')
  t.equal(ids.length, 6, 'text: one id a line')
  t.ok(ids.every(id => /^[0-9a-f]{12}$/.test(id)))
  const all = await Promise.all(ids.map(id => labJson(r, ['show', id])))
  t.same(all.map(e => [e.params.lr, e.params.wd]), [[0.001, 0], [0.001, 0.1], [0.0003, 0], [0.0003, 0.1], [0.0001, 0], [0.0001, 0.1]], 'the product, first param slowest')
  const sweep = all[0].sweep
  t.match(sweep, /^[0-9a-f]{12}$/)
  t.ok(all.every(e => e.sweep === sweep && e.commit === all[0].commit && e.status === 'queued'), 'one sweep id, one snapshot')
  t.same(all[0].tags, ['mine', `sweep:${sweep}`])
  const listed = await labJson(r, ['log', '--tag', `sweep:${sweep}`])
  t.same(listed.map((e: any) => e.id), ids, 'log --tag sweep:ID lists it in the sweep order')

  const js = await labJson(r, ['submit', '-m', 'sweep 2', '--run', 'true', '--no-code', '--param', 'a=1,2'])
  t.ok(Array.isArray(js), '--json prints the list')
  t.same(js.map((e: any) => e.params.a), [1, 2])
  t.equal(commits(r), before + 2)
})

t.test('log --where and --columns, from the listing cache and without it', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  const idea = await labJson(r, ['idea', 'new', 'sweeps'])
  const mk = (m: string, params: string[], out: string) => lab(r, ['run', '-m', m, '--idea', idea.id, '--no-code', ...params.flatMap(p => ['--param', p]), '--run', `echo '${out}'`])
  await mk('a', ['lr=1e-3', 'opt=adam'], '{"loss": 0.5}')
  await mk('b', ['lr=1e-4', 'opt=sgd'], '{"loss": 0.2}')
  await mk('c', ['lr=1e-2'], '{"loss": 0.9}')
  await mk('d', [], '{"acc": 1}')
  const names = async (args: string[]) => (await labJson(r, ['log', ...args])).map((e: any) => e.message).sort().join('')
  for (const via of [[], ['--idea', idea.id]]) {
    t.equal(await names(['--where', 'lr<0.005', ...via]), 'ab', `numbers ${via.join(' ')}`)
    t.equal(await names(['--where', 'lr=0.001', ...via]), 'a', '= on numbers')
    t.equal(await names(['--where', 'opt=adam', ...via]), 'a', '= on text')
    t.equal(await names(['--where', 'opt!=adam', ...via]), 'b', '!= needs the name')
    t.equal(await names(['--where', 'loss<=0.5', ...via]), 'ab', 'final metrics')
    t.equal(await names(['--where', 'lr<0.005', '--where', 'loss<0.3', ...via]), 'b', 'repeated: all hold')
    t.equal(await names(['--where', 'lr<0.005', '--status', 'succeeded', '--limit', '1', ...via]).then(s => s.length), 1, 'with other filters and --limit')
    t.equal(await names(['--where', 'nope>0', ...via]), '')
  }
  const table = await lab(r, ['log', '--columns', 'lr,opt', '--columns', 'loss'])
  t.match(table.out, /ID\s+STATUS\s+CREATED\s+IDEA\s+lr\s+opt\s+loss\s+MESSAGE\n/)
  t.match(table.out, /succeeded\s+\S+ ago\s+\S+\s+1e-3\s+adam\s+0\.5\s+a\n/, 'params as given, metrics as numbers')
  t.match(table.out, /succeeded\s+\S+ ago\s+\S+\s+-\s+-\s+-\s+d\n/, "'-' where there is none")
  t.match((await lab(r, ['log', '--where', 'opt=sgd', '--columns', 'lr'])).out, /1e-4\s+b\n$/)
  t.equal((await lab(r, ['log', '--where', 'opt=x'])).out, 'No experiments match.\n')
  const withCols = await lab(r, ['log', '--json', '--columns', 'lr'])
  t.equal(withCols.out, (await lab(r, ['log', '--json'])).out, '--json ignores --columns')
})

t.test('usage errors exit 2 and write nothing', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  await labJson(r, ['submit', '-m', 'first', '--run', 'true', '--no-code'])
  const tip = r.git('rev-parse', writerRef(r)).trim()
  const big = ['--param', 'a=' + Array.from({ length: 40 }, (_, i) => i).join(','), '--param', 'b=' + Array.from({ length: 30 }, (_, i) => i).join(',')]
  const cases: Array<[string[], RegExp]> = [
    [['submit', '-m', 'x', '--run', 'y', '--param', 'lr'], /--param "lr": give NAME=VALUE/],
    [['submit', '-m', 'x', '--run', 'y', '--param', '1x=1'], /not a param name/],
    [['submit', '-m', 'x', '--run', 'y', '--param', 'lr=1', '--param', 'lr=2'], /given twice/],
    [['submit', '-m', 'x', '--run', 'y', '--param', 'lr=1,,2'], /empty value/],
    [['submit', '-m', 'x', '--run', 'y', '--param', 'lr=1,1'], /listed twice/],
    [['submit', '-m', 'x', '--run', 'y', '--param', 'a.b=1', '--param', 'A_B=2'], /both LAB_PARAM_A_B/],
    [['submit', '-m', 'x', '--run', 'y', '--param', 'v=a\tb'], /control character/],
    [['submit', '-m', 'x', '--run', 'y', ...big], /would queue 1200 experiments; at most 1000/],
    [['submit', '-m', 'x', '--run', 'y', '--param', 'lr=1,2', ...Array.from({ length: 64 }, (_, i) => ['--tag', `t${i}`]).flat()], /tags/],
    [['run', '-m', 'x', '--run', 'y', '--param', 'lr=1,2'], /run starts one experiment and these --param lists make 2: queue the sweep with 'git lab submit'/],
    [['log', '--where', 'lr'], /no comparison/],
    [['log', '--where', 'lr<abc'], /compares numbers/],
    [['log', '--where', '=3'], /no name/],
    [['log', '--columns', 'lr,,wd'], /--columns: give names/],
  ]
  for (const [args, re] of cases) {
    const res = await lab(r, args)
    t.equal(res.code, 2, `${args.join(' ')}: exit 2`)
    t.match(res.err, re, args.join(' '))
  }
  t.equal(r.git('rev-parse', writerRef(r)).trim(), tip, 'nothing was written')
  t.equal((await lab(r, ['fsck'])).code, 0)
})

t.test('a param named commit holding the HEAD sha does not mark its row as at HEAD', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  const head = r.git('rev-parse', 'HEAD').trim()
  // (after another param: the byte run searched for is `,"commit":"<sha>"`)
  const at = await labJson(r, ['submit', '-m', 'at head', '--run', 'true', '--param', 'a=1', '--param', `commit=${head}`])
  const off = await labJson(r, ['submit', '-m', 'no code', '--run', 'true', '--no-code', '--param', 'a=1,2', '--param', `commit=${head}`])
  t.equal(at.commit, head)
  await lab(r, ['log'])
  const out = (await lab(r, ['log', '--json', '--limit', '0'])).out
  const rows = JSON.parse(out)
  t.same(rows.map((e: any) => [e.message, e.at_head]).sort(), [['at head', true], ['no code', false], ['no code', false]])
  t.equal(off.length, 2)
})

/** One raw commit of writer `eve00001` in `r` holding these experiment.queue payloads (as another clone could push). */
async function rawQueue(r: TestRepo, payloads: Array<Record<string, unknown>>): Promise<string[]> {
  const repo = await Repo.open(r.dir, r.env)
  const ids = payloads.map((_, i) => `eve${String(i).padStart(9, '0')}`)
  const h = (n: number, w: number) => n.toString(16).padStart(w, '0')
  const files = [{ path: 'format', data: '1\n' }, ...payloads.map((payload, i) => {
    const seq = i + 1
    const op = { v: 1, id: `eve00001/${seq}`, type: 'experiment.queue', entity: ids[i], lamport: 100 + seq, writer: 'eve00001', seq, time: '2026-01-01T00:00:00.000Z', author: 'Eve <eve@x>', payload }
    return { path: `ops/${h(0, 4)}/${h(0, 2)}/${h(seq, 2)}.json`, data: JSON.stringify(op) + '\n' }
  })]
  const [sha] = await repo.writeCommits([{ from: null, files, author: { name: 'Eve', email: 'eve@x', when: new Date('2026-01-01T00:00:00Z') }, message: `raw\n\nLab-Seq: ${payloads.length}\nLab-Lamport: ${100 + payloads.length}\nLab-Format: 1\n` }])
  repo.close()
  r.git('update-ref', 'refs/lab/w/eve00001', sha)
  return ids
}

t.test("another writer's params: hostile shapes are rejected, odd but valid names contained", async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  const base = { message: 'eve', run: 'true' }
  const ids = await rawQueue(r, [
    { ...base, params: JSON.parse('{"__proto__":"p","constructor":"c","toString":"1e-3","lr":"5"}') },
    { ...base, params: ['lr=1'] },
    { ...base, params: { lr: 1 } },
    { ...base, params: { lr: { nested: '1' } } },
    { ...base, params: { '$(touch x)': '1' } },
    { ...base, params: { lr: 'a\u0000b' } },
    { ...base, params: { LR: '1', lr: '2' } },
    { ...base, params: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`p${i}`, '1'])) },
    { ...base, params: { lr: 'x'.repeat(1025) } },
    { ...base, params: { lr: '1' }, sweep: '../x' },
    { ...base, params: { lr: '1e-3' }, sweep: 'abcdefabcdef' },
  ])
  const listed = await labJson(r, ['log'])
  t.same(listed.map((e: any) => e.id).sort(), [ids[0], ids[10]], 'only the two valid records are folded')
  const odd = await labJson(r, ['show', ids[0]])
  t.same(Object.keys(odd.params), ['__proto__', 'constructor', 'toString', 'lr'], 'prototype names are ordinary keys')
  t.equal(odd.params.toString, 0.001)
  t.equal(Object.getPrototypeOf(odd.params), Object.prototype)
  t.same((await labJson(r, ['log', '--where', 'constructor=c'])).map((e: any) => e.id), [ids[0]])
  t.same((await labJson(r, ['log', '--where', 'toString<0.01'])).map((e: any) => e.id), [ids[0]])
  t.same((await labJson(r, ['log', '--where', 'hasOwnProperty=1'])), [], 'no inherited names')
  t.match((await lab(r, ['log', '--columns', '__proto__,constructor,valueOf'])).out, new RegExp(`${ids[0]}.*\\s+p\\s+c\\s+-\\s+eve`))
  t.equal((await labJson(r, ['show', ids[10]])).sweep, 'abcdefabcdef')
  const f = await lab(r, ['fsck'])
  t.equal(f.code, 1)
  t.equal(f.out.match(/invalid: eve00001\/\d+: invalid experiment.queue: (params|sweep)/g)?.length, 9, f.out)
  t.match(f.out, /both LAB_PARAM_LR/)
  t.match(f.out, /control character/)
  // The worker runs the valid one: its env and file hold the prototype names as plain values.
  const w = await lab(r, ['worker', '--once'])
  t.equal(w.code, 0, w.err)
  t.equal((await labJson(r, ['show', ids[0]])).status, 'succeeded')
})
