// compare and show give one meaning to each number: final values, the logged series, the best reported value.
import t from 'tap'
import { makeRepo, lab, labJson } from '../helpers.ts'

t.test('a metric only the final output line carries: compare and show agree', async t => {
  const r = makeRepo(t)
  await lab(r, ['init', '--objective', 'val_loss', '--minimize'])
  const series = `echo '{"step": 1, "val_loss": 0.9}' >> "$LAB_METRICS"; echo '{"step": 2, "val_loss": 0.6}' >> "$LAB_METRICS"`
  const a = /experiment ([0-9a-f]+)/.exec((await lab(r, ['run', '-m', 'a', '--run', `${series}; echo '{"val_loss": 0.5, "acc": 0.8}'`])).err)![1]
  const b = /experiment ([0-9a-f]+)/.exec((await lab(r, ['run', '-m', 'b', '--run', `${series}; echo '{"acc": 0.7}'`])).err)![1]
  const c = await labJson(r, ['compare', a, b])
  // acc: final only, no series: no min, max or points, as show prints '-'
  t.same(c.metrics.acc.by_experiment[a], { last: 0.8, min: null, max: null, best: 0.8, count: 0 })
  t.match((await lab(r, ['show', a])).out, /\n {2}acc +0\.8 +- +- +- +-\n/)
  // val_loss: a series and a final value that overrides it; best is the best value reported, the final one included
  t.same(c.metrics.val_loss.by_experiment[a], { last: 0.5, min: 0.6, max: 0.9, best: 0.5, count: 2 })
  t.match((await lab(r, ['show', a])).out, /\n {2}val_loss +0\.5 +0\.6 +0\.9 +2 +2\n/)
  t.same(c.metrics.val_loss.by_experiment[b], { last: 0.6, min: 0.6, max: 0.9, best: 0.6, count: 2 })
  t.same(c.best, { metric: 'val_loss', direction: 'minimize', id: a, value: 0.5 })
  const text = (await lab(r, ['compare', a, b])).out
  t.match(text, /\nacc last +0\.8 +0\.7\nacc min +- +-\nacc max +- +-\nacc best \(max\) +0\.8 +0\.7\n/)
})

t.test('compare refuses the same experiment twice, and a --metric none of them has', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  const a = /experiment ([0-9a-f]+)/.exec((await lab(r, ['run', '-m', 'a', '--run', `echo '{"loss": 1}'`])).err)![1]
  const b = /experiment ([0-9a-f]+)/.exec((await lab(r, ['run', '-m', 'b', '--run', 'true'])).err)![1]
  t.match(await lab(r, ['compare', a, a.slice(0, 5)]), { code: 2, out: '', err: `git lab: experiment ${a} is given twice ("${a}" and "${a.slice(0, 5)}"): compare different experiments\n` })
  t.match(await lab(r, ['compare', a, b, '--metric', 'nope']), { code: 1, out: '', err: 'git lab: none of these experiments has a metric "nope" (they have: loss)\n' })
  t.match(await lab(r, ['compare', a, b, '--metric', 'loss']), { code: 0, out: /best by loss \(minimize\): [0-9a-f]{12} \(1\)/ })
})
