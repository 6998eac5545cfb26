// Metric ingest: a job that appends 1,000,000 points ({"step": i, "loss": x}, a noisy decaying loss at full precision)
// to $LAB_METRICS as fast as it can, run end to end by `git lab run` (submit, run, every point sealed into refs when
// the command exits), against the same job writing the same lines to a plain file, and against raw git storing that
// file as one blob (`git hash-object -w`). Then the packed size of the metric chunk blobs, after `git repack -adq`,
// against the same journal packed as one blob; then every point read back with `git lab metrics --json` and compared.
// Each lab run is in a fresh repository with its own random seed, so no chunk can be stored as a delta of another run's.
//
//   node scripts/bench/ingest.mjs [--runs 3] [--points 1000000]
import { rmSync, writeFileSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { BIN, emit, ensureBuilt, git, header, int, interleave, isMain, lab, labEnv, makeRepo, median, ms, ratio, run, table, timeRun, verdict, workspace } from './lib.mjs'

// The job: a seeded PRNG (mulberry32) and Box-Muller noise; JS prints each double in its shortest exact form
// (16-17 significant digits), as Python's repr does. Written in 64 KiB pieces, as a buffered logger would.
const JOB = `
import { openSync, writeSync, closeSync } from 'node:fs'
const n = Number(process.env.POINTS)
let a = Number(process.env.SEED) >>> 0
const rand = () => { a = (a + 0x6d2b79f5) >>> 0; let t = Math.imul(a ^ (a >>> 15), 1 | a); t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t; return ((t ^ (t >>> 14)) >>> 0) / 4294967296 }
const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())
const fd = openSync(process.env.LAB_METRICS, 'a')
let buf = ''
for (let i = 0; i < n; i++) {
  const loss = 0.28 + 2.1 * Math.exp(-i / (n / 5)) + 0.4 * Math.exp(-i / (n / 100)) + gauss() * (0.015 + 0.05 * Math.exp(-i / (n / 3)))
  buf += '{"step": ' + i + ', "loss": ' + loss + '}\\n'
  if (buf.length >= 65536) { writeSync(fd, buf); buf = '' }
}
writeSync(fd, buf)
closeSync(fd)
`

const MB = 1e6

/** Companion blobs (ops/XXXX/XX/XX.N: here the metric chunks) of a writer's log, with their size and packed size. */
function companionBlobs(dir, env, writer) {
  const shas = git(dir, env, 'ls-tree', '-r', `refs/lab/w/${writer}`).split('\n')
    .map(l => /^\d+ blob ([0-9a-f]+)\t(ops\/[0-9a-f]{4}\/[0-9a-f]{2}\/[0-9a-f]{2}\.\d+)$/.exec(l)).filter(Boolean).map(m => m[1])
  const out = run('git', ['cat-file', '--batch-check=%(objectsize) %(objectsize:disk)'], { cwd: dir, env, input: shas.join('\n') + '\n' })
  const rows = out.trim().split('\n').map(l => l.split(' ').map(Number))
  return { count: shas.length, size: rows.reduce((s, r) => s + r[0], 0), disk: rows.reduce((s, r) => s + r[1], 0) }
}

const packBytes = (dir, env) => Number(/^size-pack: (\d+)$/m.exec(git(dir, env, 'count-objects', '-v'))[1]) * 1024

export async function main(argv = process.argv.slice(2)) {
  const opt = (name, dflt) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? Number(argv[i + 1]) : dflt }
  const runs = opt('runs', 3)
  const points = opt('points', 1_000_000)
  ensureBuilt()
  header(`ingest: a job writing ${int(points)} metric points as fast as it can`, `median of ${runs}`)
  const tmp = workspace('lab-bench-ingest-')
  const env = labEnv(path.join(tmp, 'home'))
  const job = path.join(tmp, 'job.mjs')
  writeFileSync(job, JOB)
  const jobEnv = (seed, file) => ({ ...env, POINTS: String(points), SEED: String(seed), LAB_METRICS: file })
  const plain = path.join(tmp, 'plain.jsonl')
  const repos = []
  const seed = i => 1000 + i

  const newRepo = (name) => {
    const dir = makeRepo(path.join(tmp, name), env)
    writeFileSync(path.join(dir, 'train.py'), 'print("training")\n')
    git(dir, env, 'add', '-A')
    git(dir, env, 'commit', '-q', '-m', 'code')
    return dir
  }

  const t = await interleave([
    {
      name: 'plain',
      before: () => rmSync(plain, { force: true }),
      fn: i => timeRun(process.execPath, [job], { cwd: tmp, env: jobEnv(seed(i), plain) }),
    },
    {
      name: 'raw',
      before: i => { rmSync(plain, { force: true }); rmSync(path.join(tmp, `raw${i - 1}`), { recursive: true, force: true }); newRepo(`raw${i}`) },
      fn: i => {
        const dir = path.join(tmp, `raw${i}`)
        const t0 = performance.now()
        run(process.execPath, [job], { cwd: dir, env: jobEnv(seed(i), plain) })
        run('git', ['hash-object', '-w', plain], { cwd: dir, env })
        return performance.now() - t0
      },
    },
    {
      name: 'lab',
      before: i => {
        const dir = newRepo(`lab${i}`)
        lab(dir, env, 'init')
        repos.push({ dir, i })
      },
      fn: i => {
        const cmd = `POINTS=${points} SEED=${seed(i)} '${process.execPath}' '${job}'`
        return timeRun(BIN, ['run', '-m', `ingest ${i}`, '--run', cmd], { cwd: repos[repos.length - 1].dir, env })
      },
    },
  ], runs, 1)
  const journal = statSync(plain).size
  rmSync(repos.shift().dir, { recursive: true, force: true }) // the warm-up round's

  // Every timed run: did all points arrive, and how big are they once packed?
  for (const r of repos) {
    const [e] = JSON.parse(lab(r.dir, env, 'log', '--json', '--limit', '1'))
    const shown = JSON.parse(lab(r.dir, env, 'show', e.id, '--json'))
    r.id = e.id
    r.status = shown.status
    r.count = shown.series?.loss?.count ?? 0
    r.skipped = shown.metrics_skipped
    git(r.dir, env, 'repack', '-adq')
    r.blobs = companionBlobs(r.dir, env, git(r.dir, env, 'config', '--get', 'lab.writer').trim())
    r.pack = packBytes(r.dir, env)
    console.log(`run ${r.i}: ${e.id} ${r.status}, series.loss.count ${int(r.count)}, ${r.skipped} lines skipped, ` +
      `${r.blobs.count} chunk blobs of ${(r.blobs.size / MB).toFixed(2)} MB, ${(r.blobs.disk / MB).toFixed(2)} MB packed (whole pack ${(r.pack / MB).toFixed(2)} MB)`)
  }
  // The raw comparison's size: the journal of the last raw round as one blob, packed.
  const rawDir = path.join(tmp, `raw${runs}`)
  git(rawDir, env, 'repack', '-adq')
  const rawSha = git(rawDir, env, 'hash-object', plain).trim()
  const rawDisk = Number(run('git', ['cat-file', '--batch-check=%(objectsize:disk)'], { cwd: rawDir, env, input: rawSha + '\n' }).trim())

  // Read the last run's points back and compare them with what its job wrote (same seed: the same lines).
  const last = repos[repos.length - 1]
  rmSync(plain, { force: true })
  run(process.execPath, [job], { cwd: tmp, env: jobEnv(seed(last.i), plain) })
  const t0 = performance.now()
  const m = JSON.parse(lab(last.dir, env, 'metrics', last.id, '--json'))
  const readMs = performance.now() - t0
  const want = readFileSync(plain, 'utf8').split('\n').filter(Boolean).map(l => JSON.parse(l))
  const got = m.series.loss ?? []
  let mismatched = 0
  const byStep = new Map(got.map(p => [p.step, p.value]))
  for (const w of want) if (byStep.get(w.step) !== w.loss) mismatched++
  const missing = want.filter(w => !byStep.has(w.step)).map(w => w.step)
  console.log(`read back with git lab metrics ${last.id} --json in ${ms(readMs)}: ${int(got.length)} points, ${m.skipped} skipped; ` +
    `${mismatched} of ${int(want.length)} written points missing or different${missing.length ? ` (missing steps: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', ...' : ''})` : ''}`)

  const pps = points / (t.lab.median / 1000)
  const mbPer1M = median(repos.map(r => r.blobs.disk)) / MB * (1_000_000 / points)
  const lost = Math.max(...repos.map(r => points - r.count))
  table(`${int(points)} points, ${(journal / MB).toFixed(1)} MB of journal (median of ${runs})`, [
    ['the job writing to a plain file', t.plain],
    ['raw git: the job + git hash-object -w of the file', t.raw, `ratio ${ratio(t.raw.median, t.plain.median)} plain`],
    ['git lab run (submit, run, seal every point)', t.lab, `ratio ${ratio(t.lab.median, t.plain.median)} plain, ${ratio(t.lab.median, t.raw.median)} raw git`],
  ])
  console.log(`\n  points/s: git lab run ${int(pps)}, plain file ${int(points / (t.plain.median / 1000))}, raw git ${int(points / (t.raw.median / 1000))}`)
  console.log(`  packed size per 1M points: chunk blobs ${mbPer1M.toFixed(2)} MB (median of ${repos.length} runs; ${(median(repos.map(r => r.blobs.size)) / MB).toFixed(1)} MB before compression), ` +
    `the journal as one blob ${(rawDisk / MB * 1_000_000 / points).toFixed(2)} MB (ratio ${ratio(mbPer1M, rawDisk / MB * 1_000_000 / points)})`)
  console.log()
  const goals = [
    verdict('git lab run, points/s end to end', pps, 200_000, 'points/s', { atLeast: true }),
    verdict('packed chunk blobs per 1M points', mbPer1M, 12, 'MB'),
    verdict(`points missing from series.loss.count (of ${int(points)})`, lost, 0, 'points'),
  ]
  const result = {
    runs, points, journal, times: t, pps, mbPer1M, rawMbPer1M: rawDisk / MB * 1_000_000 / points, readMs, mismatched,
    runsDetail: repos.map(r => ({ count: r.count, skipped: r.skipped, chunks: r.blobs.count, size: r.blobs.size, disk: r.blobs.disk, pack: r.pack })), goals,
  }
  emit('ingest', result)
  return result
}

if (isMain(import.meta.url)) await main()
