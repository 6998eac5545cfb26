// What a command costs as the lab grows: submit --no-code, note, cancel (writes) and show, log (30 rows) (reads) in a
// lab of one experiment and in one of 10,000, interleaved in one run; the ratio big/empty is the goal (writes <= 1.1x,
// reads <= 1.2x), with `node -e 0` and a raw `git update-ref` for scale. --bin times another build.
//
//   node scripts/bench/scale.mjs [--count 10000] [--runs 10] [--bin path/to/git-lab.js]
import path from 'node:path'
import { BIN, emit, ensureBuilt, header, interleave, isMain, labEnv, ms, ratio, run, table, timeRun, verdict, workspace } from './lib.mjs'
import { generate, makeLabRepo } from './generate.mjs'

const CASES = [
  { name: 'submit', write: true, args: (i, ids) => ['submit', '--no-code', '-m', `s${i}`, '--run', 'true'] },
  { name: 'note', write: true, args: (i, ids) => ['note', ids[i % ids.length], `note ${i}`] },
  { name: 'cancel', write: true, args: (i, ids) => ['cancel', ids[i % ids.length], '--reason', 'bench'] },
  { name: 'show', write: false, args: (i, ids) => ['show', ids[i % ids.length]] },
  { name: 'log', write: false, args: () => ['log'] },
]

export async function main(argv = process.argv.slice(2)) {
  const arg = name => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : undefined }
  const count = Number(arg('count') ?? 10000)
  const runs = Number(arg('runs') ?? 10)
  const bin = path.resolve(arg('bin') ?? BIN)
  ensureBuilt()
  header(`scale: writes and reads at 1 vs ${count} experiments`, `median of ${runs}${bin === BIN ? '' : ', ' + bin}`)
  const tmp = workspace('lab-bench-scale-')
  const env = labEnv(path.join(tmp, 'home'))
  const labs = {}
  for (const [name, n] of [['empty', 0], ['big', count]]) {
    const dir = makeLabRepo(path.join(tmp, name), env)
    if (n) await generate({ cwd: dir, env, count: n, writers: 4, batch: 250, tmp, params: true })
    // queued experiments of our own to note and cancel, one per run (+ warm-up)
    for (let i = 0; i <= runs; i++) run(bin, ['submit', '--no-code', '-m', `t${i}`, '--run', 'true'], { cwd: dir, env })
    const ids = JSON.parse(run(bin, ['log', '--json', '--limit', String(runs + 1)], { cwd: dir, env })).map(e => e.id)
    labs[name] = { opts: { cwd: dir, env }, ids }
  }
  const cases = []
  for (const c of CASES) for (const name of ['empty', 'big']) {
    const l = labs[name]
    cases.push({ name: `${c.name}-${name}`, fn: i => timeRun(bin, c.args(i, l.ids), l.opts) })
  }
  cases.push({ name: 'node', fn: () => timeRun(process.execPath, ['-e', '0']) })
  cases.push({ name: 'updateRef', fn: i => timeRun('git', ['update-ref', `refs/bench/x${i}`, 'HEAD'], labs.big.opts) })
  const r = await interleave(cases, runs, 1)
  const rows = []
  const goals = []
  for (const c of CASES) {
    const [e, b] = [r[`${c.name}-empty`], r[`${c.name}-big`]]
    rows.push([`${c.name} (1 experiment)`, e])
    rows.push([`${c.name} (${count})`, b, `ratio ${ratio(b.median, e.median)} of the empty lab, ${ratio(b.median, r.node.median)} node -e 0`])
    goals.push(verdict(`${c.name} at ${count} vs the empty lab`, b.median / e.median, c.write ? 1.1 : 1.2, 'x'))
  }
  rows.push(['node -e 0', r.node], ['git update-ref', r.updateRef])
  table(`median of ${runs}, interleaved`, rows)
  const result = { count, runs, results: r, goals }
  emit('scale', result)
  return result
}

if (isMain(import.meta.url)) await main()
