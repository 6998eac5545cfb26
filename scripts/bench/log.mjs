// `git lab log --json --limit 0` on a lab of 10,000 experiments (4 writers, three params each), warm index and
// rebuilt from the refs, against raw git reading the same operation blobs (for-each-ref + ls-tree -r + one
// cat-file --batch); then the filtered listings (--status, --where) and the table with --columns.
//
//   node scripts/bench/log.mjs [--count 10000] [--runs 10]
import { statSync, rmSync } from 'node:fs'
import path from 'node:path'
import { BIN, emit, ensureBuilt, header, interleave, isMain, labEnv, ms, ratio, run, table, timeRun, verdict, workspace } from './lib.mjs'
import { generate, makeLabRepo } from './generate.mjs'

export async function main(argv = process.argv.slice(2)) {
  const opt = (name, dflt) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? Number(argv[i + 1]) : dflt }
  const count = opt('count', 10000)
  const runs = opt('runs', 10)
  const rebuildRuns = Math.max(3, Math.round(runs / 2))
  ensureBuilt()
  header(`log: ${count} experiments`, `${runs} runs warm, ${rebuildRuns} rebuilds`)
  const tmp = workspace('lab-bench-log-')
  const env = labEnv(path.join(tmp, 'home'))
  const dir = makeLabRepo(path.join(tmp, 'repo'), env)
  const gen = await generate({ cwd: dir, env, count, writers: 4, batch: 250, tmp, params: true })
  console.log(`generated ${count} experiments, ${gen.writers.length} writers, ${gen.commits} commits in ${ms(gen.ms)}`)

  const indexFile = path.join(dir, '.git', 'lab', 'index.json')
  const logArgs = ['log', '--json', '--limit', '0']
  const listed = JSON.parse(run(BIN, logArgs, { cwd: dir, env }))
  if (listed.length !== count) throw new Error(`git lab log listed ${listed.length} experiments, expected ${count}`)
  const outBytes = Buffer.byteLength(JSON.stringify(listed, null, 2))
  console.log(`index.json ${(statSync(indexFile).size / 1e6).toFixed(1)} MB, log --json output ${(outBytes / 1e6).toFixed(1)} MB`)

  // Raw git: every writer ref, every op blob in their trees, read through one cat-file --batch.
  const readAll = `git for-each-ref --format='%(objectname)' refs/lab/w/ | while read c; do git ls-tree -r "$c"; done | awk '$2 == "blob" { print $3 }' | git cat-file --batch > /dev/null`
  const blobs = Number(run('sh', ['-c', `git for-each-ref --format='%(objectname)' refs/lab/w/ | while read c; do git ls-tree -r "$c"; done | awk '$2 == "blob"' | wc -l`], { cwd: dir, env }).trim())
  const warm = await interleave([
    { name: 'lab', fn: () => timeRun(BIN, logArgs, { cwd: dir, env }) },
    { name: 'forEachRef', fn: () => timeRun('git', ['for-each-ref', 'refs/lab/'], { cwd: dir, env }) },
    { name: 'readAll', fn: () => timeRun('sh', ['-c', readAll], { cwd: dir, env }) },
  ], runs, 1)
  table(`git lab log --json --limit 0, warm index (median of ${runs})`, [
    ['git lab log --json --limit 0', warm.lab],
    ['raw git: for-each-ref refs/lab/', warm.forEachRef, `ratio ${ratio(warm.lab.median, warm.forEachRef.median)}`],
    [`raw git: for-each-ref + ls-tree + cat-file --batch (${blobs} blobs)`, warm.readAll, `ratio ${ratio(warm.lab.median, warm.readAll.median)}`],
  ])

  // Filters parse the cache's row index instead of writing the body out; a build without --where skips these.
  let filtered = null
  if (run(BIN, ['log', '-h'], { cwd: dir, env }).includes('--where')) {
    const whereArgs = ['log', '--json', '--limit', '0', '--where', 'lr<1e-3', '--where', 'opt=lion']
    const matched = JSON.parse(run(BIN, whereArgs, { cwd: dir, env })).length
    filtered = await interleave([
      { name: 'status', fn: () => timeRun(BIN, ['log', '--json', '--limit', '0', '--status', 'queued'], { cwd: dir, env }) },
      { name: 'where', fn: () => timeRun(BIN, whereArgs, { cwd: dir, env }) },
      { name: 'table', fn: () => timeRun(BIN, ['log'], { cwd: dir, env }) },
      { name: 'columns', fn: () => timeRun(BIN, ['log', '--columns', 'lr,wd,opt'], { cwd: dir, env }) },
    ], runs, 1)
    table(`filtered listings and the table, warm (median of ${runs})`, [
      [`log --json --limit 0 --status queued (all ${count} rows, row by row)`, filtered.status],
      [`log --json --limit 0 --where lr<1e-3 --where opt=lion (${matched} rows)`, filtered.where],
      ['log (the table, 30 rows)', filtered.table],
      ['log --columns lr,wd,opt (30 rows)', filtered.columns],
    ])
  }

  const cold = await interleave([
    { name: 'rebuild', before: () => rmSync(indexFile, { force: true }), fn: () => timeRun(BIN, ['log', '--limit', '1'], { cwd: dir, env }) },
    { name: 'fsck', fn: () => timeRun(BIN, ['fsck', '--rebuild'], { cwd: dir, env }) },
    { name: 'readAll', fn: () => timeRun('sh', ['-c', readAll], { cwd: dir, env }) },
  ], rebuildRuns, 1)
  table(`index rebuild from the refs (median of ${rebuildRuns})`, [
    ['rm .git/lab/index.json; git lab log --limit 1', cold.rebuild, `ratio ${ratio(cold.rebuild.median, cold.readAll.median)}`],
    ['git lab fsck --rebuild (reads the index, then rebuilds)', cold.fsck, `ratio ${ratio(cold.fsck.median, cold.readAll.median)}`],
    ['raw git: for-each-ref + ls-tree + cat-file --batch', cold.readAll],
  ])
  console.log()
  const goals = [
    verdict('log --json --limit 0, warm', warm.lab.median, 150),
    verdict('index rebuild (log --limit 1 without index)', cold.rebuild.median, 3000),
  ]
  const result = { count, writers: gen.writers.length, commits: gen.commits, warm, filtered, cold, blobs, goals }
  emit('log', result)
  return result
}

if (isMain(import.meta.url)) await main()
