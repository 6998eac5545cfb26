// The fold without git: validation of writer logs, order independence, per-field merge rules.
import t from 'tap'
import { checkWriterOps, fold } from '../../src/store/fold.ts'
import { opId, type Op } from '../../src/store/op.ts'

let clock = 0
function op(writer: string, seq: number, type: string, entity: string, payload: Record<string, unknown>, lamport = ++clock): Op {
  return { v: 1, id: opId(writer, seq), type, entity, lamport, writer, seq, time: new Date(Date.UTC(2026, 0, 1, 0, 0, lamport)).toISOString(), author: `${writer} <${writer}@x>`, payload }
}
const queue = (writer: string, seq: number, id: string, extra: Record<string, unknown> = {}, lamport?: number) =>
  op(writer, seq, 'experiment.queue', id, { message: `m ${id}`, run: 'python train.py', tags: [], depends_on: [], ...extra }, lamport)

function shuffle<T>(a: T[], seed: number): T[] {
  const r = [...a]
  for (let i = r.length - 1; i > 0; i--) { seed = (seed * 1103515245 + 12345) % 2 ** 31; const j = seed % (i + 1); [r[i], r[j]] = [r[j], r[i]] }
  return r
}

t.test('writer log validation rejects what is not a valid op of that writer', async t => {
  const good = queue('aa', 1, 'exp001', {}, 5)
  const items = [
    { seq: 1, json: good },
    { seq: 2, json: 'not an object' },
    { seq: 3, json: { ...queue('bb', 3, 'exp002', {}, 6) } },
    { seq: 4, json: { ...queue('aa', 9, 'exp003', {}, 7) } },
    { seq: 5, json: { ...queue('aa', 5, 'exp004', {}, 8), type: 'experiment.explode' } },
    { seq: 6, json: queue('aa', 6, 'exp005', {}, 4) },
    { seq: 7, json: { ...queue('aa', 7, 'exp006', {}, 2 ** 40), time: '2026-01-01T00:00:00.000Z' } },
    { seq: 8, json: queue('aa', 8, 'exp007', { run: 42 }, 9) },
    { seq: 9, json: { ...queue('aa', 9, '../../etc', {}, 10) } },
    { seq: 10, json: { ...queue('aa', 10, 'exp008', {}, 11), time: '9999-01-01T00:00:00Z' } },
    { seq: 11, json: queue('aa', 11, 'exp009', { commit: 'HEAD; rm -rf /' }, 12) },
    { seq: 12, json: queue('aa', 12, 'exp010', {}, 13) },
  ]
  const r = checkWriterOps({ last_seq: 0, last_lamport: 0 }, 'aa', items)
  t.same(r.valid.map(o => o.entity), ['exp001', 'exp010'])
  t.same(r.rejected.map(x => x.seq), [2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
  t.match(r.rejected.find(x => x.seq === 5)!.reason, /unknown operation type/)
  t.match(r.rejected.find(x => x.seq === 7)!.reason, /jumps/)
  t.match(r.rejected.find(x => x.seq === 6)!.reason, /does not advance/)
  t.same(r.cursor, { last_seq: 12, last_lamport: 13 })
})

t.test('any order of the same ops folds to the same state', async t => {
  const ops = [
    queue('aa', 1, 'exp001'), queue('bb', 1, 'exp002'),
    op('aa', 2, 'experiment.tag', 'exp002', { add: ['x', 'y'] }), op('bb', 2, 'experiment.tag', 'exp002', { remove: ['x'] }),
    op('cc', 1, 'experiment.note', 'exp001', { text: 'first' }), op('aa', 3, 'experiment.note', 'exp001', { text: 'second' }),
    op('cc', 2, 'experiment.cancel', 'exp001', { reason: 'no' }),
    op('aa', 4, 'idea.create', 'idea01', { text: 'root', parents: [], tags: [] }),
    op('bb', 3, 'idea.create', 'idea02', { text: 'child', parents: ['idea01'], tags: ['t'] }),
    op('aa', 5, 'idea.resolve', 'idea02', { status: 'concluded', text: 'works' }),
    op('bb', 4, 'idea.resolve', 'idea02', { status: 'abandoned', text: 'does not' }),
    op('cc', 3, 'message.send', 'msg001', { to: 'all', from: 'cc', text: 'hi' }),
    op('aa', 6, 'message.read', 'msg001', { reader: 'aa' }),
    op('aa', 7, 'lab.config', 'lab', { objective: { metric: 'loss', direction: 'minimize' } }),
  ]
  const a = fold(ops)
  for (let seed = 1; seed < 20; seed++) t.same(fold(shuffle(ops, seed)), a)
  t.same(a.experiments.exp002.tags, ['y'], 'tag ops apply in fold order')
  t.same(a.experiments.exp001.notes.map(n => n.text), ['first', 'second'])
  t.equal(a.experiments.exp001.status, 'cancelled')
  t.equal(a.experiments.exp001.reason, 'no')
  t.equal(a.ideas.idea02.status, 'abandoned', 'last writer wins')
  t.same(a.ideas.idea02.parents, ['idea01'])
  t.same(a.messages.msg001.read_by, ['aa'])
  t.same(a.config.objective, { metric: 'loss', direction: 'minimize' })
  t.equal(a.max_lamport, clock)
})

t.test('the idea DAG refuses cycles and unknown parents', async t => {
  const s = fold([
    op('aa', 1, 'idea.create', 'ideaaa', { text: 'a', parents: [] }),
    op('aa', 2, 'idea.create', 'ideabb', { text: 'b', parents: ['ideaaa', 'nosuch'] }),
    op('aa', 3, 'idea.create', 'ideacc', { text: 'c', parents: ['ideabb'] }),
    op('aa', 4, 'idea.link', 'ideaaa', { parent: 'ideacc' }),
    op('aa', 5, 'idea.link', 'ideacc', { parent: 'ideaaa' }),
    op('aa', 6, 'idea.link', 'ideacc', { parent: 'ideaaa' }),
    op('aa', 7, 'idea.link', 'ideaaa', { parent: 'ideaaa' }),
    op('aa', 8, 'idea.create', 'ideaaa', { text: 'again', parents: [] }),
  ])
  t.same(s.ideas.ideaaa.parents, [])
  t.same(s.ideas.ideabb.parents, ['ideaaa'])
  t.same(s.ideas.ideacc.parents, ['ideabb', 'ideaaa'])
  t.equal(s.ideas.ideaaa.text, 'a')
  t.match(s.skipped.map(x => x.reason).join('\n'), /unknown parent ideas dropped: nosuch[\s\S]*cycle[\s\S]*cycle[\s\S]*already exists/)
})

t.test('experiment lifecycle: forward only within an attempt, reported by its claimer, retry starts a new one', async t => {
  const st = (seq: number, status: string, attempt = 1, extra = {}, w = 'ww') => op(w, seq, 'experiment.status', 'exp001', { status, attempt, ...extra })
  const s = fold([
    queue('ww', 1, 'exp001'), st(2, 'running'), st(3, 'claimed', 1, { worker: 'w1', host: 'gpu1' }), st(1, 'claimed', 1, {}, 'xx'),
    st(4, 'running'), st(2, 'failed', 1, {}, 'xx'), st(5, 'claimed'), st(6, 'failed', 1, { exit_code: 3, reason: 'exit 3' }),
    st(7, 'running'), op('ww', 8, 'experiment.cancel', 'exp001', {}), st(9, 'queued', 3), st(10, 'queued', 2),
    st(11, 'claimed', 2, {}, 'yy'), st(12, 'running', 2, {}, 'yy'), st(13, 'succeeded', 2, { exit_code: 0, metrics: { acc: 0.9 } }, 'yy'),
    st(14, 'running', 1), op('ww', 15, 'experiment.note', 'nosuch', { text: 'x' }),
  ])
  const e = s.experiments.exp001
  t.equal(e.status, 'succeeded')
  t.equal(e.attempt, 2)
  t.equal(e.exit_code, 0)
  t.same(e.metrics, { acc: 0.9 })
  t.same(e.runners, { 1: { writer: 'ww', worker: 'w1', host: 'gpu1' }, 2: { writer: 'yy', worker: 'yy <yy@x>', host: '' } })
  t.ok(e.started_at && e.finished_at)
  t.same(s.skipped.map(x => x.op), ['ww/2', 'xx/1', 'xx/2', 'ww/5', 'ww/7', 'ww/9', 'ww/14', 'ww/15'])
})

t.test('chunks and artifacts: only the runner adds them; summaries merge; a retry starts clean; cancel keeps the exit code', async t => {
  const blob = (c: string) => c.repeat(40)
  const sum = (count: number, last: number, min: number, max: number, last_step: number) => ({ count, last, min, max, last_step })
  const s = fold([
    queue('ww', 1, 'exp001'),
    op('ww', 2, 'experiment.chunk', 'exp001', { attempt: 1, output: { blob: blob('a'), from: 0, to: 10 } }),
    op('ww', 3, 'experiment.status', 'exp001', { status: 'claimed', attempt: 1 }),
    op('ww', 4, 'experiment.chunk', 'exp001', { attempt: 1, output: { blob: blob('b'), from: 0, to: 10 }, metrics: { blob: blob('c'), from: 0, to: 50, points: 3, skipped: 1, series: { loss: sum(3, 0.5, 0.5, 2, 2) } } }),
    op('xx', 1, 'experiment.chunk', 'exp001', { attempt: 1, output: { blob: blob('d'), from: 10, to: 20 } }),
    op('ww', 5, 'experiment.chunk', 'exp001', { attempt: 1, metrics: { blob: blob('e'), from: 50, to: 90, points: 2, skipped: 2, series: { loss: sum(2, 0.25, 0.25, 3, 4), acc: sum(1, 0.7, 0.7, 0.7, 4) } } }),
    op('ww', 6, 'experiment.artifacts', 'exp001', { attempt: 1, files: [{ path: 'model/w.txt', size: 3, sha256: 'f'.repeat(64), blob: blob('f') }, { path: 'big.bin', size: 1e9, sha256: 'e'.repeat(64) }] }),
    op('xx', 2, 'experiment.artifacts', 'exp001', { attempt: 1, files: [{ path: 'evil', size: 1, sha256: 'a' }] }),
    op('ww', 7, 'experiment.cancel', 'exp001', { reason: 'enough' }),
    op('ww', 8, 'experiment.status', 'exp001', { status: 'failed', attempt: 1, exit_code: 143, metrics: { loss: 0.2 } }),
  ])
  const e = s.experiments.exp001
  t.equal(e.status, 'cancelled')
  t.equal(e.reason, 'enough')
  t.equal(e.exit_code, 143)
  t.same(e.series, { loss: sum(5, 0.25, 0.25, 3, 4), acc: sum(1, 0.7, 0.7, 0.7, 4) })
  t.same(e.metrics, { loss: 0.2, acc: 0.7 }, 'the final line overrides the last point')
  t.equal(e.metrics_skipped, 3)
  t.equal(e.output_bytes, 10)
  t.same(e.chunks.map(c => [c.output?.blob[0] ?? null, c.metrics?.blob[0] ?? null]), [['b', 'c'], [null, 'e']])
  t.same(e.artifacts.map(a => [a.path, a.blob?.[0] ?? null]), [['model/w.txt', 'f'], ['big.bin', null]])
  t.same(s.skipped.map(x => x.op), ['ww/2', 'xx/1', 'xx/2'])

  const retried = fold([queue('ww', 1, 'exp002'), op('ww', 2, 'experiment.status', 'exp002', { status: 'claimed', attempt: 1 }),
    op('ww', 3, 'experiment.chunk', 'exp002', { attempt: 1, metrics: { blob: blob('a'), from: 0, to: 9, points: 1, skipped: 1, series: { loss: sum(1, 1, 1, 1, 0) } } }),
    op('ww', 4, 'experiment.status', 'exp002', { status: 'failed', attempt: 1, exit_code: 1 }),
    op('zz', 1, 'experiment.status', 'exp002', { status: 'queued', attempt: 2 }),
    op('ww', 5, 'experiment.chunk', 'exp002', { attempt: 1, output: { blob: blob('b'), from: 0, to: 4 } })]).experiments.exp002
  t.equal(retried.status, 'queued')
  t.same([retried.series, retried.metrics, retried.metrics_skipped, retried.output_bytes], [{}, {}, 0, 0])
  t.equal(retried.chunks.length, 2, 'chunks of earlier attempts stay readable')
})

t.test('payload validation of chunk and artifact ops', async t => {
  const r = checkWriterOps({ last_seq: 0, last_lamport: 0 }, 'ww', [
    { seq: 1, json: op('ww', 1, 'experiment.chunk', 'exp001', { attempt: 1 }, 1) },
    { seq: 2, json: op('ww', 2, 'experiment.chunk', 'exp001', { attempt: 1, output: { blob: 'nope', from: 0, to: 1 } }, 2) },
    { seq: 3, json: op('ww', 3, 'experiment.chunk', 'exp001', { attempt: 1, output: { blob: 'a'.repeat(40), from: 5, to: 5 } }, 3) },
    { seq: 4, json: op('ww', 4, 'experiment.chunk', 'exp001', { attempt: 1, metrics: { blob: 'a'.repeat(40), from: 0, to: 5, points: 1, skipped: 0, series: { x: { count: 1, last: 'NaN', min: 0, max: 0, last_step: 0 } } } }, 4) },
    { seq: 5, json: op('ww', 5, 'experiment.artifacts', 'exp001', { attempt: 1, files: [{ path: '../../etc/passwd', size: 1, sha256: 'a' }] }, 5) },
    { seq: 6, json: op('ww', 6, 'experiment.status', 'exp001', { status: 'succeeded', attempt: 1, metrics: { loss: 'low' } }, 6) },
    { seq: 7, json: op('ww', 7, 'experiment.chunk', 'exp001', { attempt: 1, output: { blob: 'a'.repeat(40), from: 0, to: 5 } }, 7) },
  ])
  t.same(r.valid.map(o => o.seq), [7])
  t.match(r.rejected.map(x => x.reason), [/neither output nor metrics/, /output: blob: not an object id/, /empty range/, /invalid summary/, /leaves the output folder/, /not a finite number/])
})
