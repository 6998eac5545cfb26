// The sealer on journals it reads through a backend: cuts at \n and at a progress bar's \r, never through a secret,
// and a metrics journal that the job truncates or rewrites is read again from its start, with valid ranges.
import t from 'tap'
import { createHash } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { makeRepo, lab, labJson, labStart, waitFor } from '../helpers.ts'
import { Lab } from '../../src/lab/lab.ts'
import { statusDraft } from '../../src/lab/runs.ts'
import { METRICS_FILE, lineCut, readMetrics, readOutput, runDir } from '../../src/lab/journal.ts'
import { Sealer } from '../../src/dispatch/sealer.ts'
import { sealCut } from '../../src/dispatch/secrets.ts'
import { finalMetrics } from '../../src/dispatch/rules.ts'
import { experimentChunk } from '../../src/store/ops/experiment-chunk.ts'
import type { Backend, JobSpec, Stream } from '../../src/dispatch/backend.ts'

/** Journals in memory; only what the sealer calls. */
class Journals {
  data: Record<Stream, Buffer> = { output: Buffer.alloc(0), metrics: Buffer.alloc(0) }
  append(s: Stream, text: string) { this.data[s] = Buffer.concat([this.data[s], Buffer.from(text)]) }
  backend(): Backend {
    return {
      read: async (_j: JobSpec, s: Stream, offset: number, max: number) => Buffer.from(this.data[s].subarray(offset, offset + max)),
      size: async (_j: JobSpec, s: Stream) => this.data[s].length,
    } as unknown as Backend
  }
}

async function setup(t: Parameters<typeof makeRepo>[0]) {
  const r = makeRepo(t)
  await lab(r, ['init'])
  const id = (await labJson(r, ['submit', '-m', 'x', '--no-code', '--run', 'true'])).id
  const l = await Lab.open({ cwd: r.dir, env: r.env })
  t.teardown(() => l.close())
  await l.write([statusDraft(id, 1, { status: 'claimed' }), statusDraft(id, 1, { status: 'running' })], 'claimed')
  const spec: JobSpec = { id, attempt: 1, commit: null, run: 'true', setup: null, env: {}, gpus: [], timeout: null, keep: false }
  return { r, l, id, spec }
}

t.test('lineCut: after \\n, before a lone \\r; never at 0 or inside \\r\\n', async t => {
  const cut = (s: string) => lineCut(Buffer.from(s))
  t.equal(cut('a\nb'), 2)
  t.equal(cut('a\r10%'), 1, 'a redraw starts a new state')
  t.equal(cut('10%\r'), 3, 'a \\r at the end may be the start of \\r\\n: it waits')
  t.equal(cut('a\r\n'), 3)
  t.equal(cut('\r10%'), 0, 'nothing complete before it')
  t.equal(cut('no end'), 0)
  t.equal(cut('x\n\r10%|\r20%|'), 7)
  t.equal(lineCut(Buffer.from('a\nb\rc'), 3), 2, 'from: only cuts before it')
  t.equal(cut('caf\xc3'), 0)
})

t.test('sealCut: a line end inside a possible secret is not a cut; secrets without line ends cost nothing', async t => {
  const s = (x: string) => Buffer.from(x)
  t.equal(sealCut(s('x\ntok'), [s('plain-secret')]), 2)
  t.equal(sealCut(s('line\na tok\r'), [s('tok\rsecret')]), 5, 'tok\\r may be the start of the secret: cut before its line')
  t.equal(sealCut(s('a tok\r'), [s('tok\rsecret')]), 0)
  t.equal(sealCut(s('a tok\rother\n'), [s('tok\rsecret')]), 12, 'what follows rules it out')
  t.equal(sealCut(s('x\nab\ncd'), [s('b\ncd!')]), 2, 'the same for a secret holding \\n')
  t.equal(sealCut(s('x\nab\ncd\n'), [s('b\ncd!')]), 8, 'once ruled out, the last line end')
  t.equal(sealCut(s('\ncd\nx'), [s('b\ncd!')]), 4, 'bytes sealed before count as matching')
})

t.test('seal: a progress bar\'s states reach the refs at each \\r; offsets stay the journal\'s', async t => {
  const { l, id, spec } = await setup(t)
  const j = new Journals()
  const e = () => l.state().then(s => s.experiments[id])
  const sealer = new Sealer(l, j.backend(), spec, await e(), [], 1 << 30)
  j.append('output', 'start\n\r10%|\r20%|\r30%|')
  await sealer.seal(false)
  t.equal(sealer.outSealed, 'start\n\r10%|\r20%|'.length)
  j.append('output', '\r40%|\n{"done": 1}')
  await sealer.seal(false)
  await sealer.seal(true)
  const x = await e()
  t.same(x.chunks.map(c => [c.output!.from, c.output!.to]), [[0, 16], [16, 27], [27, 38]])
  t.equal((await readOutput(l, x, 1)).data.toString(), 'start\n\r10%|\r20%|\r30%|\r40%|\n{"done": 1}')
  t.same(finalMetrics(Buffer.from('\r 50%|###\r{"loss": 0.5}\n')), { loss: 0.5 }, 'a bar before the last line does not hide it')
})

const point = (step: number) => `{"step": ${step}, "loss": ${step}}\n`

t.test('ingest: a truncated or rewritten metrics journal is read again from 0 as the next segment; a re-attach continues it', async t => {
  const { l, id, spec } = await setup(t)
  const j = new Journals()
  const e = () => l.state().then(s => s.experiments[id])
  const said: string[] = []
  let sealer = new Sealer(l, j.backend(), spec, await e(), [], 1 << 30, line => said.push(line))
  j.append('metrics', point(1) + point(2) + point(3))
  await sealer.ingest(false)
  await sealer.seal(false)
  const first = point(1).length * 3
  // a history dump (same bytes, more lines) is no rewrite: only the new lines are read
  j.data.metrics = Buffer.from(point(1) + point(2) + point(3) + point(4))
  await sealer.ingest(false)
  t.same(said, [])
  // shorter: truncated
  j.data.metrics = Buffer.from(point(5))
  await sealer.ingest(false)
  t.equal(said.length, 1)
  t.match(said[0], `${id}: $LAB_METRICS was truncated or rewritten (it no longer holds the ${first + point(4).length} bytes read so far)`)
  // longer than before, other bytes where the read position was: rewritten; read before it was sealed
  j.data.metrics = Buffer.from(point(6) + point(7) + point(8) + point(9) + point(10))
  await sealer.ingest(false)
  t.equal(said.length, 2)
  await sealer.seal(false)
  let x = await e()
  const base = first + point(4).length + point(5).length
  t.same(x.chunks.map(c => c.metrics && [c.metrics.from, c.metrics.to, c.metrics.base, c.metrics.rewrites]),
    [[0, first, undefined, undefined], [first, base + j.data.metrics.length, base, 2]], 'ranges count the stream read; base where the file starts now')
  // a new worker re-attaches: it reads on from where the file's sealed bytes end
  j.append('metrics', point(11))
  sealer = new Sealer(l, j.backend(), spec, x, [], 1 << 30, line => said.push(line))
  t.equal(sealer.metBase, base)
  await sealer.ingest(true)
  await sealer.seal(true)
  x = await e()
  const m = await readMetrics(l, x, 1)
  t.same(m.series.loss.step, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 'every point once, in order')
  t.equal(m.rewrites, 2)
  t.equal(said.length, 2)
  // truncated while nobody followed it: a re-attached worker sees the file is shorter and starts over
  j.data.metrics = Buffer.from(point(12))
  sealer = new Sealer(l, j.backend(), spec, x, [], 1 << 30, line => said.push(line))
  await sealer.ingest(true)
  await sealer.seal(true)
  t.equal(said.length, 3)
  t.same((await readMetrics(l, await e(), 1)).series.loss.step.slice(-2), [11, 12])
})

t.test('a secret holding \\r is not cut in two at a progress bar\'s \\r: no part of it reaches the refs', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  const secret = 'tok\rsecret-value'
  const job = `echo before; printf 'a %s' "$(printf '%s' "$HF_TOKEN" | head -c 4)"; sleep 3; printf '%s b\\n' "$(printf '%s' "$HF_TOKEN" | tail -c +5)"`
  const id = (await labJson(r, ['submit', '-m', 'cr secret', '--no-code', '--run', job])).id
  const w = labStart(r, ['worker', '--once', '--sync-every', '0'], { HF_TOKEN: secret })
  await waitFor('the first part', async () => (await labJson(r, ['show', id])).output_bytes > 0)
  t.equal((await w.result).code, 0)
  t.equal((await lab(r, ['logs', id])).out, `before\na ${'*'.repeat(secret.length)} b\n`)
  const l = await Lab.open({ cwd: r.dir, env: r.env })
  const x = (await l.state()).experiments[id]
  l.close()
  t.ok(x.chunks.length >= 2, 'sealed while the job waited')
  const everything = r.git('cat-file', '--batch-all-objects', '--batch')
  t.notMatch(everything, /secret-value|a tok/)
  t.equal(createHash('sha256').update(everything).digest('hex').length, 64)
})

t.test('prototype names through the batch, a chunk, the fold and a live journal read here', async t => {
  const { l, id, spec } = await setup(t)
  const line = (i: number) => `{"step": ${i}, "toString": ${i}, "valueOf": ${i * 2}, "__proto__": ${i * 3}, "constructor": ${i * 4}}\n`
  const j = new Journals()
  const sealer = new Sealer(l, j.backend(), spec, (await l.state()).experiments[id], [], 1 << 30)
  j.append('metrics', line(1) + line(2))
  await sealer.ingest(false)
  await sealer.seal(false)
  // the rest only in the local journal, where readMetrics finds a live run
  const dir = runDir(l, id, 1)
  mkdirSync(dir, { recursive: true })
  writeFileSync(path.join(dir, METRICS_FILE), j.data.metrics.toString() + line(3) + line(4).slice(0, 10))
  const x = (await l.state()).experiments[id]
  const names = ['__proto__', 'constructor', 'toString', 'valueOf']
  t.same(Object.keys(x.series).sort(), names)
  t.same(Object.getOwnPropertyDescriptor(x.series, '__proto__')?.value, { count: 2, last: 6, min: 3, max: 6, last_step: 2 })
  t.same(Object.getOwnPropertyDescriptor(x.metrics, 'valueOf')?.value, 4)
  const m = await readMetrics(l, x, 1)
  t.same(Object.keys(m.series).sort(), names)
  const series = (k: string) => m.series[k]
  t.same(series('toString'), { step: [1, 2, 3], value: [1, 2, 3], time: series('toString').time }, 'sealed points, then the live tail')
  t.same(Object.getOwnPropertyDescriptor(m.series, '__proto__')?.value.value, [3, 6, 9])
  t.same(series('constructor').step, [1, 2, 3])
})

t.test('experiment.chunk: base and rewrites are checked; absent when unused', async t => {
  const m = { blob: 'a'.repeat(40), from: 10, to: 20, points: 1, skipped: 0 }
  const v = (metrics: object) => experimentChunk.validate({ attempt: 1, metrics })
  t.equal(v(m), null)
  t.equal(v({ ...m, base: 15, rewrites: 2 }), null)
  t.equal(v({ ...m, base: 20 }), null, 'a rewrite found right at the end of the range')
  t.match(v({ ...m, base: 21 }), /base past the end/)
  t.match(v({ ...m, base: -1 }), /base/)
  t.match(v({ ...m, rewrites: 0 }), /rewrites/)
  t.match(v({ ...m, rewrites: 1.5 }), /rewrites/)
})
