// logs and metrics: following a live run here, then reading both from refs in another clone after a sync.
import t, { type Test } from 'tap'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { makeRepo, lab, labJson, labStart, remoteAndOrigin, tempDir, waitFor } from '../helpers.ts'
import { Lab } from '../../src/lab/lab.ts'
import { statusDraft } from '../../src/lab/runs.ts'
import { main } from '../../src/cli/main.ts'
import { outputPieces, safeOutput, safeRedraw } from '../../src/cli/terminal.ts'

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
  t.match(await lab(other, ['metrics', id, '--series', 'nope']), { code: 1, err: /has no series "nope" \(it has: acc, loss\)/ })
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

/** Runs `git lab ARGS` in this process as on a terminal (stdout a TTY). */
async function onTTY(repo: { dir: string; env: NodeJS.ProcessEnv }, args: string[]) {
  let out = ''
  let err = ''
  const code = await main(args, { cwd: repo.dir, env: repo.env, now: () => new Date(), io: { out: s => { out += s }, err: s => { err += s }, isTTY: true } })
  return { code, out, err }
}

/** A wait that failed, with what the worker said (under load a timeout is easier to read with it). */
const said = (e: Error, worker: ReturnType<typeof labStart>) => new Error(`${e.message}; the worker said: ${JSON.stringify(worker.output())}`)

/** A follower that must end by itself: killed (and failed) if it is still running after `ms`. */
async function ends(t: Test, run: ReturnType<typeof labStart>, ms: number) {
  const timer = setTimeout(() => run.child.kill('SIGKILL'), ms)
  const res = await run.result
  clearTimeout(timer)
  t.equal(res.code, 0, `it ended by itself within ${ms / 1000}s`)
  return res
}

/** A job step that waits until the test says go (a file appears), so a test sees the job at that point for sure. */
function gate(t: Test) {
  const file = path.join(tempDir(t, 'lab-gate-'), 'go')
  return { wait: `while [ ! -e ${file} ]; do sleep 0.1; done`, open: () => writeFileSync(file, '') }
}

t.test('logs -f: a UTF-8 character split at the end of the journal is printed once, whole', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  // "café ok": the job stops between the two bytes of "é" until the test has followed it for a while
  const go = gate(t)
  const id = (await labJson(r, ['submit', '-m', 'utf8', '--run', `printf 'first\\n'; printf 'caf\\303'; ${go.wait}; printf '\\251 ok\\n'`])).id
  const worker = labStart(r, ['worker', '--once', '--sync-every', '0'])
  await waitFor('the half character', async () => /caf/.test((await lab(r, ['logs', id])).out)).catch(e => { throw said(e, worker) })
  const follow = lab(r, ['logs', id, '-f'])
  await new Promise(res => setTimeout(res, 1500))
  go.open()
  t.equal((await follow).out, 'first\ncafé ok\n', 'no repeated or broken line')
  t.equal((await worker.result).code, 0)
  t.equal((await lab(r, ['logs', id])).out, 'first\ncafé ok\n')
})

t.test('logs -f of a --keep run ends when the run does', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  const done = await lab(r, ['run', '-m', 'kept', '--keep', '--run', 'echo kept; printf "no newline"'])
  t.equal(done.code, 0, done.err)
  const id = /experiment ([0-9a-f]+)/.exec(done.err)![1]
  t.equal((await ends(t, labStart(r, ['logs', id, '-f']), 15_000)).out, 'kept\nno newline\n', 'an ended kept run')
  const run = labStart(r, ['run', '-m', 'kept live', '--keep', '--run', 'echo one; sleep 1.5; echo two'])
  const live = await waitFor('its id', () => /experiment ([0-9a-f]+)/.exec(run.output().err)?.[1])
  await waitFor('running', async () => (await labJson(r, ['show', live])).status === 'running')
  t.equal((await ends(t, labStart(r, ['logs', live, '-f']), 20_000)).out, 'one\ntwo\n', 'a kept run followed while it runs')
  t.equal((await run.result).code, 0)
})

// A progress bar as tqdm draws it: each state starts with \r, the line ends with \n when the bar is done.
const bar = (wait: string) => `echo start; for p in 10 20 30 40 50; do printf '\\r%s%%|' $p; sleep 0.2; done; ${wait}; printf '\\n'; echo done`

t.test('a progress bar redrawn with \\r reaches the refs and logs -f before its line ends; a terminal shows its latest state', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  const go = gate(t)
  const id = (await labJson(r, ['submit', '-m', 'bar', '--run', bar(go.wait)])).id
  const worker = labStart(r, ['worker', '--once', '--sync-every', '0'])
  await waitFor('running', async () => (await labJson(r, ['show', id])).status === 'running').catch(e => { throw said(e, worker) })
  const follow = labStart(r, ['logs', id, '-f'])
  await waitFor('the bar in logs -f', () => /50%\|/.test(follow.output().out))
  await waitFor('the bar sealed', async () => (await labJson(r, ['show', id])).output_bytes >= 'start\n\r10%|\r20%|\r30%|\r40%|'.length)
  t.equal((await labJson(r, ['show', id])).status, 'running', 'all before its line ended')
  go.open()
  const plain = 'start\n\n10%|\n20%|\n30%|\n40%|\n50%|\ndone\n'
  t.equal((await ends(t, follow, 30_000)).out, plain, 'piped: every state on a line of its own')
  t.equal((await worker.result).code, 0)
  t.equal((await lab(r, ['logs', id])).out, plain)
  const latest = 'start\n\r\x1b[K10%|\r\x1b[K20%|\r\x1b[K30%|\r\x1b[K40%|\r\x1b[K50%|\ndone\n'
  t.equal((await onTTY(r, ['logs', id])).out, latest, 'on a terminal each state replaces the one before')
  t.equal((await lab(r, ['logs', id, '--tail', '2'])).out, '50%|\ndone\n', 'a redrawn state counts as a line for --tail')
  t.equal((await lab(r, ['logs', id, '--grep', '^[24]0%'])).out, '20%|\n40%|\n', 'and for --grep')
  const run = await onTTY(r, ['run', '-m', 'bar here', '--run', bar('true')])
  t.equal(run.code, 0, run.err)
  t.equal(run.out, latest, 'run on a terminal: the same')
})

t.test('safeRedraw: a lone \\r returns to the start of the current line and erases it; nothing else is live', async t => {
  t.equal(safeRedraw('10%\r20%\r30%\ndone\r\n'), '10%\r\x1b[K20%\r\x1b[K30%\ndone\r\n', '\\r\\n stays')
  t.equal(safeRedraw('a\x1b[2J\x1b[1A\x1b]52;c;eA==\x07\rb\x08\x1b[K\x1b[31mred'), 'a\r\x1b[Kb\\u0008\x1b[31mred', 'no other movement or erase')
  t.equal(safeOutput('a\rb'), 'a\nb', 'safeOutput (files, pipes, diffs) is unchanged')
  const pieces: string[] = []
  const p = outputPieces(s => pieces.push(safeRedraw(s)))
  for (const c of Buffer.from('x\r1%\r\n2%\r')) p.write(Buffer.from([c]))
  p.end()
  t.equal(pieces.join(''), safeRedraw('x\r1%\r\n2%\r'), 'pieces redraw as the whole would')
})
