// The viewer's pure parts, without a server or a browser: the filter language, sorting, downsampling that keeps
// spikes, ANSI output made safe, EMA smoothing, the layered DAG layout.
import t from 'tap'
import { parseFilter, matches, sortRows, bestOf } from '../../src/ui/table.ts'
import { align, bucketsPerRun, keepIndices, ascending } from '../../src/ui/downsample.ts'
import { parseAnsi } from '../../ui/lib/ansi.ts'
import { ema } from '../../ui/lib/ema.ts'
import { layered } from '../../ui/lib/dag-layout.ts'
import type { Experiment } from '../../src/store/state.ts'

const exp = (id: string, o: Partial<Experiment> = {}): Experiment => ({
  id, status: 'succeeded', message: `run ${id}`, run: 'python train.py', setup: null, commit: null, base: null, idea: null, priority: 0,
  tags: [], depends_on: [], gpus: 0, timeout: null, params: {}, sweep: null, host: null, host_tag: null, author: 'Ann', writer: 'w1', created_at: '2026-01-01T00:00:00.000Z',
  started_at: null, finished_at: null, exit_code: null, reason: null, attempt: 1, metrics: {}, final_metrics: null, series: {}, metrics_skipped: 0,
  output_bytes: 0, output_dropped: 0, chunks: [], artifacts: [], runners: {}, notes: [], updated_at: '2026-01-01T00:00:00.000Z', ...o,
})

t.test('filter language', async t => {
  const f = parseFilter('status:running tag:sweep loss<0.3 lr>=1e-4 "warm up" opt=adam')
  t.same([f.status, f.tag, f.text], [['running'], ['sweep'], ['warm up']])
  t.same(f.where.map(w => [w.name, w.op, w.value]), [['loss', '<', '0.3'], ['lr', '>=', '1e-4'], ['opt', '=', 'adam']])
  const a = exp('aaa', { status: 'running', tags: ['sweep'], message: 'Warm up then decay', params: { lr: '3e-4', opt: 'adam' }, metrics: { loss: 0.2 } })
  t.ok(matches(f, a))
  t.notOk(matches(f, { ...a, metrics: { loss: 0.5 } }))
  t.notOk(matches(f, { ...a, params: { lr: '1e-5', opt: 'adam' } }))
  t.notOk(matches(parseFilter('"cold"'), a))
  t.ok(matches(parseFilter('id:aa'), a))
  t.ok(matches(parseFilter('loss.max>1'), { ...a, series: { loss: { count: 2, last: 0.2, min: 0.2, max: 3, last_step: 2 } } }))
  t.throws(() => parseFilter('lr<abc'), { code: 'Invalid' })
  t.throws(() => parseFilter('<3'), { code: 'Invalid' })
})

t.test('sorting: numbers as numbers, absent last both ways; best by objective', async t => {
  const rows = [exp('a', { params: { lr: '1e-3' }, metrics: { loss: 2 } }), exp('b', { params: { lr: '3e-4' } }), exp('c', { params: { lr: '1e-2' }, metrics: { loss: 1 } })]
  t.same(sortRows(rows, 'param:lr', false, 0).map(e => e.id), ['b', 'a', 'c'])
  t.same(sortRows(rows, 'metric:loss', false, 0).map(e => e.id), ['c', 'a', 'b'])
  t.same(sortRows(rows, 'metric:loss', true, 0).map(e => e.id), ['a', 'c', 'b'])
  t.throws(() => sortRows(rows, 'nope', false, 0), { code: 'Invalid' })
  t.equal(bestOf(rows, { metric: 'loss', direction: 'minimize' }), 'c')
  t.equal(bestOf(rows, { metric: 'loss', direction: 'maximize' }), 'a')
  t.equal(bestOf(rows, null), null)
})

t.test('downsampling keeps every spike and bounds the size', async t => {
  const n = 100_000
  const x = Array.from({ length: n }, (_, i) => i)
  const y = x.map(i => i === 77_777 ? 1000 : i === 33_333 ? -1000 : Math.sin(i / 100))
  const a = align([{ x, y }], 2000)
  t.equal(a.exact, false)
  t.equal(a.x.length, 4000)
  t.ok(a.ys[0].includes(1000) && a.ys[0].includes(-1000), 'both spikes survive')
  t.equal(a.points, n)
  // many runs share the budget
  const runs = Array.from({ length: 100 }, () => ({ x, y }))
  t.equal(bucketsPerRun(2000, 100), 240)
  const many = align(runs, 2000)
  t.equal(many.x.length, 480)
  t.ok(JSON.stringify(many).length < 500_000)
  // a zoomed range: only its points, exact when few
  const z = align([{ x, y }], 2000, 100, 199)
  t.same([z.exact, z.x[0], z.x[z.x.length - 1], z.x.length], [true, 100, 199, 100])
  // runs of different lengths align on one x; gaps are null
  const two = align([{ x: [1, 2, 3], y: [1, 2, 3] }, { x: [2, 4], y: [5, 6] }], 100)
  t.same(two, { x: [1, 2, 3, 4], ys: [[1, 2, 3, null], [null, 5, null, 6]], exact: true, points: 5 })
  t.same(keepIndices([0, 5, 1, 1, -3, 1], 2), [0, 1, 3, 4], 'per half: its min and its max, in order')
  t.same(keepIndices([1, 2, 3], 10), [0, 1, 2])
  t.same(ascending([3, 1, 2], [30, 10, 20]), { x: [1, 2, 3], y: [10, 20, 30] })
})

t.test('ANSI: colours become classes; every other control is dropped', async t => {
  t.same(parseAnsi('\x1b[31mred\x1b[0m plain\n'), [[{ text: 'red', cls: 'fg1' }, { text: ' plain', cls: '' }]])
  t.same(parseAnsi('\x1b[1;32mok\x1b[22m!'), [[{ text: 'ok', cls: 'fg2 b' }, { text: '!', cls: 'fg2' }]])
  // cursor moves, OSC titles and links, bells: gone; the text stays text
  t.same(parseAnsi('a\x1b[2J\x1b]0;title\x07b\x1b]8;;http://x\x1b\\c\x07<script>'), [[{ text: 'abc<script>', cls: '' }]])
  // a progress bar redrawn with \r shows its last state
  t.same(parseAnsi('10%\r50%\r100%\ndone'), [[{ text: '100%', cls: '' }], [{ text: 'done', cls: '' }]])
})

t.test('EMA is debiased and keeps gaps', async t => {
  t.ok(ema([1, 1, 1], 0.9).every(v => Math.abs(v! - 1) < 1e-9), 'a constant stays constant from the first point (debiased)')
  const e = ema([2, null, 2, 4], 0.5)
  t.equal(e[0], 2)
  t.equal(e[1], null)
  t.ok(Math.abs(e[2]! - 2) < 1e-9)
  t.ok(e[3]! > 2 && e[3]! < 4)
  t.same(ema([1, 2], 0), [1, 2])
})

t.test('layered DAG layout: parents above children, cycles cut', async t => {
  const pos = layered([{ id: 'a', parents: [] }, { id: 'b', parents: ['a'] }, { id: 'c', parents: ['a'] }, { id: 'd', parents: ['b', 'c'] }, { id: 'x', parents: ['y'] }, { id: 'y', parents: ['x'] }])
  t.same(['a', 'b', 'c', 'd'].map(i => pos.get(i)!.layer), [0, 1, 1, 2])
  t.ok(pos.get('x') && pos.get('y'), 'a cycle still gets places')
  // 500 ideas in a chain-and-fan: every node placed once, no overlap
  const many = Array.from({ length: 500 }, (_, i) => ({ id: `i${i}`, parents: i ? [`i${Math.floor((i - 1) / 3)}`] : [] }))
  const p = layered(many)
  t.equal(p.size, 500)
  t.equal(new Set([...p.values()].map(v => `${v.x},${v.y}`)).size, 500)
})
