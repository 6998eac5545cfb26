// Hostile peers and forks: what another clone or remote can push must not run, hide, crash or rewrite anything here.
import t from 'tap'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { Repo } from '../../src/git/repo.ts'
import { makeRepo, lab, labJson, remoteAndOrigin, type TestRepo } from '../helpers.ts'

const ESC = '\u001b'
const ident = { name: 'Eve', email: 'eve@x', when: new Date('2026-01-01T00:00:00Z') }

/** Writes a writer log by hand in `r` (no git lab involved): ops as objects, raw texts, or any file. */
class RawLog {
  tip: string | null = null
  seq = 0
  lamport = 100
  constructor(readonly r: TestRepo, readonly writer: string) {}
  op(type: string, entity: string, payload: unknown, extra: Record<string, unknown> = {}) {
    this.seq++
    this.lamport++
    return {
      v: 1, id: `${this.writer}/${this.seq}`, type, entity, lamport: this.lamport, writer: this.writer, seq: this.seq,
      time: '2026-01-01T00:00:00.000Z', author: 'Eve <eve@x>', payload, ...extra,
    }
  }
  path(seq: number) {
    const h = (n: number, w: number) => n.toString(16).padStart(w, '0')
    return `ops/${h(Math.floor(seq / 65536), 4)}/${h(Math.floor(seq / 256) % 256, 2)}/${h(seq % 256, 2)}.json`
  }
  /** One commit adding these files (ops are placed at their seq's path), on the current tip or on `from`. */
  async commit(items: Array<Record<string, unknown> | { path: string; data: string }>, o: { from?: string | null; format?: string; seqTrailer?: number } = {}) {
    const repo = await Repo.open(this.r.dir, this.r.env)
    const from = o.from === undefined ? this.tip : o.from
    const files = items.map(x => 'path' in x && 'data' in x && typeof x.data === 'string' ? x as { path: string; data: string } : { path: this.path((x as any).seq), data: JSON.stringify(x) + '\n' })
    if (!from) files.unshift({ path: 'format', data: o.format ?? '1\n' })
    const [sha] = await repo.writeCommits([{ from, files, author: ident, message: `raw\n\nLab-Seq: ${o.seqTrailer ?? this.seq}\nLab-Lamport: ${this.lamport}\nLab-Format: 1\n` }])
    repo.close()
    this.tip = sha
    return sha
  }
  push(remote = 'origin', ref = `refs/lab/w/${this.writer}`) {
    this.r.git('push', '-q', '--force', remote, `${this.tip}:${ref}`)
  }
}

const noControls = (t: any, text: string, what: string) => t.notOk(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/.test(text), `${what}: no raw control characters`)

t.test('a fork that is no lab remote, with branches lab/w/X holding queued work, and a lab remote with a branch named lab', async t => {
  const { remote, origin } = remoteAndOrigin(t)
  // the lab remote has a branch named `lab`: with the old refspec this broke every plain fetch
  origin.git('push', '-q', 'origin', 'HEAD:refs/heads/lab')
  const a = makeRepo(t, { clone: remote.dir, name: 'Ann' })
  t.equal((await lab(a, ['init'])).code, 0)
  const mine = await labJson(a, ['submit', '--no-code', '-m', 'mine', '--run', 'true'])
  t.equal((await lab(a, ['sync'])).code, 0)
  // a fork: its owner made a lab log under branches lab/w/<x> (as if refs/lab/w/x were pushed there as branches)
  const fork = makeRepo(t, { bare: true })
  const eve = makeRepo(t, { clone: remote.dir, name: 'Eve' })
  const marker = path.join(eve.home, 'fork-job-ran')
  const log = new RawLog(eve, 'x1x1x1x1')
  await log.commit([log.op('experiment.queue', 'forkjob1', { message: 'from the fork', run: `touch ${marker}` })])
  eve.git('push', '-q', fork.dir, `${log.tip}:refs/heads/lab/w/x1x1x1x1`)
  const own = a.git('config', 'lab.writer').trim()
  // and a branch named after this clone's own writer, with a forged seq far ahead
  const forged = new RawLog(eve, own)
  await forged.commit([forged.op('experiment.status', mine.id, { status: 'queued', attempt: 1 })], { seqTrailer: 999 })
  eve.git('push', '-q', fork.dir, `${forged.tip}:refs/heads/lab/w/${own}x`)
  a.git('remote', 'add', 'contrib', fork.dir)
  a.git('fetch', '-q', '--all')
  a.git('pull', '-q', 'origin', 'main')
  t.equal(a.git('rev-parse', 'refs/remotes/origin/lab').trim(), origin.git('rev-parse', 'HEAD').trim(), 'the branch named lab is fetched like any other')
  t.ok(a.git('rev-parse', 'refs/remotes/contrib/lab/w/x1x1x1x1').trim(), 'the fork\'s branches are fetched as branches')
  const listed = await labJson(a, ['log'])
  t.same(listed.map((e: any) => e.id), [mine.id], 'nothing of the fork shows in log')
  const w = await lab(a, ['worker', '--once', '--jobs', '2'])
  t.equal(w.code, 0, w.err)
  t.notOk(existsSync(marker), 'no worker runs the fork\'s experiment')
  t.equal((await labJson(a, ['show', mine.id])).status, 'succeeded')
  t.equal((await lab(a, ['fsck'])).code, 0, 'and fsck has nothing to say about branches of other remotes')
})

t.test('an existing clone with the old refspec is migrated by its first command, with nothing lost, offline', async t => {
  const { remote, origin: a } = remoteAndOrigin(t)
  t.equal((await lab(a, ['init'])).code, 0)
  const b = makeRepo(t, { clone: remote.dir, name: 'Bob' })
  t.equal((await lab(b, ['init'])).code, 0)
  const e = await labJson(b, ['submit', '--no-code', '-m', 'from bob', '--run', 'true'])
  t.equal((await lab(b, ['sync'])).code, 0)
  t.equal((await lab(a, ['sync'])).code, 0)
  // turn A into a clone of the old layout: old refspec, lab refs under refs/remotes/origin/lab/
  a.git('config', '--unset-all', 'remote.origin.fetch', 'refs/lab/')
  a.git('config', '--add', 'remote.origin.fetch', '+refs/lab/*:refs/remotes/origin/lab/*')
  const bw = b.git('config', 'lab.writer').trim()
  const tip = a.git('rev-parse', `refs/lab/remotes/origin/w/${bw}`).trim()
  a.git('update-ref', `refs/remotes/origin/lab/w/${bw}`, tip)
  a.git('update-ref', `refs/remotes/origin/lab/claims/${e.id}/1`, tip)
  a.git('update-ref', '-d', `refs/lab/remotes/origin/w/${bw}`)
  a.git('remote', 'set-url', 'origin', path.join(a.home, 'offline'))
  const shown = await labJson(a, ['show', e.id])
  t.equal(shown.message, 'from bob', 'the records fetched before are still read')
  t.equal(a.git('config', '--get-all', 'remote.origin.fetch'),
    '+refs/heads/*:refs/remotes/origin/*\n+refs/lab/w/*:refs/lab/remotes/origin/w/*\n+refs/lab/claims/*:refs/lab/remotes/origin/claims/*\n')
  t.equal(a.git('rev-parse', `refs/lab/remotes/origin/w/${bw}`).trim(), tip)
  t.equal(a.git('rev-parse', `refs/lab/remotes/origin/claims/${e.id}/1`).trim(), tip)
  t.equal(a.git('for-each-ref', 'refs/remotes/origin/lab/').trim(), '', 'the old refs are gone, so a branch named lab can be fetched')
  a.git('remote', 'set-url', 'origin', remote.dir)
  makeRepo(t, { clone: remote.dir }).git('push', '-q', 'origin', 'HEAD:refs/heads/lab')
  a.git('fetch', '-q', 'origin')
  t.equal((await lab(a, ['fsck'])).code, 0)
})

t.test('a hostile writer on the lab remote cannot crash, hide, rewrite or inject anything', async t => {
  const { remote, origin: a } = remoteAndOrigin(t)
  t.equal((await lab(a, ['init'])).code, 0)
  const mine = await labJson(a, ['submit', '--no-code', '-m', 'mine', '--run', 'echo ran'])
  t.equal((await lab(a, ['run', '--no-code', '-m', 'ran here', '--run', 'echo done'])).code, 0)
  const ranHere = (await labJson(a, ['log'])).find((e: any) => e.message === 'ran here')
  t.equal((await lab(a, ['sync'])).code, 0)
  const own = a.git('config', 'lab.writer').trim()
  const eve = makeRepo(t, { clone: remote.dir, name: 'Eve' })
  const marker = path.join(eve.home, 'evil-ran')
  const h = new RawLog(eve, 'eve00001')
  const nested = '['.repeat(100_000) + ']'.repeat(100_000)
  const x = `${ESC}]0;pwned${'\u0007'}${ESC}[2J${ESC}]52;c;ZXZpbA==${'\u0007'}\r\u202eevil`
  const ops = [
    h.op('experiment.queue', 'constructor', { message: `ctor ${x}`, run: `echo ${x}`, setup: `true ${x}` }),
    h.op('idea.create', 'constructor', { text: `idea ${x}`, parents: [], tags: [] }),
    h.op('idea.note', 'constructor', { text: `note ${x}` }),
    h.op('experiment.note', mine.id, { text: `note on yours ${x}` }),
    h.op('message.send', 'msg000001', { to: 'all', from: `eve ${x}`, text: `hello ${x}` }),
    h.op('experiment.queue', '__proto__', { message: 'proto', run: 'true' }),
    h.op('experiment.queue', 'hasOwnProperty', { message: 'hop', run: 'true' }),
    h.op('experiment.queue', 'deep00001', { message: 'deep', run: 'true', extra: 'PLACEHOLDER' }),
    h.op('experiment.status', 'constructor', { status: 'claimed', attempt: 1, worker: `w ${x}`, host: `h ${x}` }),
    h.op('experiment.status', 'constructor', { status: 'failed', attempt: 1, reason: `why ${x}`, exit_code: 3, metrics: { __proto__: 1, toString: 2, constructor: 3, valueOf: 4 } }),
    h.op('experiment.queue', 'evilrun01', { message: 'evil run', run: `touch ${marker}` }),
  ]
  const texts = ops.map(o => JSON.stringify(o) + '\n')
  // the metrics object must hold own keys named __proto__ etc.: write it as JSON text
  texts[9] = texts[9].replace('"metrics":{"toString"', '"metrics":{"__proto__":1,"toString"')
  texts[7] = texts[7].replace('"PLACEHOLDER"', nested)
  await h.commit(ops.map((o, i) => ({ path: h.path(o.seq), data: texts[i] })))
  h.push()
  // a forged log under this clone's own writer id, claiming to be far ahead
  const forged = new RawLog(eve, own)
  forged.lamport = 10_000
  await forged.commit([forged.op('experiment.status', ranHere.id, { status: 'queued', attempt: 1 }), forged.op('experiment.cancel', mine.id, {})], { seqTrailer: 999 })
  forged.push()
  // writers whose format this version cannot read
  const g1 = new RawLog(eve, 'garbage1')
  await g1.commit([g1.op('experiment.queue', 'garbage01', { message: 'g', run: 'true' })], { format: 'garbage\n' })
  g1.push()
  const g2 = new RawLog(eve, 'future01')
  await g2.commit([g2.op('experiment.queue', 'future001', { message: 'f', run: 'true' })], { format: '7\n' })
  g2.push()
  // a writer that rewrites its log after it was read
  const rw = new RawLog(eve, 'rewriter')
  await rw.commit([rw.op('experiment.queue', 'rewrite01', { message: 'original', run: 'true' })])
  rw.push()
  const refusedPush = await lab(a, ['sync'])
  t.equal(refusedPush.code, 1, 'sync fetched, but cannot push over the forged copy of its log')
  t.match(refusedPush.err, new RegExp(`cannot push refs/lab/w/${own} to origin: the remote's copy of this clone's log was rewritten by someone else .*git push --force origin refs/lab/w/${own}\\n$`))
  t.equal((await labJson(a, ['show', 'rewrite01'])).message, 'original')
  // a log that fills a gap below its last record (seq 2 after 1 and 3), and a writer ref that points to a blob
  const gap = new RawLog(eve, 'gapfill1')
  const gapOne = gap.op('experiment.queue', 'gapped001', { message: 'one', run: 'true' })
  gap.op('experiment.queue', 'gapped002', { message: 'two', run: 'true' })
  const g3 = gap.op('experiment.queue', 'gapped003', { message: 'three', run: 'true' })
  await gap.commit([gapOne, g3])
  gap.push()
  t.equal((await lab(a, ['sync'])).code, 1)
  await gap.commit([{ path: gap.path(2), data: JSON.stringify({ ...gapOne, seq: 2, id: 'gapfill1/2', entity: 'gapped002', lamport: 500 }) }])
  gap.push()
  eve.git('push', '-q', 'origin', `${eve.git('hash-object', '-w', '--stdin').trim() || ''}:refs/lab/w/blobonly1`)
  const rewrite = new RawLog(eve, 'rewriter')
  rewrite.lamport = 500
  await rewrite.commit([rewrite.op('experiment.queue', 'rewrite01', { message: 'rewritten', run: `touch ${marker}` })], { seqTrailer: 50 })
  rewrite.push()
  a.git('fetch', '-q', 'origin')
  t.equal((await lab(a, ['sync'])).code, 1)

  for (const args of [['log'], ['log', '--json'], ['show', 'constructor'], ['show', mine.id], ['status'], ['idea', 'show', 'constructor'], ['msg', 'list', '--all'], ['fsck'], ['fsck', '--rebuild']]) {
    const r = await lab(a, args)
    t.ok(r.code === 0 || (args[0] === 'fsck' && r.code === 1), `${args.join(' ')} exits normally (${r.code}): ${r.err}`)
    noControls(t, r.out + r.err, args.join(' '))
    t.notMatch(r.err, /internal error/)
  }
  const sub = await lab(a, ['submit', '--no-code', '-m', 'after', '--run', 'true'])
  t.equal(sub.code, 0, sub.err)
  const ctor = await labJson(a, ['show', 'constructor'])
  t.equal(ctor.message, `ctor ${x}`, 'an id named constructor is an ordinary id; JSON keeps the exact text')
  t.same(Object.entries(ctor.metrics).sort(), [['__proto__', 1], ['constructor', 3], ['toString', 2], ['valueOf', 4]], 'metric names are ordinary names')
  t.match(ctor, { status: 'failed', exit_code: 3, reason: `why ${x}` })
  t.equal((await labJson(a, ['idea', 'show', 'constructor'])).notes[0].text, `note ${x}`)
  t.equal((await labJson(a, ['show', mine.id])).status, 'queued', 'a cancel in a forged log under my writer id is not read')
  const ranNow = await labJson(a, ['show', ranHere.id])
  t.equal(ranNow.status, 'succeeded', 'a forged log under my writer id cannot send my finished experiment back to queued')
  t.equal(ranNow.attempt, 1)
  t.equal((await labJson(a, ['show', 'rewrite01'])).message, 'original', 'a rewritten log is not taken: the old tip stays in force')
  const st = await labJson(a, ['status'])
  t.match(st.writer_problems.join('\n'), /writer rewriter: refs\/lab\/remotes\/origin\/w\/rewriter .* does not descend from the log already read/)
  const f = await lab(a, ['fsck'])
  for (const re of [
    /warning: writer rewriter: .*rewritten/, new RegExp(`warning: writer ${own}: refs/lab/remotes/origin/w/${own} .*does not descend`),
    /warning: writer garbage1: its log is not read: its lab format entry is unreadable/, /warning: writer future01: its log is not read: it uses lab format 7/,
    /warning: writer gapfill1: .* adds records before its last one/, /warning: writer blobonly1: its log is not read: none of its refs points to a commit/,
    /invalid: eve00001\/6: invalid entity id "__proto__"/, /invalid: eve00001\/7: invalid entity id "hasOwnProperty"/, /invalid: eve00001\/8: JSON nested deeper than 32 levels/,
  ]) t.match(f.out, re)
  const rebuilt = await labJson(a, ['fsck', '--rebuild'])
  t.equal(rebuilt.index_consistent, true, 'a rebuild from the refs reads what the incremental index read')
  t.equal((await labJson(a, ['show', 'rewrite01'])).message, 'original', 'also after a rebuild')
  // a worker that trusts only this clone runs its own work, and none of eve's
  a.git('config', 'lab.trust', own)
  const w = await lab(a, ['worker', '--once'])
  t.equal(w.code, 0, w.err)
  noControls(t, w.err, 'worker')
  t.equal((await labJson(a, ['show', mine.id])).status, 'succeeded')
  t.notOk(existsSync(marker), 'eve\'s experiments did not run')
  t.match(w.err, /evilrun01: left queued: not trusted here/)
  t.equal(a.git('rev-parse', `refs/lab/kept/rewriter`).trim().length, 40, 'the tip read is pinned while the remote holds another')
  // another clone that fetches only now (no floor from before) sees the rewritten log as the only one: that is what the remote says
  const c = makeRepo(t, { clone: remote.dir, name: 'Cy' })
  t.equal((await lab(c, ['init'])).code, 0)
  t.equal((await lab(c, ['log'])).code, 0)
})
