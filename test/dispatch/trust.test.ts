// lab.trust: which writers' queued experiments this clone's workers run, and how log, show, status and the worker say why.
import t from 'tap'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { makeRepo, lab, labJson, remoteAndOrigin, tempDir, type TestRepo } from '../helpers.ts'
import { authorEmail, checkTrust, readTrust, untrustedQueued, untrustedReason } from '../../src/lab/trust.ts'
import { pickQueued } from '../../src/dispatch/queue.ts'
import { emptyState, type Experiment, type State } from '../../src/store/state.ts'

const conf = (...values: string[]) => new Map([['lab.trust', values]])
const eve = { writer: 'e0e0e0e0', author: 'Eve <Eve@Example.com>' }
const ann = { writer: 'a1a1a1a1', author: 'Ann <ann@example.com>' }

t.test('readTrust: entries, separators, emails in any case, this clone always trusted', async t => {
  const open = readTrust(new Map(), 'a1a1a1a1')
  t.equal(open.restricted, false)
  t.equal(untrustedReason(open, eve), null, 'without lab.trust every writer is trusted')

  const tr = readTrust(conf('b2b2b2b2, eve@example.COM', 'c3  d4_x-y'), 'a1a1a1a1')
  t.same([...tr.writers].sort(), ['b2b2b2b2', 'c3', 'd4_x-y'], 'commas and whitespace separate entries; values add up')
  t.same([...tr.emails], ['eve@example.com'])
  t.equal(tr.invalid, null)
  t.equal(untrustedReason(tr, eve), null, 'an email matches case-insensitively')
  t.equal(untrustedReason(tr, { writer: 'c3', author: 'Zed <z@z>' }), null, 'a writer id matches')
  t.equal(untrustedReason(tr, ann), null, "this clone's own writer is trusted without being listed")
  t.equal(untrustedReason(tr, { writer: 'f5f5f5f5', author: 'Mallory <m@x.org>' }),
    'not trusted here: writer f5f5f5f5 (Mallory <m@x.org>) is not in lab.trust')
  t.equal(untrustedReason(tr, { writer: 'f5f5f5f5', author: 'eve@example.com' }) !== null, true, 'an email outside <...> is no email')
  // Both are claims of whoever can push to the lab remote: trust follows what the records say, nothing more.
  t.equal(untrustedReason(tr, { writer: 'f5f5f5f5', author: 'Not Eve <eve@example.com>' }), null, 'the author email is a claim')
  t.equal(untrustedReason(readTrust(conf('a1a1a1a1'), null), ann), null, 'no writer of its own: the list alone decides')
  t.not(untrustedReason(readTrust(conf('b2b2b2b2'), null), ann), null)
})

t.test('authorEmail: the email inside the last <...>', async t => {
  t.equal(authorEmail('Ann <Ann@Example.com>'), 'ann@example.com')
  t.equal(authorEmail('Ann <x@y> <ann@z> '), 'ann@z')
  t.equal(authorEmail('Ann'), null)
  t.equal(authorEmail('Ann <ann>'), null)
  t.equal(authorEmail('<ann@z> trailing'), null)
})

t.test("an invalid lab.trust is one clear line; until fixed only this clone's own experiments run", async t => {
  for (const [value, bad] of [['b2b2b2b2 Eve', 'Eve'], ['x/y', 'x/y'], ['a@b@c', 'a@b@c'], ['<eve@x>', '<eve@x>'], ['a'.repeat(41), 'a'.repeat(41)]]) {
    const tr = readTrust(conf(value), 'a1a1a1a1')
    t.equal(tr.invalid, `invalid lab.trust entry ${JSON.stringify(bad)}: expected a writer id (like 3fa9c2d1) or an author email (like ann@example.com)`, value)
    t.throws(() => checkTrust(tr), { code: 'Usage', exitCode: 2 })
    t.match(untrustedReason(tr, eve), /^not run here: invalid lab\.trust entry/)
    t.equal(untrustedReason(tr, ann), null)
  }
  t.match(readTrust(conf(' , '), null).invalid, /an empty value/, 'an empty value is neither "nobody" nor "everyone"')
  t.match(readTrust(conf(''), null).invalid, /an empty value/)
  t.equal(checkTrust(readTrust(conf('b2b2b2b2'), null)).restricted, true)
})

/** A queued experiment with only what the queue looks at. */
const exp = (id: string, writer: string, more: Partial<Experiment> = {}): Experiment =>
  ({ id, status: 'queued', writer, author: `${writer} <${writer}@x>`, priority: 0, created_at: id, depends_on: [], gpus: 0, ...more }) as Experiment
const stateOf = (...es: Experiment[]): State => ({ ...emptyState(), experiments: Object.fromEntries(es.map(e => [e.id, e])) })

t.test('pickQueued: untrusted work is neither run, cancelled nor waited for; its dependents wait', async t => {
  const tr = readTrust(conf('mine'), 'mine')
  const untrusted = (e: Experiment) => untrustedReason(tr, e)
  const s = stateOf(
    exp('e1', 'eve'),
    exp('e2', 'eve', { depends_on: ['f1'] }),
    exp('f1', 'mine', { status: 'failed' }),
    exp('m1', 'mine'),
    exp('m2', 'mine', { depends_on: ['e1'] }),
    exp('m3', 'mine', { depends_on: ['m2'] }),
  )
  const v = pickQueued(s, { freeGpus: 0, totalGpus: 0, untrusted })
  t.same(v.ready.map(e => e.id), ['m1'])
  t.same(v.untrusted, [['e1', 'not trusted here: writer eve (eve <eve@x>) is not in lab.trust'], ['e2', 'not trusted here: writer eve (eve <eve@x>) is not in lab.trust']])
  t.same(v.cancel, [], 'an untrusted dependent of a failed experiment is not cancelled here')
  t.same(v.blocked, [['m2', ['e1 (queued, not trusted here)']], ['m3', ['m2 (queued)']]])
  t.equal(v.waiting, false, 'work that only another worker can unblock is not waited for (--once exits)')
  t.equal(untrustedQueued(tr, Object.values(s.experiments)), 2)

  const running = stateOf(exp('e1', 'eve', { status: 'running' }), exp('m2', 'mine', { depends_on: ['e1'] }))
  t.equal(pickQueued(running, { freeGpus: 0, totalGpus: 0, untrusted }).waiting, true, 'a dependency running elsewhere is waited for')
  const all = pickQueued(s, { freeGpus: 0, totalGpus: 0 })
  t.same(all.ready.map(e => e.id), ['e1', 'm1'], 'without a predicate everything is trusted')
  t.same(all.cancel, [['e2', 'dependency f1 failed']])
})

const lines = (file: string) => { try { return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) } catch { return [] } }

async function submit(r: TestRepo, msg: string, run: string, ...opts: string[]): Promise<string> {
  return (await labJson(r, ['submit', '--no-code', '-m', msg, '--run', run, ...opts])).id
}

t.test('two clones: a worker restricted to one writer leaves the other writer\'s experiment queued, with the reason', async t => {
  const { remote, origin: a } = remoteAndOrigin(t, 'Ann')
  await lab(a, ['init'])
  const b = makeRepo(t, { clone: remote.dir, name: 'Bob' })
  await lab(b, ['init'])
  const trace = path.join(tempDir(t), 'trace')
  const run = `echo "$LAB_EXPERIMENT" >> ${trace}`
  const aw = a.git('config', 'lab.writer').trim()
  const bw = b.git('config', 'lab.writer').trim()

  const fromBob = await submit(b, 'from bob', run)
  t.equal((await lab(b, ['sync'])).code, 0)
  t.equal((await lab(a, ['sync'])).code, 0)
  const mine = await submit(a, 'mine', run)
  const after = await submit(a, 'after bob', run, '--depends-on', fromBob)

  a.git('config', 'lab.trust', aw)
  const w = await lab(a, ['worker', '--once', '--sync-every', '0'])
  t.equal(w.code, 0, w.err)
  t.same(lines(trace), [mine], "only this clone's own experiment ran")
  const why = `not trusted here: writer ${bw} (Bob <bob@example.com>) is not in lab.trust`
  t.match(w.err, `${fromBob}: left queued: ${why}\n`, 'the worker says why')
  t.match(w.err, `${after}: waiting for ${fromBob} (queued, not trusted here)`, 'its dependent waits, and the worker did not wait for it')
  t.equal(w.err.split(`${fromBob}: left queued`).length, 2, 'said once')

  const shown = await labJson(a, ['show', fromBob])
  t.match(shown, { status: 'queued', untrusted_reason: why })
  t.equal((await labJson(a, ['show', mine])).untrusted_reason, null)
  t.match((await lab(a, ['show', fromBob])).out, `status:     queued; ${why}\n`)
  const log = (await lab(a, ['log'])).out
  t.match(log, new RegExp(`${fromBob}\\s+queued \\(untrusted\\)\\s`))
  t.match(log, new RegExp(`${after}\\s+queued\\s`), 'a trusted dependent is just queued')
  t.match(log, new RegExp(`${mine}\\s+succeeded\\s`))
  t.equal((await labJson(a, ['log'])).find((e: any) => e.id === fromBob).status, 'queued', 'log --json keeps the plain status')
  t.equal((await labJson(a, ['status'])).untrusted_queued, 1)
  t.match((await lab(a, ['status'])).out, /untrusted: {3}1 queued that this clone's workers leave alone/)
  t.equal((await lab(b, ['show', fromBob])).out.includes('not trusted'), false, 'B has no lab.trust: it would run it')

  a.git('config', 'lab.trust', 'nobody@example.com')
  t.match((await labJson(a, ['show', fromBob])).untrusted_reason, why, 'an email entry that does not match')
  a.git('config', '--add', 'lab.trust', 'BOB@example.com')
  const w2 = await lab(a, ['worker', '--once', '--sync-every', '0'])
  t.equal(w2.code, 0, w2.err)
  t.same(lines(trace), [mine, fromBob, after], "trusting Bob's email lets his experiment run, then its dependent")
  t.equal((await labJson(a, ['show', fromBob])).status, 'succeeded')
  t.equal((await labJson(a, ['status'])).untrusted_queued, 0)
})

t.test('an invalid lab.trust: the worker stops with one line and exit 2, and runs nothing', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  const trace = path.join(tempDir(t), 'trace')
  const id = await submit(r, 'x', `echo ran >> ${trace}`)
  r.git('config', '--add', 'lab.trust', 'ann@example.com')
  r.git('config', '--add', 'lab.trust', 'Eve <eve@x>')
  const w = await lab(r, ['worker', '--once'])
  t.equal(w.code, 2)
  t.equal(w.err, 'git lab: invalid lab.trust entry "Eve": expected a writer id (like 3fa9c2d1) or an author email (like ann@example.com)\n')
  t.same(lines(trace), [])
  t.equal((await labJson(r, ['show', id])).status, 'queued')
  t.equal((await labJson(r, ['show', id])).untrusted_reason, null, "this clone's own experiment is still its own")
  // git lab run runs this clone's own experiment: lab.trust does not stand in its way
  const run = await lab(r, ['run', '--no-code', '-m', 'now', '--run', `echo now >> ${trace}`])
  t.equal(run.code, 0, run.err)
  t.same(lines(trace), ['now'])
})
