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

t.test('experiment lifecycle: forward only within an attempt, retry starts a new one', async t => {
  const st = (seq: number, status: string, attempt = 1, extra = {}) => op('ww', seq, 'experiment.status', 'exp001', { status, attempt, ...extra })
  const s = fold([
    queue('ww', 1, 'exp001'), st(2, 'claimed'), st(3, 'running'), st(4, 'claimed'), st(5, 'failed', 1, { exit_code: 3, reason: 'exit 3' }),
    st(6, 'running'), op('ww', 7, 'experiment.cancel', 'exp001', {}), st(8, 'queued', 2), st(9, 'running', 2), st(10, 'succeeded', 2, { exit_code: 0 }),
    st(11, 'running', 1), op('ww', 12, 'experiment.note', 'nosuch', { text: 'x' }),
  ])
  const e = s.experiments.exp001
  t.equal(e.status, 'succeeded')
  t.equal(e.attempt, 2)
  t.equal(e.exit_code, 0)
  t.ok(e.started_at && e.finished_at)
  t.same(s.skipped.map(x => x.op), ['ww/4', 'ww/6', 'ww/11', 'ww/12'])
})
