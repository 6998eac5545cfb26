// logs and metrics: following a live run here, then reading both from refs in another clone after a sync.
import t from 'tap'
import { makeRepo, lab, labJson, labStart, remoteAndOrigin, waitFor } from '../helpers.ts'
import { Lab } from '../../src/lab/lab.ts'
import { statusDraft } from '../../src/lab/runs.ts'

const JOB = 'i=1; while [ $i -le 12 ]; do echo "line $i"; echo "{\\"step\\": $i, \\"loss\\": $i.5, \\"acc\\": 0.$i}" >> "$LAB_METRICS"; i=$((i+1)); sleep 0.1; done; echo "bad line" >> "$LAB_METRICS"'

t.test('logs -f follows a live run to its end; another clone reads logs and metrics from refs after a sync', async t => {
  const { remote, origin } = remoteAndOrigin(t)
  await lab(origin, ['init'])
  const id = (await labJson(origin, ['submit', '-m', 'live', '--run', JOB])).id
  const worker = labStart(origin, ['worker', '--once', '--sync-every', '0'])
  await waitFor('running', async () => (await labJson(origin, ['show', id])).status === 'running')
  const follow = await lab(origin, ['logs', id, '-f'])
  t.equal(follow.code, 0)
  t.equal(follow.out, Array.from({ length: 12 }, (_, i) => `line ${i + 1}\n`).join(''), 'every line once, then it returns')
  t.equal((await worker.result).code, 0)
  t.match(await lab(origin, ['logs', id, '--tail', '2', '--grep', 'line 1']), { out: 'line 11\nline 12\n' })
  t.match(await lab(origin, ['logs', id, '--grep', '(']), { code: 2, err: /--grep: Invalid regular expression/ })

  const other = makeRepo(t, { clone: remote.dir, name: 'Bob' })
  await lab(origin, ['sync'])
  await lab(other, ['init'])
  t.equal((await lab(other, ['logs', id])).out, follow.out)
  const m = await labJson(other, ['metrics', id])
  t.equal(m.skipped, 1)
  t.same(m.series.loss.map((p: any) => [p.step, p.value]), Array.from({ length: 12 }, (_, i) => [i + 1, i + 1.5]))
  t.ok(m.series.acc.every((p: any) => !Number.isNaN(Date.parse(p.time))))
  const csv = await lab(other, ['metrics', id, '--csv', '--series', 'acc'])
  t.match(csv.out, /^series,step,value,time\nacc,1,0\.1,\d{4}-.*Z\n/)
  t.equal(csv.out.trim().split('\n').length, 13)
  t.match(await lab(other, ['metrics', id, '--series', 'nope']), { code: 2, err: /has no series "nope" \(it has: acc, loss\)/ })
  const fsck = await labJson(other, ['fsck'])
  t.same([fsck.warnings, fsck.rejected], [[], []], 'companion blobs are part of the format')
  const rebuilt = await labJson(other, ['fsck', '--rebuild'])
  t.same(rebuilt.warnings, [])
  t.same(await labJson(other, ['show', id]), await labJson(origin, ['show', id]), 'both clones fold the same record')
})

t.test('a chunk whose blob is missing (hostile or partial clone): one clear error, and fsck names it', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  const id = (await labJson(r, ['submit', '-m', 'x', '--run', 'true'])).id
  const l = await Lab.open({ cwd: r.dir, env: r.env })
  const ghost = 'ab'.repeat(20)
  await l.write([statusDraft(id, 1, { status: 'claimed' }), { type: 'experiment.chunk', entity: id, payload: { attempt: 1, output: { blob: ghost, from: 0, to: 5 } } }], 'hostile')
  l.close()
  const logs = await lab(r, ['logs', id])
  t.equal(logs.code, 1)
  t.equal(logs.err, `git lab: chunk ${ghost} is missing or too large: run 'git lab sync' or 'git lab fsck'\n`)
  t.match((await labJson(r, ['fsck'])).warnings, [`experiment ${id}: attempt 1 chunk ${ghost} is missing`])
})
