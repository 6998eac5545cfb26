// One validation for writes and reads: what a command would write passes the readers' checks first; a refused
// command writes nothing (refs, objects in the log, fsck all unchanged).
import t from 'tap'
import { mkdirSync, writeFileSync } from 'node:fs'
import { makeRepo, lab, labJson, type TestRepo } from '../helpers.ts'
import { Lab } from '../../src/lab/lab.ts'

const labRefs = (r: TestRepo) => r.git('for-each-ref', '--format=%(objectname) %(refname)', 'refs/lab/')

t.test('invalid values are refused with one line, exit 2, and nothing written', async t => {
  const r = makeRepo(t)
  t.equal((await lab(r, ['init'])).code, 0)
  const e = await labJson(r, ['submit', '--no-code', '-m', 'queued one', '--run', 'true'])
  const idea = await labJson(r, ['idea', 'new', 'an idea'])
  const before = labRefs(r)
  const long = (n: number) => 'x'.repeat(n)
  const cases: Array<[string[], RegExp]> = [
    [['submit', '--no-code', '-m', 'm', '--run', 'r', '--timeout', '0'], /invalid duration "0"/],
    [['submit', '--no-code', '-m', 'm', '--run', 'r', '--timeout', '400000d'], /invalid duration "400000d"/],
    [['submit', '--no-code', '-m', 'm', '--run', 'r', '--timeout', '0.2s'], /invalid duration "0.2s"/],
    [['submit', '--no-code', '-m', long(16385), '--run', 'r'], /message \(-m\) is longer than 16384/],
    [['cancel', e.id, '--reason', long(5000)], /reason \(--reason\) is longer than 4096 characters/],
    [['note', e.id, long(20000)], /note is longer than 16384/],
    [['idea', 'new', long(5000)], /idea text is longer than 4096/],
    [['idea', 'conclude', idea.id, long(17000)], /conclusion is longer than 16384/],
    [['msg', 'send', '--to', long(300), 'hi'], /invalid recipient/],
    [['tag', e.id, '+' + long(70)], /invalid tag/],
  ]
  for (const [args, re] of cases) {
    const res = await lab(r, args)
    t.equal(res.code, 2, `${args[0]}: exit 2`)
    t.match(res.err, re, args[0])
    t.equal(res.err.trim().split('\n').length, 1, `${args[0]}: one line`)
  }
  t.equal(labRefs(r), before, 'no ref moved')
  t.equal((await labJson(r, ['show', e.id])).status, 'queued', 'the refused cancel did not pretend to cancel')
  t.equal((await lab(r, ['fsck'])).code, 0, 'fsck is clean after every refused command')
  // an identity readers would refuse (author over 300 characters) is refused before anything is written
  r.git('config', 'user.name', long(400))
  const bad = await lab(r, ['note', e.id, 'hello'])
  t.equal(bad.code, 2)
  t.match(bad.err, /^git lab: cannot record experiment\.note [0-9a-f]{12}: invalid author\n$/)
  t.equal(labRefs(r), before)
  // ... and a submit refuses it before its snapshot hashes a single file
  writeFileSync(`${r.dir}/new-file.py`, 'print("never hashed")\n')
  const objects = r.git('count-objects', '-v')
  const sub = await lab(r, ['submit', '-m', 'x', '--run', 'y'])
  t.equal(sub.code, 2)
  t.match(sub.err, /invalid author/)
  t.equal(r.git('count-objects', '-v'), objects, 'no object written')
  t.equal(labRefs(r), before)
})

t.test('the store refuses a draft its readers would reject, before writing any object', async t => {
  const r = makeRepo(t)
  t.equal((await lab(r, ['init'])).code, 0)
  const before = labRefs(r)
  const objects = r.git('count-objects')
  const l = await Lab.open({ cwd: r.dir, env: r.env })
  try {
    const nested = JSON.parse('['.repeat(100) + ']'.repeat(100))
    for (const [draft, re] of [
      [{ type: 'experiment.queue', entity: 'abc123', payload: { message: 'm', run: 'r', timeout: 0 } }, /timeout: not an integer in 1\.\./],
      [{ type: 'experiment.cancel', entity: 'abc123', payload: { reason: 'y'.repeat(5000) } }, /reason: longer than 4096/],
      [{ type: 'experiment.queue', entity: 'constructor', payload: { message: 'm', run: 'r', extra: nested } }, /nested deeper than 32 levels/],
      [{ type: 'experiment.queue', entity: 'Bad Id', payload: { message: 'm', run: 'r' } }, /invalid entity id/],
      [{ type: 'experiment.explode', entity: 'abc123', payload: {} }, /unknown operation type/],
      [{ type: 'idea.note', entity: 'abc123', payload: { text: 'z'.repeat(300_000) } }, /longer than 16384|larger than 256 KiB/],
    ] as const) {
      await t.rejects(l.write([draft as any], 'bad'), { code: 'Invalid', message: re })
    }
  } finally { l.close() }
  t.equal(labRefs(r), before)
  t.equal(r.git('count-objects'), objects, 'no object was written')
})

t.test('an artifact that cannot be recorded is named; the others are recorded', async t => {
  const r = makeRepo(t)
  t.equal((await lab(r, ['init'])).code, 0)
  // a path over 1024 characters, made of names each under the file system's 255
  const deep = Array.from({ length: 6 }, (_, i) => `${i}${'d'.repeat(200)}`).join('/')
  mkdirSync(r.home + '/unused', { recursive: true })
  const run = `mkdir -p "$LAB_OUTPUT/${deep}" && echo deep > "$LAB_OUTPUT/${deep}/f.txt" && echo ok > "$LAB_OUTPUT/ok.txt"`
  const res = await lab(r, ['run', '--no-code', '-m', 'artifacts', '--run', run])
  t.equal(res.code, 0, res.err)
  t.match(res.err, /artifact ".*f\.txt.*" not recorded: path: longer than 1024/)
  const id = (await labJson(r, ['log']))[0].id
  const shown = await labJson(r, ['show', id])
  t.same(shown.artifacts.map((a: any) => a.path), ['ok.txt'])
  t.equal((await lab(r, ['fsck'])).code, 0)
})
