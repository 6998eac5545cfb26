// Pure parts of running: GPU lists, secret masking, the metric chunk format, final metrics, seal cadence.
import t from 'tap'
import { parseGpus, parseNvidiaSmi } from '../../src/dispatch/gpus.ts'
import { maskSecrets, secretValues } from '../../src/dispatch/secrets.ts'
import { finalMetrics, sealInterval } from '../../src/dispatch/rules.ts'
import { MetricBatch, decodeMetrics, mergeSummary, MAX_SERIES } from '../../src/store/chunks.ts'
import { guessDirection, parseShortstat } from '../../src/lab/compare.ts'

t.test('GPU lists from config and nvidia-smi -L', async t => {
  t.same(parseGpus('4'), ['0', '1', '2', '3'])
  t.same(parseGpus(' 0, 2,3 '), ['0', '2', '3'])
  t.same(parseGpus('3,'), ['3'], 'one GPU by id')
  t.same(parseGpus('none'), [])
  t.same(parseGpus(''), [])
  t.throws(() => parseGpus('0;rm -rf'), { code: 'Invalid' })
  t.same(parseNvidiaSmi('GPU 0: NVIDIA A100-SXM4-80GB (UUID: GPU-1)\nGPU 1: NVIDIA A100-SXM4-80GB (UUID: GPU-2)\n'), ['0', '1'])
  t.same(parseNvidiaSmi('NVIDIA-SMI has failed\n'), [])
})

t.test('secrets: found by name or listed, masked with equal length', async t => {
  const s = secretValues({ HF_TOKEN: 'hf_123456', WANDB_API_KEY: 'k'.repeat(40), MY_DB: 'postgres://x', SHORT_SECRET: 'abc', PATH: '/usr/bin' }, ['MY_DB'])
  t.same(s.map(b => b.toString()), ['k'.repeat(40), 'postgres://x', 'hf_123456'])
  const data = Buffer.from('a hf_123456 b hf_123456 postgres://x /usr/bin\n')
  const masked = maskSecrets(data, s)
  t.equal(masked.toString(), `a ${'*'.repeat(9)} b ${'*'.repeat(9)} ${'*'.repeat(12)} /usr/bin\n`)
  t.equal(data.toString().includes('hf_123456'), true, 'the input is not changed')
  t.equal(maskSecrets(data, []), data)
})

t.test('metric chunks: lines to columns and back; steps, times, malformed lines, series cap', async t => {
  const counts = new Map([['loss', 10]])
  const b = new MetricBatch(counts)
  b.add('{"step": 5, "loss": 0.5, "acc": 0.25, "tag": "x", "time": 1767225600.5}', 1000)
  b.add('{"loss": 0.25}', 2000)
  b.add('not json', 2000)
  b.add('[1, 2]', 2000)
  b.add('{"note": "no numbers"}', 2000)
  b.add('   ', 2000)
  b.add('{"loss": Infinity}', 2000)
  t.equal(b.points, 3)
  t.equal(b.skipped, 4)
  const back = decodeMetrics(b.encode())
  t.same(back.loss, { step: [5, 11], value: [0.5, 0.25], time: [1767225600500, 2000] }, 'a line without step takes its series index')
  t.same(back.acc, { step: [5], value: [0.25], time: [1767225600500] })
  t.same(b.summary().loss, { count: 2, last: 0.25, min: 0.25, max: 0.5, last_step: 11 })
  const into = { loss: { count: 1, last: 9, min: 9, max: 9, last_step: 4 } }
  mergeSummary(into, b.summary())
  t.same(into.loss, { count: 3, last: 0.25, min: 0.25, max: 9, last_step: 11 })
  t.throws(() => decodeMetrics('{"v": 2}'))
  const many = new MetricBatch()
  many.add(JSON.stringify(Object.fromEntries(Array.from({ length: MAX_SERIES + 5 }, (_, i) => [`m${i}`, i]))), 0)
  t.equal(many.series.size, MAX_SERIES)
})

t.test('final metrics, seal cadence, directions, shortstat', async t => {
  t.same(finalMetrics(Buffer.from('training\n{"loss": 0.5, "name": "x", "acc": 1}\n\n')), { loss: 0.5, acc: 1 })
  t.equal(finalMetrics(Buffer.from('{"loss": 0.5}\ndone\n')), null)
  t.equal(finalMetrics(Buffer.from('{broken\n')), null)
  t.equal(finalMetrics(Buffer.from('')), null)
  t.same([sealInterval(0), sealInterval(120_000), sealInterval(1_200_000), sealInterval(7_200_000)], [2000, 5000, 15000, 30000])
  t.same(['val_loss', 'val_acc', 'wer', 'f1', 'lr'].map(guessDirection), ['minimize', 'maximize', 'minimize', 'maximize', null])
  t.same(parseShortstat(' 2 files changed, 10 insertions(+), 1 deletion(-)\n'), { files: 2, insertions: 10, deletions: 1 })
  t.same(parseShortstat(''), { files: 0, insertions: 0, deletions: 0 })
})
