// metrics through real runs: a job that truncates or rewrites its metrics file, and metric names that are
// Object.prototype's (toString, valueOf, __proto__, constructor) through run, show, metrics and compare.
import t from 'tap'
import { makeRepo, lab, labJson } from '../helpers.ts'

const line = (step: number) => `{"step": ${step}, "loss": ${step}}`
// Three lines appended; then `>` with one shorter line (the file shrinks); then `>` with four lines, longer than the
// file was (rewritten from 0); then appended again. Each pause outlasts a few worker ticks.
const TRUNCATING = [
  `for s in 1 2 3; do echo "{\\"step\\": $s, \\"loss\\": $s}" >> "$LAB_METRICS"; done`,
  'sleep 2.5',
  `echo '${line(4)}' > "$LAB_METRICS"`,
  'sleep 2.5',
  `printf '%s\\n' '${line(5)}' '${line(6)}' '${line(7)}' '${line(8)}' > "$LAB_METRICS"`,
  'sleep 2.5',
  `echo '${line(9)}' >> "$LAB_METRICS"`,
].join('; ')

t.test('a job that truncates or rewrites $LAB_METRICS: every point is kept, the rewrites are counted and logged', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  const res = await lab(r, ['run', '-m', 'truncates', '--run', TRUNCATING])
  t.equal(res.code, 0, res.err)
  const id = /experiment ([0-9a-f]+)/.exec(res.err)![1]
  const said = res.err.match(/\$LAB_METRICS was truncated or rewritten/g) ?? []
  t.equal(said.length, 2, `the worker says so each time: ${res.err}`)
  const m = await labJson(r, ['metrics', id])
  t.same(m.series.loss.map((p: any) => [p.step, p.value]), Array.from({ length: 9 }, (_, i) => [i + 1, i + 1]), 'no point lost or read twice')
  t.equal(m.rewrites, 2)
  t.equal(m.skipped, 0, 'no line read from the middle')
  t.match((await lab(r, ['metrics', id])).out, /\$LAB_METRICS was truncated or rewritten 2 times/)
  const e = await labJson(r, ['show', id])
  t.same(e.series.loss, { count: 9, last: 9, min: 1, max: 9, last_step: 9 })
  const rebuilt = await labJson(r, ['fsck', '--rebuild'])
  t.same([rebuilt.warnings, rebuilt.rejected], [[], []])
  t.same(await labJson(r, ['show', id]), e, 'a rebuild folds the same')
})

const PROTO = 'for i in 1 2 3; do echo "{\\"step\\": $i, \\"toString\\": $i, \\"valueOf\\": $((i*2)), \\"__proto__\\": $((i*3)), ' +
  '\\"constructor\\": $((i*4)), \\"hasOwnProperty\\": 5}" >> "$LAB_METRICS"; done; '
const NAMES = ['__proto__', 'constructor', 'hasOwnProperty', 'toString', 'valueOf']
const own = (o: any, k: string) => Object.getOwnPropertyDescriptor(o, k)?.value

t.test('metric names of Object.prototype are ordinary names: run, show, metrics, compare', async t => {
  const r = makeRepo(t)
  await lab(r, ['init', '--objective', 'toString', '--minimize'])
  const ids: string[] = []
  for (const last of ['{"toString": 10, "__proto__": 30}', '{"valueOf": 7}']) {
    const res = await lab(r, ['run', '-m', 'proto', '--run', `${PROTO} echo '${last}'`])
    t.equal(res.code, 0, res.err)
    ids.push(/experiment ([0-9a-f]+)/.exec(res.err)![1])
  }
  const [a, b] = await Promise.all(ids.map(id => labJson(r, ['show', id])))
  t.same(NAMES.map(k => own(a.series, k)), [
    { count: 3, last: 9, min: 3, max: 9, last_step: 3 }, { count: 3, last: 12, min: 4, max: 12, last_step: 3 },
    { count: 3, last: 5, min: 5, max: 5, last_step: 3 }, { count: 3, last: 3, min: 1, max: 3, last_step: 3 },
    { count: 3, last: 6, min: 2, max: 6, last_step: 3 },
  ], 'summaries of every name')
  t.same(NAMES.map(k => own(a.metrics, k)), [30, 12, 5, 10, 6], 'final metrics: the last line overrides')
  t.same(NAMES.map(k => own(b.metrics, k)), [9, 12, 5, 3, 7])
  t.same(Object.keys(a.metrics).sort(), NAMES)
  const text = await lab(r, ['show', ids[0]])
  t.notMatch(text.out, /NaN|undefined|function|\[object/)
  t.match(text.out, /\n\s+__proto__\s+30\s+3\s+9\s+3\s+3\n/)

  const m = await labJson(r, ['metrics', ids[0]])
  t.same(Object.keys(m.series).sort(), NAMES)
  t.same(own(m.series, '__proto__').map((p: any) => [p.step, p.value]), [[1, 3], [2, 6], [3, 9]])
  t.same(own(m.series, 'toString').map((p: any) => p.value), [1, 2, 3])
  const mt = await lab(r, ['metrics', ids[0], '--series', 'valueOf', '--series', '__proto__'])
  t.match(mt.out, /^__proto__ \(3 points\)\n[^]*valueOf \(3 points\)\n/)
  t.notMatch((await lab(r, ['metrics', ids[0], '--csv'])).out, /NaN|undefined/)

  const c = await labJson(r, ['compare', ...ids])
  t.same(c.best, { metric: 'toString', direction: 'minimize', id: ids[1], value: 3 })
  t.same(Object.keys(c.metrics).sort(), NAMES)
  t.same(own(c.metrics, '__proto__').by_experiment, { [ids[0]]: { last: 30, min: 3, max: 9, best: null, count: 3 }, [ids[1]]: { last: 9, min: 3, max: 9, best: null, count: 3 } })
  t.same(own(c.experiments[0].metrics, 'constructor'), 12)
  const ct = await lab(r, ['compare', ...ids])
  t.notMatch(ct.out, /NaN|undefined|function|\[object/)
  t.match(ct.out, /\ntoString last \*\s+10\s+3\n/)
  t.match(ct.out, /\nvalueOf last\s+6\s+7\n/)
  const log = await labJson(r, ['log'])
  t.same(log.map((e: any) => own(e.metrics, 'valueOf')), [7, 6])
  // the same after the index is rebuilt from the refs (states saved and loaded, ops folded again)
  const rebuilt = await labJson(r, ['fsck', '--rebuild'])
  t.same([rebuilt.warnings, rebuilt.rejected, rebuilt.index_consistent], [[], [], true])
  t.same(await labJson(r, ['show', ids[0]]), a)
  t.same(await labJson(r, ['compare', ...ids]), c)
})
