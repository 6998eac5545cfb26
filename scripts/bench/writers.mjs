// A lab of many writers (every agent slot is one): the index's first build over 1,000 writer refs, and an
// incremental refresh after 100 of them moved, each against raw git reading the same objects (refs, commits, trees,
// op blobs) in a pipeline of single processes:
//   build:   for-each-ref %(tree) | diff-tree --stdin -r (against the empty tree) | cat-file --batch
//   refresh: for-each-ref %(tree), the moved pairs | diff-tree --stdin -r | cat-file --batch
// and the same command with nothing changed (the fixed cost of any command: start-up, ref listing, index load).
//
//   node scripts/bench/writers.mjs [--writers 1000] [--moved 100] [--rounds 5] [--bin dist/git-lab.js] [--before BUILD] [--no-packed]
// --before times another build (a copy of an older dist/git-lab.js) in the same rounds, interleaved: before/after
// figures measured side by side. Then the same lab packed (as git's housekeeping leaves it) against raw git and
// `node -e 0` (--no-packed: not).
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { BIN, emit, ensureBuilt, git, header, isMain, labEnv, ms, ratio, run, sh, summary, table, timeRun as timeRun0, verdict, workspace } from './lib.mjs'
import { generate, makeLabRepo } from './generate.mjs'

const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904'

/**
 * CPU time (user + system, ms) of the children this process waited for, git's included (a waited-for child's own
 * waited-for children count in it): on a machine shared with other work, CPU per run is steadier than wall time.
 * Clock ticks of 10 ms: summed over the rounds, divided by their number.
 */
function childCpu() {
  const f = readFileSync('/proc/self/stat', 'utf8').slice(0, 4096)
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ')
  return (Number(rest[13]) + Number(rest[14])) * 10
}
const READ_BLOBS = `git diff-tree --stdin -r | awk '/^:/ { print $4 }' | git cat-file --batch > /dev/null`

export async function main(argv = process.argv.slice(2)) {
  const opt = (name, dflt) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : dflt }
  const writers = Number(opt('writers', 1000))
  const moved = Number(opt('moved', 100))
  const rounds = Number(opt('rounds', 5))
  const bin = path.resolve(opt('bin', BIN))
  const beforeBin = opt('before', null) && path.resolve(opt('before'))
  ensureBuilt()
  header(`writers: ${writers} writer refs, then ${moved} of them move`, `${rounds} rounds after one warm-up, interleaved with raw git`)
  const tmp = workspace('lab-bench-writers-')
  const env = labEnv(path.join(tmp, 'home'))
  const dir = makeLabRepo(path.join(tmp, 'lab'), env)
  // Two experiments per writer, one commit each: every writer's log is a tree of its own.
  const { writers: ids } = await generate({ cwd: dir, env, count: 2 * writers, writers, batch: 2, tmp })
  const labDir = path.join(dir, '.git', 'lab')
  const read = () => run(bin, ['idea', 'list', '--json'], { cwd: dir, env })
  const fresh = () => rmSync(labDir, { recursive: true, force: true })
  const rawBuild = `git for-each-ref --format='${EMPTY_TREE} %(tree)' refs/lab/w/ | ${READ_BLOBS}`

  const t = { build: [], rawBuild: [], refresh: [], rawRefresh: [], unchanged: [], beforeBuild: [], beforeRefresh: [], beforeUnchanged: [] }
  const cpu = {}
  let counting = false
  const timeRun = (cmd, args, o, label) => {
    const c0 = childCpu()
    const ms = timeRun0(cmd, args, o)
    if (counting) cpu[label] = (cpu[label] ?? 0) + childCpu() - c0
    return ms
  }
  const timeBefore = () => { fresh(); return timeRun(beforeBin, ['idea', 'list', '--json'], { cwd: dir, env }, 'beforeBuild') }
  for (let round = 0; round <= rounds; round++) {
    fresh()
    counting = round > 0
    let a, b, p
    if (round % 2) { b = timeRun('sh', ['-c', rawBuild], { cwd: dir, env }, 'rawBuild'); if (beforeBin) p = timeBefore(); fresh(); a = timeRun(bin, ['idea', 'list', '--json'], { cwd: dir, env }, 'build') }
    else { a = timeRun(bin, ['idea', 'list', '--json'], { cwd: dir, env }, 'build'); if (beforeBin) p = timeBefore(); b = timeRun('sh', ['-c', rawBuild], { cwd: dir, env }, 'rawBuild') }
    console.log(`build round ${round}${round === 0 ? ' (warm-up)' : ''}: git lab ${ms(a)}, raw git ${ms(b)}${beforeBin ? `, before ${ms(p)}` : ''}`)
    if (round) { t.build.push(a); t.rawBuild.push(b); if (beforeBin) t.beforeBuild.push(p) }
  }
  const seen = JSON.parse(run(bin, ['log', '--json', '--limit', '0'], { cwd: dir, env })).length
  if (seen !== 2 * writers) throw new Error(`the index holds ${seen} experiments, expected ${2 * writers}`)

  // The index as built, and the trees before the move: each round refreshes from the same point.
  read()
  const saved = path.join(tmp, 'lab-index')
  cpSync(labDir, saved, { recursive: true })
  const before = path.join(tmp, 'trees-before')
  writeFileSync(before, git(dir, env, 'for-each-ref', '--format=%(tree)', 'refs/lab/w/'))
  await generate({ cwd: dir, env, count: moved, batch: 1, tmp, ids: ids.slice(0, moved), offset: 2 * writers })
  const rawRefresh = `git for-each-ref --format='%(tree)' refs/lab/w/ | paste -d ' ' ${before} - | awk '$1 != $2' | ${READ_BLOBS}`
  if (sh(dir, env, `git for-each-ref --format='%(tree)' refs/lab/w/ | paste -d ' ' ${before} - | awk '$1 != $2' | wc -l`).trim() !== String(moved)) {
    throw new Error(`expected ${moved} moved writers`)
  }
  const restore = () => {
    rmSync(labDir, { recursive: true, force: true })
    cpSync(saved, labDir, { recursive: true })
  }
  // The older build's refresh and unchanged look, from the same saved index (its own index is the same version).
  const refreshBefore = () => {
    restore()
    const p = timeRun(beforeBin, ['idea', 'list', '--json'], { cwd: dir, env }, 'beforeRefresh')
    return [p, timeRun(beforeBin, ['idea', 'list', '--json'], { cwd: dir, env }, 'beforeUnchanged')]
  }
  for (let round = 0; round <= rounds; round++) {
    let a, b, c, p = [0, 0]
    counting = round > 0
    if (beforeBin && round % 2) p = refreshBefore()
    restore()
    if (round % 2) { b = timeRun('sh', ['-c', rawRefresh], { cwd: dir, env }, 'rawRefresh'); a = timeRun(bin, ['idea', 'list', '--json'], { cwd: dir, env }, 'refresh') }
    else { a = timeRun(bin, ['idea', 'list', '--json'], { cwd: dir, env }, 'refresh'); b = timeRun('sh', ['-c', rawRefresh], { cwd: dir, env }, 'rawRefresh') }
    // The same command once the index is up to date: what every command costs before it reads anything.
    c = timeRun(bin, ['idea', 'list', '--json'], { cwd: dir, env }, 'unchanged')
    if (beforeBin && !(round % 2)) p = refreshBefore()
    console.log(`refresh round ${round}${round === 0 ? ' (warm-up)' : ''}: git lab ${ms(a)} (unchanged: ${ms(c)}), raw git ${ms(b)}${beforeBin ? `, before ${ms(p[0])} (unchanged: ${ms(p[1])})` : ''}`)
    if (round) { t.refresh.push(a); t.rawRefresh.push(b); t.unchanged.push(c); if (beforeBin) { t.beforeRefresh.push(p[0]); t.beforeUnchanged.push(p[1]) } }
  }
  counting = false
  restore()
  run(bin, ['idea', 'list', '--json'], { cwd: dir, env })
  const seenAfter0 = JSON.parse(run(bin, ['log', '--json', '--limit', '0'], { cwd: dir, env })).length
  if (seenAfter0 !== 2 * writers + moved) throw new Error(`the index holds ${seenAfter0} experiments, expected ${2 * writers + moved}`)

  // The same lab once git's housekeeping has packed it: git fetch runs gc --auto, and git lab starts `git maintenance
  // run --auto` past 50 packs (src/lab/housekeeping.ts). Above, every writer's commit is a pack of its own (as a
  // thousand fast-imports leave them) and raw git pays a lookup in ~1,000 pack indexes per object; packed, raw git's
  // whole work takes less than node's own start (`node -e 0`, timed in the same rounds).
  const packed = !argv.includes('--no-packed')
  if (packed) {
    git(dir, env, 'repack', '-adq')
    for (const k of ['pBuild', 'pRawBuild', 'pRefresh', 'pRawRefresh', 'node']) t[k] = []
    for (let round = 0; round <= rounds; round++) {
      fresh()
      const a = timeRun(bin, ['idea', 'list', '--json'], { cwd: dir, env }, 'pBuild')
      const b = timeRun('sh', ['-c', rawBuild], { cwd: dir, env }, 'pRawBuild')
      restore()
      const c = timeRun(bin, ['idea', 'list', '--json'], { cwd: dir, env }, 'pRefresh')
      const d = timeRun('sh', ['-c', rawRefresh], { cwd: dir, env }, 'pRawRefresh')
      const n = timeRun(process.execPath, ['-e', '0'], { cwd: dir, env }, 'node')
      console.log(`packed round ${round}${round === 0 ? ' (warm-up)' : ''}: build ${ms(a)}, raw git ${ms(b)}; refresh ${ms(c)}, raw git ${ms(d)}; node -e 0 ${ms(n)}`)
      if (round) { t.pBuild.push(a); t.pRawBuild.push(b); t.pRefresh.push(c); t.pRawRefresh.push(d); t.node.push(n) }
    }
  }
  const seenAfter = JSON.parse(run(bin, ['log', '--json', '--limit', '0'], { cwd: dir, env })).length
  if (seenAfter !== 2 * writers + moved) throw new Error(`the index holds ${seenAfter} experiments, expected ${2 * writers + moved}`)

  const s = Object.fromEntries(Object.entries(t).filter(([, v]) => v.length).map(([k, v]) => [k, summary(v)]))
  const rb = s.build.median / s.rawBuild.median
  const rr = s.refresh.median / s.rawRefresh.median
  table(`${writers} writers (median of ${rounds} rounds)`, [
    ['git lab idea list: first build of the index', s.build, `ratio ${ratio(s.build.median, s.rawBuild.median)}`],
    ['raw git: for-each-ref | diff-tree --stdin | cat-file --batch', s.rawBuild],
    [`git lab idea list: refresh after ${moved} writers moved`, s.refresh, `ratio ${ratio(s.refresh.median, s.rawRefresh.median)}`],
    ['raw git: the same for the moved pairs', s.rawRefresh],
    ['git lab idea list: nothing changed', s.unchanged, `refresh adds ${ms(s.refresh.median - s.unchanged.median)}: ${ratio(s.refresh.median - s.unchanged.median, s.rawRefresh.median)} raw git`],
    ...(packed ? [
      ['packed: first build', s.pBuild, `ratio ${ratio(s.pBuild.median, s.pRawBuild.median)}`],
      ['packed: raw git build', s.pRawBuild, `${ratio(s.pRawBuild.median, s.node.median)} node -e 0`],
      [`packed: refresh after ${moved} moved`, s.pRefresh, `ratio ${ratio(s.pRefresh.median, s.pRawRefresh.median)}`],
      ['packed: raw git refresh', s.pRawRefresh, `${ratio(s.pRawRefresh.median, s.node.median)} node -e 0`],
      ['node -e 0', s.node],
    ] : []),
    ...(beforeBin ? [
      ['before: first build', s.beforeBuild, `ratio ${ratio(s.beforeBuild.median, s.rawBuild.median)}`],
      [`before: refresh after ${moved} writers moved`, s.beforeRefresh, `ratio ${ratio(s.beforeRefresh.median, s.rawRefresh.median)}`],
      ['before: nothing changed', s.beforeUnchanged],
    ] : []),
  ])
  const perRun = Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, v / rounds]))
  const cpuRow = k => perRun[k] === undefined ? [] : [[k, perRun[k], ['rawBuild', 'rawRefresh'].includes(k) || k.startsWith('raw') ? ''
    : `ratio ${ratio(perRun[k], perRun[/uild$/i.test(k) ? 'rawBuild' : 'rawRefresh'])}`]]
  table('CPU per run, git included (user + system, mean)', ['build', 'rawBuild', 'beforeBuild', 'refresh', 'rawRefresh', 'beforeRefresh', 'unchanged', 'beforeUnchanged'].flatMap(cpuRow))
  console.log()
  const goals = [
    verdict(`first build of ${writers} writers vs raw git`, rb, 2, 'x'),
    verdict(`refresh after ${moved} of ${writers} writers moved vs raw git`, rr, 2, 'x'),
  ]
  if (packed) {
    const floor = (raw) => `2x raw git is ${ms(2 * raw)}; node -e 0 alone takes ${ms(s.node.median)}`
    console.log(`packed: first build ${ratio(s.pBuild.median, s.pRawBuild.median)} raw git (${floor(s.pRawBuild.median)})`)
    console.log(`packed: refresh ${ratio(s.pRefresh.median, s.pRawRefresh.median)} raw git (${floor(s.pRawRefresh.median)})`)
  }
  const result = { writers, moved, rounds, times: s, cpu: perRun, goals }
  emit('writers', result)
  return result
}

if (isMain(import.meta.url)) await main()
