// Worker overhead per experiment: N queued experiments whose job is trivial (it only writes the time it started, in
// ms, to a file outside the repo: `date +%s%3N > STAMPS/$LAB_EXPERIMENT`), run by `git lab worker --once --sync-every 0`
// (one job at a time). Overhead per experiment = (that worker's wall time - an idle `worker --once` with nothing
// queued) / N, against raw git doing the unavoidable part per job: `git worktree add --detach`, the job,
// `git worktree remove`; and that plus the ref writes the lab makes per job (a claim commit and two records: three
// `git fast-import` + `git update-ref --stdin` pairs).
// Where the time goes is read from outside: git's own trace (GIT_TRACE2_EVENT, on for every case alike) gives each
// job's `worktree add` and `worktree remove`, the job's own stamp when it started (a trivial job exits ~1 ms later),
// the records' op times (ms) when its start and end writes began. Once per worker run: from its start to the first
// claim, and from its last git process to its exit.
// With --base /path/to/another/dist/git-lab.js, that build's worker (and its idle run) is timed too, in the same
// rounds, on the same repository: before/after figures measured side by side.
//
//   node scripts/bench/worker.mjs [--runs 5] [--count 20] [--base OTHER_BIN]
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { BIN, emit, ensureBuilt, git, header, interleave, isMain, lab, labEnv, makeRepo, ratio, run, summary, table, timeRun, verdict, workspace } from './lib.mjs'

/** Processes git traced: argv, start and exit times (ms since the epoch), in start order. */
function traced(file) {
  const bySid = new Map()
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue
    const ev = JSON.parse(line)
    // (the command after any `-c key=value` git is given first)
    if (ev.event === 'start') bySid.set(ev.sid, { argv: dropConfig(ev.argv.slice(1)), start: Date.parse(ev.time), exit: null })
    else if (ev.event === 'exit' && bySid.has(ev.sid)) bySid.get(ev.sid).exit = Date.parse(ev.time)
  }
  return [...bySid.values()].sort((a, b) => a.start - b.start)
}

const dropConfig = argv => { let i = 0; while (argv[i] === '-c') i += 2; return argv.slice(i) }

/**
 * Per experiment, in the order the worker ran them: its `worktree add` (start and exit), the job's own start stamp,
 * its `worktree remove` (exit: after its end was recorded), and the first claim (the fast-import before the first
 * `worktree add`). A worker records an end while it claims and prepares the next job, so its git processes overlap:
 * only these are told apart by their arguments; the records' own times (ms) say when each write began.
 */
function phases(procs, stamps) {
  const is = (p, ...a) => a.every((x, i) => p.argv[i] === x)
  const rows = []
  for (const [id, stamp] of stamps) {
    const add = procs.find(p => is(p, 'worktree', 'add') && p.argv.some(a => a.includes(`/${id}.`)))
    const remove = procs.find(p => is(p, 'worktree', 'remove') && p.argv.some(a => a.includes(`/${id}.`)))
    if (!add || !remove) throw new Error(`no worktree add/remove traced for ${id}`)
    rows.push({ id, add: add.start, added: add.exit, stamp, removed: remove.exit })
  }
  rows.sort((a, b) => a.add - b.add)
  const firstClaim = procs.filter(p => is(p, 'fast-import') && p.start <= rows[0].add).pop().start
  return { rows, firstClaim }
}

/** What the lab writes per job, done by raw git: a commit through fast-import, then a compare-and-swap update-ref. */
function rawRecord(dir, env, ref, parent, file, text) {
  const when = `${Math.floor(Date.now() / 1000)} +0000`
  const msg = `record ${file}\n`
  const stream = `commit refs/bench/fast-import\nmark :1\nauthor Bench <bench@example.com> ${when}\ncommitter Bench <bench@example.com> ${when}\n` +
    `data ${Buffer.byteLength(msg)}\n${msg}${parent ? `from ${parent}\n` : 'deleteall\n'}M 100644 inline ${file}\ndata ${Buffer.byteLength(text)}\n${text}\n\n` +
    'get-mark :1\nreset refs/bench/fast-import\n\ndone\n'
  // (the pack kept as git lab keeps it: no `unpack-objects` after each record, on either side)
  const sha = run('git', ['-c', 'fastimport.unpackLimit=1', 'fast-import', '--quiet', '--done', '--date-format=raw'], { cwd: dir, env, input: stream }).trim()
  run('git', ['update-ref', '--stdin'], { cwd: dir, env, input: `update ${ref} ${sha} ${parent ?? '0'.repeat(40)}\n` })
  return sha
}

export async function main(argv = process.argv.slice(2)) {
  const opt = (name, dflt) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? Number(argv[i + 1]) : dflt }
  const runs = opt('runs', 5)
  const count = opt('count', 20)
  const baseAt = argv.indexOf('--base')
  const BASE = baseAt >= 0 ? path.resolve(argv[baseAt + 1]) : null
  ensureBuilt()
  header(`worker: ${count} trivial experiments per round, git lab worker --once --sync-every 0`, `median of ${runs} rounds`)
  const tmp = workspace('lab-bench-worker-')
  const env = labEnv(path.join(tmp, 'home'))
  const dir = makeRepo(path.join(tmp, 'repo'), env)
  for (let f = 0; f < 20; f++) writeFileSync(path.join(dir, `mod_${f}.py`), `value = ${f}\n`.repeat(50))
  git(dir, env, 'add', '-A')
  git(dir, env, 'commit', '-q', '-m', 'code')
  lab(dir, env, 'init')
  const rawDir = makeRepo(path.join(tmp, 'raw'), env)
  for (let f = 0; f < 20; f++) writeFileSync(path.join(rawDir, `mod_${f}.py`), `value = ${f}\n`.repeat(50))
  git(rawDir, env, 'add', '-A')
  git(rawDir, env, 'commit', '-q', '-m', 'code')
  const traces = path.join(tmp, 'traces')
  mkdirSync(traces)
  const tenv = (name, i) => ({ ...env, GIT_TRACE2_EVENT: path.join(traces, `${name}-${i}.json`) })
  const stampsOf = i => path.join(tmp, `stamps-${i}`)
  const job = (stamps) => `date +%s%3N > '${stamps}'/$LAB_EXPERIMENT`
  const rounds = []
  const baseRounds = []
  let rawTip = null
  const spans = []

  const t = await interleave([
    {
      name: 'lab',
      // Untimed: queue the round's experiments.
      before: i => {
        mkdirSync(stampsOf(i))
        const ids = []
        for (let k = 0; k < count; k++) ids.push(lab(dir, env, 'submit', '-m', `trivial ${i}.${k}`, '--run', job(stampsOf(i))).trim())
        rounds.push({ i, ids })
      },
      fn: i => {
        const took = timeRun(BIN, ['worker', '--once', '--sync-every', '0'], { cwd: dir, env: tenv('lab', i) })
        spans[i] = { start: Date.now() - took, end: Date.now() }
        return took
      },
    },
    { name: 'empty', fn: i => timeRun(BIN, ['worker', '--once', '--sync-every', '0'], { cwd: dir, env: tenv('empty', i) }) },
    ...(BASE ? [{
      name: 'base',
      before: i => {
        mkdirSync(`${stampsOf(i)}-base`)
        const ids = []
        for (let k = 0; k < count; k++) ids.push(lab(dir, env, 'submit', '-m', `trivial base ${i}.${k}`, '--run', job(`${stampsOf(i)}-base`)).trim())
        baseRounds.push({ i, ids })
      },
      fn: i => timeRun(BASE, ['worker', '--once', '--sync-every', '0'], { cwd: dir, env: tenv('base', i) }),
    }, { name: 'base-empty', fn: i => timeRun(BASE, ['worker', '--once', '--sync-every', '0'], { cwd: dir, env: tenv('base-empty', i) }) }] : []),
    {
      name: 'raw',
      fn: i => {
        const e = tenv('raw', i)
        const stamps = path.join(tmp, `raw-stamps-${i}`)
        mkdirSync(stamps)
        const t0 = performance.now()
        for (let k = 0; k < count; k++) {
          const wt = path.join(tmp, 'raw-work', `${i}.${k}`)
          run('git', ['worktree', 'add', '--quiet', '--detach', wt, 'HEAD'], { cwd: rawDir, env: e })
          run('sh', ['-c', job(stamps)], { cwd: wt, env: { ...e, LAB_EXPERIMENT: `${i}.${k}` } })
          run('git', ['worktree', 'remove', '--force', '--force', wt], { cwd: rawDir, env: e })
        }
        return performance.now() - t0
      },
    },
    {
      name: 'rawrec',
      fn: i => {
        const e = tenv('rawrec', i)
        const stamps = path.join(tmp, `rawrec-stamps-${i}`)
        mkdirSync(stamps)
        const t0 = performance.now()
        for (let k = 0; k < count; k++) {
          const id = `${i}.${k}`
          rawRecord(rawDir, e, `refs/bench/claims/${id}`, null, 'claim.json', JSON.stringify({ experiment: id, worker: 'bench', time: new Date().toISOString() }) + '\n')
          const wt = path.join(tmp, 'raw-work', id)
          run('git', ['worktree', 'add', '--quiet', '--detach', wt, 'HEAD'], { cwd: rawDir, env: e })
          run('sh', ['-c', job(stamps)], { cwd: wt, env: { ...e, LAB_EXPERIMENT: id } })
          const op = status => JSON.stringify({ v: 1, type: 'experiment.status', entity: id, payload: { status, attempt: 1 }, time: new Date().toISOString() }) + '\n'
          rawTip = rawRecord(rawDir, e, 'refs/bench/w', rawTip, `ops/0000/00/${(2 * k + 1).toString(16)}.json`, op('running'))
          rawTip = rawRecord(rawDir, e, 'refs/bench/w', rawTip, `ops/0000/00/${(2 * k + 2).toString(16)}.json`, op('succeeded'))
          run('git', ['worktree', 'remove', '--force', '--force', wt], { cwd: rawDir, env: e })
        }
        return performance.now() - t0
      },
    },
  ], runs, 1)

  // Check every experiment ran and succeeded, then split each one's overhead from the traces.
  const all = Object.fromEntries(JSON.parse(lab(dir, env, 'log', '--json', '--limit', '0')).map(e => [e.id, e]))
  for (const { i, ids } of baseRounds) {
    const bad = ids.filter(id => all[id]?.status !== 'succeeded')
    if (bad.length) throw new Error(`base round ${i}: ${bad.length} experiments did not succeed: ${bad.map(id => `${id} ${all[id]?.status} ${all[id]?.reason ?? ""}`).join(", ")}`)
    if (readdirSync(`${stampsOf(i)}-base`).length !== count) throw new Error(`base round ${i}: not every job left a start stamp`)
  }
  const halves = { exitToAdd: [], addToStart: [], cycle: [], exitToEndWrite: [], exitToRemoved: [], startToStartWrite: [] }
  const once = { toFirstClaim: [], afterLast: [] }
  for (const { i, ids } of rounds) {
    const bad = ids.filter(id => all[id]?.status !== 'succeeded')
    if (bad.length) throw new Error(`round ${i}: ${bad.length} experiments did not succeed: ${bad.map(id => `${id} ${all[id]?.status}`).join(', ')}`)
    const stamps = new Map(readdirSync(stampsOf(i)).map(id => [id, Number(readFileSync(path.join(stampsOf(i), id), 'utf8'))]))
    if (stamps.size !== count) throw new Error(`round ${i}: ${stamps.size} of ${count} jobs left a start stamp`)
    if (i === 0) continue // warm-up
    const procs = traced(path.join(traces, `lab-${i}.json`))
    const { rows, firstClaim } = phases(procs, stamps)
    once.toFirstClaim.push(firstClaim - spans[i].start)
    once.afterLast.push(spans[i].end - Math.max(...procs.map(p => p.exit ?? p.start)))
    rows.forEach((r, k) => {
      const e = all[r.id]
      // (a trivial job exits ~1 ms after its stamp)
      if (k > 0) halves.exitToAdd.push(r.add - rows[k - 1].stamp)
      halves.addToStart.push(r.stamp - r.add)
      if (k + 1 < rows.length) halves.cycle.push(rows[k + 1].stamp - r.stamp)
      halves.startToStartWrite.push(Date.parse(e.started_at) - r.stamp)
      halves.exitToEndWrite.push(Date.parse(e.finished_at) - r.stamp)
      halves.exitToRemoved.push(r.removed - r.stamp)
    })
  }
  const h = Object.fromEntries(Object.entries(halves).map(([k, v]) => [k, summary(v)]))
  const per = { lab: (t.lab.median - t.empty.median) / count, raw: t.raw.median / count, rawrec: t.rawrec.median / count }
  if (BASE) per.base = (t.base.median - t['base-empty'].median) / count
  table(`${count} trivial experiments per round (median of ${runs} rounds)`, [
    [`git lab worker --once --sync-every 0, ${count} queued`, t.lab],
    ['git lab worker --once --sync-every 0, nothing queued', t.empty],
    [`raw git: ${count} x (worktree add --detach, the job, worktree remove)`, t.raw],
    [`raw git: the same + 3 x (fast-import + update-ref --stdin) per job`, t.rawrec],
  ])
  table(`per experiment (${count} per round)`, [
    ['git lab: (worker with N queued - worker with none) / N', per.lab, `ratio ${ratio(per.lab, per.raw)} worktree add/remove, ${ratio(per.lab, per.rawrec)} with the ref writes`],
    ['raw git: worktree add + job + worktree remove', per.raw],
    ['raw git: the same + claim and two records', per.rawrec],
    ...(BASE ? [[`--base ${BASE}: the same as the first row`, per.base, `ratio ${ratio(per.base, per.rawrec)} with the ref writes`]] : []),
  ])
  if (BASE) {
    table(`--base build (${BASE}), in the same rounds`, [
      [`worker --once, ${count} queued`, t.base],
      ['worker --once, nothing queued', t['base-empty']],
    ])
  }
  table(`per experiment, from git's trace, the job's stamp and the records' times (${h.addToStart.n} experiments)`, [
    ['job before exits -> this job\'s worktree add starts (see the exit, pick, claim)', h.exitToAdd],
    ['worktree add starts -> job starts (checkout, start)', h.addToStart],
    ['job starts -> next job starts (one whole cycle)', h.cycle],
    ['job starts -> its start record begins (claimed+running; op time)', h.startToStartWrite],
    ['job exits -> its end record begins (op time)', h.exitToEndWrite],
    ['job exits -> its worktree removed (after its end is recorded)', h.exitToRemoved],
  ])
  const o = Object.fromEntries(Object.entries(once).map(([k, v]) => [k, summary(v)]))
  table(`once per worker run (${o.afterLast.n} rounds)`, [
    ['worker starts -> first claim', o.toFirstClaim],
    ['last git process exits -> worker exits', o.afterLast],
  ])
  console.log()
  const goals = [
    // (upper bounds: the first includes seeing the exit before and picking; the second the removal after the end's write)
    verdict('claim to process start, per experiment', h.exitToAdd.median + h.addToStart.median, 150),
    verdict('exit to recorded, per experiment', h.exitToRemoved.median, 150),
    // (issue 9: the worker's overhead per experiment against raw git doing the same worktree and ref work)
    verdict('overhead per experiment / raw git worktree and ref work', per.lab / per.rawrec, 1.2, 'x'),
  ]
  const result = { runs, count, times: t, perExperiment: per, phases: h, perRun: o, goals }
  emit('worker', result)
  return result
}

if (isMain(import.meta.url)) await main()
