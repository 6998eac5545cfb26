// N local writers at once in one clone: N `git lab submit --no-code` started together vs the same N one after
// another (N = 2, 4, 8, 16), rounds interleaved; every write must land. --compare also times another build (e.g. the
// last commit's) in its own repo, interleaved with this one, to compare before and after in one run.
//
//   node scripts/bench/concurrent.mjs [--runs 3] [--n 2,4,8,16] [--bin this/git-lab.js] [--compare other/git-lab.js]
import { spawn } from 'node:child_process'
import path from 'node:path'
import { BIN, emit, ensureBuilt, header, interleave, isMain, labEnv, ms, ratio, run, table, verdict, workspace } from './lib.mjs'
import { makeLabRepo } from './generate.mjs'

const submitArgs = i => ['submit', '--no-code', '-m', `w${i}`, '--run', 'true']

function once(bin, args, opts) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { ...opts, stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    child.stderr.on('data', b => { err += b })
    child.on('close', code => code === 0 ? resolve() : reject(new Error(`${args.join(' ')} failed (${code}): ${err}`)))
  })
}

async function together(bin, n, opts) {
  const t0 = performance.now()
  await Promise.all(Array.from({ length: n }, (_, i) => once(bin, submitArgs(i), opts)))
  return performance.now() - t0
}

async function inTurn(bin, n, opts) {
  const t0 = performance.now()
  for (let i = 0; i < n; i++) await once(bin, submitArgs(i), opts)
  return performance.now() - t0
}

export async function main(argv = process.argv.slice(2)) {
  const arg = name => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : undefined }
  const runs = Number(arg('runs') ?? 3)
  const ns = (arg('n') ?? '2,4,8,16').split(',').map(Number)
  const other = arg('compare') ? path.resolve(arg('compare')) : null
  const bin = path.resolve(arg('bin') ?? BIN)
  if (bin === BIN) ensureBuilt()
  header('concurrent writers in one clone: submit --no-code', `median of ${runs}${other ? `, compared with ${other}` : ''}`)
  const tmp = workspace('lab-bench-concurrent-')
  const env = labEnv(path.join(tmp, 'home'))
  const builds = [{ tag: '', bin }, ...(other ? [{ tag: ' (other build)', bin: other }] : [])]
  builds.forEach((b, i) => { b.opts = { cwd: makeLabRepo(path.join(tmp, `repo${i}`), env), env } })
  const count = b => JSON.parse(run(b.bin, ['log', '--json', '--limit', '0'], b.opts)).length
  const rows = []
  const goals = []
  const results = {}
  for (const n of ns) {
    const before = builds.map(count)
    const r = await interleave(builds.flatMap((b, i) => [
      { name: `together${i}`, fn: () => together(b.bin, n, b.opts) },
      { name: `inTurn${i}`, fn: () => inTurn(b.bin, n, b.opts) },
    ]), runs, 1)
    builds.forEach((b, i) => {
      const landed = count(b) - before[i]
      if (landed !== 2 * n * (runs + 1)) throw new Error(`N=${n}${b.tag}: ${landed} of ${2 * n * (runs + 1)} submits landed`)
      const [at, seq] = [r[`together${i}`], r[`inTurn${i}`]]
      rows.push([`N=${n} at once${b.tag}`, at, `ratio ${ratio(at.median, seq.median)} of one after another`])
      rows.push([`N=${n} one after another${b.tag}`, seq, `${ms(seq.median / n)} each`])
      if (i === 0) goals.push(verdict(`N=${n} at once vs one after another`, at.median / seq.median, 1, 'x'))
      else console.log(`     N=${n}${b.tag}: ${ratio(at.median, seq.median)}`)
    })
    results[n] = r
  }
  table(`total wall time (median of ${runs}; every write landed)`, rows)
  const result = { runs, ns, results, goals }
  emit('concurrent', result)
  return result
}

if (isMain(import.meta.url)) await main()
