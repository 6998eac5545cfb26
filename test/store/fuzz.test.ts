// A seeded fuzz of hostile records: thousands of mutated operation blobs through the read path, and mutated trees
// and commits of a writer log on a real repo. Nothing may throw, and no valid record of another writer may change.
// LAB_FUZZ_SEED picks another seed, LAB_FUZZ_N another count (a failure prints the seed and step to replay).
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { checkWriterOps, fold } from '../../src/store/fold.ts'
import { opId, type Op } from '../../src/store/op.ts'
import { parseBounded } from '../../src/store/safe-json.ts'
import { reviveState, type State } from '../../src/store/state.ts'
import { MAX_OP_BYTES } from '../../src/store/layout.ts'
import { Lab } from '../../src/lab/lab.ts'
import { makeRepo, lab, labJson, remoteAndOrigin } from '../helpers.ts'

const SEED = Number(process.env.LAB_FUZZ_SEED ?? 20261129)
const N = Number(process.env.LAB_FUZZ_N ?? 3000)

function prng(seed: number) {
  let s = seed >>> 0
  return (n: number) => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s % n }
}

const op = (writer: string, seq: number, lamport: number, type: string, entity: string, payload: Record<string, unknown>): Op => ({
  v: 1, id: opId(writer, seq), type, entity, lamport, writer, seq, time: '2026-02-01T00:00:00.000Z', author: `${writer} <${writer}@x>`, payload,
})

/** Ann's records (the other writer whose records must survive) and Eve's, whose blobs get mutated. */
function logs() {
  const sha = 'a'.repeat(40)
  const ann = [
    op('ann', 1, 1, 'experiment.queue', 'exp001', { message: 'ann one', run: 'python a.py', tags: ['x'], params: { lr: '1e-3', opt: 'adam' } }),
    op('ann', 2, 2, 'idea.create', 'idea01', { text: 'ann idea', parents: [], tags: [] }),
    op('ann', 3, 3, 'experiment.status', 'exp001', { status: 'claimed', attempt: 1, worker: 'w', host: 'h' }),
    op('ann', 4, 4, 'experiment.chunk', 'exp001', { attempt: 1, metrics: { blob: sha, from: 0, to: 10, points: 2, skipped: 0, series: { loss: { count: 2, last: 0.5, min: 0.5, max: 1, last_step: 2 } } } }),
    op('ann', 5, 5, 'experiment.status', 'exp001', { status: 'succeeded', attempt: 1, exit_code: 0, metrics: { acc: 0.9 } }),
    op('ann', 6, 6, 'message.send', 'msg001', { to: 'all', from: 'ann', text: 'hello' }),
    op('ann', 7, 7, 'experiment.queue', 'exp002', { message: 'ann two', run: 'python b.py', depends_on: ['exp001'] }),
  ]
  const eve = [
    op('eve', 1, 8, 'experiment.queue', 'eve001', { message: 'eve one', run: 'true', tags: ['t'], depends_on: ['exp001'], gpus: 1, timeout: 60, params: { lr: '0.1', constructor: 'x', 'b.c': '' }, sweep: 'swp001' }),
    op('eve', 2, 9, 'experiment.status', 'eve001', { status: 'claimed', attempt: 1, worker: 'w', host: 'h' }),
    op('eve', 3, 10, 'experiment.chunk', 'eve001', { attempt: 1, output: { blob: sha, from: 0, to: 5 }, metrics: { blob: sha, from: 0, to: 9, points: 1, skipped: 1, series: { toString: { count: 1, last: 1, min: 1, max: 1, last_step: 1 } } } }),
    op('eve', 4, 11, 'experiment.artifacts', 'eve001', { attempt: 1, files: [{ path: 'a.txt', size: 3, sha256: 'b'.repeat(64), blob: sha }] }),
    op('eve', 5, 12, 'experiment.status', 'eve001', { status: 'failed', attempt: 1, exit_code: 1, reason: 'r', metrics: { valueOf: 2 } }),
    op('eve', 6, 13, 'experiment.note', 'exp001', { text: 'eve was here' }),
    op('eve', 7, 14, 'idea.create', 'idea02', { text: 'eve idea', parents: ['idea01'], tags: ['a'] }),
    op('eve', 8, 15, 'idea.link', 'idea01', { parent: 'idea02' }),
    op('eve', 9, 16, 'idea.resolve', 'idea01', { status: 'concluded', text: 'eve says done' }),
    op('eve', 10, 17, 'idea.tag', 'idea01', { add: ['b'], remove: ['x'] }),
    op('eve', 11, 18, 'experiment.tag', 'exp001', { add: ['e'], remove: ['x'] }),
    op('eve', 12, 19, 'message.read', 'msg001', { reader: 'eve' }),
    op('eve', 13, 20, 'lab.config', 'lab', { objective: { metric: 'loss', direction: 'minimize' } }),
    op('eve', 14, 21, 'experiment.cancel', 'exp002', { reason: 'no' }),
  ]
  return { ann, eve }
}

/** The parts of Ann's records that are Ann's own: nothing another writer writes may change them. */
function annView(s: State) {
  const e = (id: string) => s.experiments[id] && (({ message, run, setup, commit, author, writer, created_at, depends_on, gpus, timeout, params, sweep, runners, chunks, series, metrics_skipped }) =>
    ({ message, run, setup, commit, author, writer, created_at, depends_on, gpus, timeout, params: { ...params }, sweep, runners: { ...runners }, chunks, series: { ...series }, metrics_skipped }))(s.experiments[id])
  const i = s.ideas.idea01
  const m = s.messages.msg001
  return { exp001: e('exp001'), exp002: e('exp002'), idea01: i && { text: i.text, author: i.author, created_at: i.created_at }, msg001: m && { text: m.text, from: m.from, to: m.to, author: m.author } }
}

const WEIRD: unknown[] = [null, true, -1, 0, 1e308, -1e308, 2 ** 53 + 2, 1.5, '', 'x'.repeat(70_000), [], {}, [[[[]]]], { __proto__: null, polluted: 1 },
  JSON.parse('{"__proto__":{"polluted":1}}'), JSON.parse('{"constructor":{"prototype":{"polluted":1}}}'), '\u001b[2J', 'constructor', '__proto__', '../x', 'exp001', 'idea01']
const KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', 'payload', 'type', 'entity', 'status', 'attempt']

/** Paths to every value inside a JSON value. */
function paths(v: unknown, at: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  out.push(at)
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out))
  else if (v && typeof v === 'object') for (const k of Object.keys(v)) paths((v as Record<string, unknown>)[k], [...at, k], out)
  return out
}

function setAt(root: any, p: Array<string | number>, value: unknown): any {
  if (p.length === 0) return value
  let o = root
  for (const k of p.slice(0, -1)) o = o[k]
  Object.defineProperty(o, p[p.length - 1], { value, enumerable: true, writable: true, configurable: true })
  return root
}

/** One random mutation of an operation's JSON text. */
function mutate(rnd: (n: number) => number, text: string, others: string[]): string {
  const kind = rnd(9)
  if (kind === 0) { // bit flips
    const b = Buffer.from(text)
    for (let i = 0, n = 1 + rnd(3); i < n; i++) { const at = rnd(b.length); b[at] ^= 1 << rnd(8) }
    return b.toString('utf8')
  }
  if (kind === 1) return text.slice(0, rnd(text.length)) // truncation
  if (kind === 2) return text.replace(/"[a-z_]+":/, `"${KEYS[rnd(KEYS.length)]}":`) // odd keys
  if (kind === 3) return others[rnd(others.length)] // another op's blob at this path
  if (kind === 4) { // nesting far deeper than any record
    const d = [10, 40, 1000, 100_000][rnd(4)]
    return text.replace(/\}\s*$/, `,"deep":${'['.repeat(d)}${']'.repeat(d)}}`)
  }
  const o = JSON.parse(text)
  const ps = paths(o)
  const p = ps[rnd(ps.length)]
  if (kind === 5) return JSON.stringify(setAt(o, p, WEIRD[rnd(WEIRD.length)])) // type swaps and odd values
  if (kind === 6) return JSON.stringify(setAt(o, ['lamport'], [0, 1, 2 ** 52, 2 ** 60, -5, 8.5][rnd(6)]))
  if (kind === 7) return JSON.stringify(setAt(o, ['type'], ['experiment.status', 'experiment.chunk', 'idea.link', 'experiment.artifacts', 'lab.config', 'x.y'][rnd(6)]))
  return JSON.stringify(setAt(o, ['entity'], ['constructor', 'exp001', 'idea01', 'msg001', 'lab', 'eve001', 'zzz'][rnd(7)]))
}

t.test(`fuzz: ${N} mutated operation blobs through the read path (seed ${SEED})`, async t => {
  const { ann, eve } = logs()
  const baseline = annView(fold([...ann, ...eve]))
  const texts = eve.map(o => JSON.stringify(o))
  const rnd = prng(SEED)
  let accepted = 0
  for (let step = 0; step < N; step++) {
    const k = rnd(eve.length)
    const text = mutate(rnd, texts[k], texts)
    let state: State
    try {
      let json: unknown
      let error: string | undefined
      if (Buffer.byteLength(text) > MAX_OP_BYTES) error = 'too large'
      else try { json = parseBounded(text, MAX_OP_BYTES) } catch (e) { error = (e as Error).message }
      const items = eve.map((o, i) => i === k ? { seq: o.seq, json, error } : { seq: o.seq, json: JSON.parse(texts[i]) })
      const r = checkWriterOps({ last_seq: 0, last_lamport: 0 }, 'eve', items)
      if (r.valid.length === eve.length) accepted++
      state = fold([...ann, ...r.valid])
      // what the index saves and loads back is the same state
      const again = reviveState(JSON.parse(JSON.stringify(state)))
      if (JSON.stringify(again) !== JSON.stringify(state)) throw new Error('state does not survive a save and load')
    } catch (e) {
      t.fail(`step ${step} (seed ${SEED}) threw on ${JSON.stringify(text.slice(0, 300))}: ${(e as Error).stack}`)
      return
    }
    const view = annView(state)
    if (JSON.stringify(view) !== JSON.stringify(baseline)) {
      t.same(view, baseline, `step ${step} (seed ${SEED}) changed Ann's records with ${JSON.stringify(text.slice(0, 300))}`)
      return
    }
    if (({} as Record<string, unknown>).polluted !== undefined) { t.fail(`step ${step}: Object.prototype polluted`); return }
  }
  t.ok(accepted > 0 && accepted < N, `some mutations stay valid (${accepted}), most do not`)
})

t.test('fuzz: mutated trees and commits of a writer log on a real repo (seed ' + SEED + ')', async t => {
  const { origin: a } = remoteAndOrigin(t)
  t.equal((await lab(a, ['init'])).code, 0)
  const e1 = await labJson(a, ['submit', '--no-code', '-m', 'ann one', '--run', 'true'])
  await labJson(a, ['idea', 'new', 'ann idea'])
  await labJson(a, ['note', e1.id, 'ann note'])
  const view = (s: State) => JSON.stringify(Object.values(s.experiments).filter(e => e.writer !== 'eve00001').map(e => [e.id, e.message, e.run, e.author, e.created_at]))
  const l = await Lab.open({ cwd: a.dir, env: a.env })
  t.teardown(() => l.close())
  const baseline = view(await l.state())
  const ann = a.git('config', 'lab.writer').trim()
  const { eve } = logs()
  const rnd = prng(SEED + 1)
  const ref = 'refs/lab/remotes/origin/w/eve00001'
  const g = (...args: string[]) => a.git(...args).trim()
  const execGit = (args: string[], input?: string, env: NodeJS.ProcessEnv = {}) =>
    execFileSync('git', args, { cwd: a.dir, env: { ...a.env, ...env }, input, encoding: 'utf8' })
  const blob = (data: string) => execGit(['hash-object', '-w', '--stdin'], data).trim()
  const index = `${a.dir}/.git/fuzz-index`
  const commit = (tree: string, parents: string[], msg: string) => execGit(['commit-tree', tree, ...parents.flatMap(p => ['-p', p])], msg).trim()
  const treeWith = (base: string | null, changes: Array<[string, string, string] | [string, null]>) => {
    execGit(base ? ['read-tree', base] : ['read-tree', '--empty'], undefined, { GIT_INDEX_FILE: index })
    const info = changes.map(([path, mode, sha]) => mode === null ? `0 ${'0'.repeat(40)}\t${path}` : `${mode} ${sha}\t${path}`).join('\n') + '\n'
    execGit(['update-index', '--index-info'], info, { GIT_INDEX_FILE: index })
    return execGit(['write-tree', '--missing-ok'], undefined, { GIT_INDEX_FILE: index }).trim()
  }
  const opPath = (seq: number) => `ops/0000/${(Math.floor(seq / 256) % 256).toString(16).padStart(2, '0')}/${(seq % 256).toString(16).padStart(2, '0')}.json`
  const eveText = eve.map(o => JSON.stringify({ ...o, writer: 'eve00001', id: `eve00001/${o.seq}` }))
  // a valid start: Eve's log with its first ops
  let tree = treeWith(null, [['format', '100644', blob('1\n')], ...eveText.slice(0, 3).map((x, i) => [opPath(i + 1), '100644', blob(x)] as [string, string, string])])
  let tip = commit(tree, [], 'eve\n\nLab-Seq: 3\nLab-Lamport: 10\n')
  let seq = 3
  g('update-ref', ref, tip)
  const kinds = ['op', 'mutated', 'odd path', 'tree for blob', 'modify', 'delete', 'new root', 'fork', 'message', 'huge', 'mode', 'format', 'companion', 'gap', 'fill', 'not a commit']
  const missing: number[] = []
  const steps = Number(process.env.LAB_FUZZ_GIT_N ?? 120)
  for (let step = 0; step < steps; step++) {
    const kind = kinds[rnd(kinds.length)]
    const files = g('ls-tree', '-r', '--name-only', tip).split('\n').filter(Boolean)
    let parents = [tip]
    let msg = `eve ${step}\n\nLab-Seq: ${seq + 1}\nLab-Lamport: ${100 + step}\n`
    if (kind === 'gap' || (kind === 'fill' && missing.length)) {
      const at = kind === 'gap' ? (missing.push(seq + 1), seq += 2) : missing.splice(rnd(missing.length), 1)[0]
      const o = JSON.parse(eveText[rnd(eveText.length)])
      tree = treeWith(tip, [[opPath(at), '100644', blob(JSON.stringify({ ...o, seq: at, id: `eve00001/${at}`, lamport: 100 + step }))]])
    } else if (kind === 'not a commit') {
      g('update-ref', ref, blob(['{}', 'x'][rnd(2)]))
      const s = await l.state().catch(e => { t.fail(`step ${step} (${kind}): ${(e as Error).stack}`); return null })
      if (!s || view(s) !== baseline) { t.fail(`step ${step} (${kind}) changed Ann's records`); return }
      g('update-ref', ref, tip)
      continue
    } else if (kind === 'op' || kind === 'mutated') {
      seq++
      const base = eveText[rnd(eveText.length)]
      const o = JSON.parse(base)
      const text = JSON.stringify({ ...o, seq, id: `eve00001/${seq}`, lamport: 100 + step })
      tree = treeWith(tip, [[opPath(seq), '100644', blob(kind === 'op' ? text : mutate(rnd, text, eveText))]])
    } else if (kind === 'odd path') {
      tree = treeWith(tip, [[['ops/zz/x.json', 'ops/0000/00/ff.JSON', 'a/../b', 'ops/0000/00/01.json.bak', 'x'.repeat(300), 'ops/0000/00/00.json', 'ops/ffff/ff/ff.json'][rnd(7)], '100644', blob('{}')]])
    } else if (kind === 'tree for blob') {
      tree = treeWith(tip, [[`${opPath(seq + 1)}/inner`, '100644', blob('{}')]])
    } else if (kind === 'modify' && files.length) {
      tree = treeWith(tip, [[files[rnd(files.length)], '100644', blob(eveText[rnd(eveText.length)])]])
    } else if (kind === 'delete' && files.length > 1) {
      tree = treeWith(tip, [[files[rnd(files.length)], null]])
    } else if (kind === 'new root') {
      parents = []
    } else if (kind === 'fork') {
      const chain = g('rev-list', '--first-parent', tip).split('\n')
      parents = [chain[rnd(chain.length)]]
    } else if (kind === 'message') {
      msg = ['', 'no trailers', `x\n\nLab-Seq: ${2 ** 60}\nLab-Lamport: -1\n`, `x\n\nLab-Seq: 1\n`][rnd(4)]
    } else if (kind === 'huge') {
      seq++
      tree = treeWith(tip, [[opPath(seq), '100644', blob('{"v":1,"pad":"' + 'x'.repeat(MAX_OP_BYTES) + '"}')]])
    } else if (kind === 'mode') {
      seq++
      tree = treeWith(tip, [[opPath(seq), ['120000', '100755', '160000'][rnd(3)], blob(eveText[0])]])
    } else if (kind === 'format') {
      tree = treeWith(tip, [['format', '100644', blob(['2\n', 'x\n', '', '1\n\n1'][rnd(4)])]])
    } else {
      tree = treeWith(tip, [[opPath(1).replace('.json', `.${rnd(3)}`), '100644', blob('garbage')]])
    }
    tip = commit(tree, parents, msg || 'x')
    g('update-ref', ref, tip)
    try {
      const s = await l.state()
      if (view(s) !== baseline) { t.equal(view(s), baseline, `step ${step} (${kind}, seed ${SEED}) changed Ann's records`); return }
    } catch (e) {
      t.fail(`step ${step} (${kind}, seed ${SEED}): ${(e as Error).stack}`)
      return
    }
    if (step % 30 === 29) {
      const f = await labJson(a, ['fsck'])
      if (!f.index_consistent) { t.fail(`step ${step} (${kind}, seed ${SEED}): the incremental index differs from a rebuild`); return }
    }
  }
  const w = await lab(a, ['log'])
  t.equal(w.code, 0, w.err)
  t.match(w.out, /ann one/)
  t.notMatch(a.git('for-each-ref', `refs/lab/w/${ann}`), /^$/, 'Ann\'s own log is where it was')
})
