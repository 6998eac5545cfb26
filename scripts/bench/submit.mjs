// `git lab submit -m x --run y` (the built CLI) in a repo of 2,000 files with local changes (20 tracked files
// modified, 5 untracked files added), against raw git doing `git stash create` + `git update-ref`.
// Then the same in a lab that already holds 10,000 experiments (--big 0 skips that part). Also timed alongside:
// `node -e 0`, so that submit's own cost is shown: what it takes beyond starting node plus raw git's work.
//
//   node scripts/bench/submit.mjs [--runs 15] [--big 10000]
import { mkdirSync, writeFileSync, copyFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { BIN, emit, ensureBuilt, git, header, interleave, isMain, lab, labEnv, makeRepo, ms, ratio, run, table, timeRun, verdict, workspace } from './lib.mjs'
import { generate } from './generate.mjs'

const FOLDERS = 40
const PER_FOLDER = 50

function line(i, j) { return `value_${i}_${j} = ${(i * 31 + j * 17) % 1000} # some configuration or code line\n` }

/** 2,000 small text files in 40 folders, committed; then 20 tracked files modified and 5 untracked added. */
export function makeCodeRepo(dir, env) {
  makeRepo(dir, env)
  for (let f = 0; f < FOLDERS; f++) {
    const sub = path.join(dir, `pkg${f}`, f % 2 ? 'models' : 'data')
    mkdirSync(sub, { recursive: true })
    for (let i = 0; i < PER_FOLDER; i++) {
      let text = ''
      for (let j = 0; j < 5 + ((f * PER_FOLDER + i) % 40); j++) text += line(i, j)
      writeFileSync(path.join(sub, `mod_${i}.py`), text)
    }
  }
  writeFileSync(path.join(dir, '.gitignore'), '*.ckpt\n__pycache__/\n')
  git(dir, env, 'add', '-A')
  git(dir, env, 'commit', '-q', '-m', 'code')
  for (let k = 0; k < 20; k++) {
    const f = (k * 7) % FOLDERS
    writeFileSync(path.join(dir, `pkg${f}`, f % 2 ? 'models' : 'data', `mod_${(k * 13) % PER_FOLDER}.py`), `# changed ${k}\n` + line(k, k).repeat(10))
  }
  for (let k = 0; k < 5; k++) writeFileSync(path.join(dir, `pkg${k}`, `new_${k}.py`), line(k, 99).repeat(20))
  writeFileSync(path.join(dir, 'model.ckpt'), 'ignored, never snapshotted\n')
  return dir
}

/** Raw git doing what a snapshot needs, in the same number of steps: temp index, add -A, write-tree, commit-tree, update-ref. */
function rawSnapshot(dir, env, i) {
  const gitDir = path.join(dir, '.git')
  const tmpIndex = path.join(gitDir, 'bench-index')
  const t0 = performance.now()
  copyFileSync(path.join(gitDir, 'index'), tmpIndex)
  const ienv = { ...env, GIT_INDEX_FILE: tmpIndex }
  run('git', ['add', '-A', '--', '.'], { cwd: dir, env: ienv })
  const tree = run('git', ['write-tree'], { cwd: dir, env: ienv }).trim()
  const commit = run('git', ['commit-tree', tree, '-p', 'HEAD', '-m', `snapshot ${i}`], { cwd: dir, env }).trim()
  run('git', ['update-ref', `refs/bench/snap${i}`, commit], { cwd: dir, env })
  rmSync(tmpIndex)
  return performance.now() - t0
}

function stashCreate(dir, env, i) {
  const t0 = performance.now()
  const sha = run('git', ['stash', 'create'], { cwd: dir, env }).trim()
  if (!sha) throw new Error('git stash create made nothing: no local changes?')
  run('git', ['update-ref', `refs/bench/x${i}`, sha], { cwd: dir, env })
  return performance.now() - t0
}

async function measure(dir, env, runs) {
  return interleave([
    { name: 'lab', fn: () => timeRun(BIN, ['submit', '-m', 'x', '--run', 'y'], { cwd: dir, env }) },
    { name: 'stash', fn: i => stashCreate(dir, env, i) },
    { name: 'raw', fn: i => rawSnapshot(dir, env, i) },
    { name: 'node', fn: () => timeRun(process.execPath, ['-e', '0'], { cwd: dir, env }) },
  ], runs, 1)
}

export async function main(argv = process.argv.slice(2)) {
  const opt = (name, dflt) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? Number(argv[i + 1]) : dflt }
  const runs = opt('runs', 15)
  const big = opt('big', 10000)
  ensureBuilt()
  header('submit: 2,000-file repo, 20 modified + 5 untracked files', `median of ${runs}`)
  const tmp = workspace('lab-bench-submit-')
  const env = labEnv(path.join(tmp, 'home'))
  const dir = makeCodeRepo(path.join(tmp, 'repo'), env)
  lab(dir, env, 'init')
  const statusBefore = git(dir, env, 'status', '--porcelain')
  const files = git(dir, env, 'ls-files').split('\n').filter(Boolean).length
  console.log(`${files} tracked files, ${statusBefore.split('\n').filter(Boolean).length} changed or untracked paths`)

  const small = await measure(dir, env, runs)
  if (git(dir, env, 'status', '--porcelain') !== statusBefore) throw new Error('submit changed the worktree or index')
  const n = JSON.parse(lab(dir, env, 'log', '--json', '--limit', '0')).length
  if (n !== runs + 1) throw new Error(`expected ${runs + 1} experiments, found ${n}`)
  const rows = s => [
    ['git lab submit -m x --run y', s.lab],
    ['raw git: stash create + update-ref', s.stash, `ratio ${ratio(s.lab.median, s.stash.median)}`],
    ['raw git: temp index add -A + write-tree + commit-tree + update-ref', s.raw, `ratio ${ratio(s.lab.median, s.raw.median)}`],
    ['node -e 0', s.node],
  ]
  const beyond = s => s.lab.median - s.node.median - s.stash.median
  table(`fresh lab (median of ${runs})`, rows(small))
  console.log(`  submit beyond node -e 0 + stash create + update-ref: ${ms(beyond(small))}`)

  let large = null
  if (big > 0) {
    const gen = await generate({ cwd: dir, env, count: big, writers: 1, batch: 500, tmp })
    console.log(`\nadded ${big} experiments in ${ms(gen.ms)}`)
    large = await measure(dir, env, runs)
    table(`lab already holding ${big} experiments (median of ${runs})`, rows(large))
    console.log(`  submit beyond node -e 0 + stash create + update-ref: ${ms(beyond(large))}`)
  }
  console.log()
  const goals = [
    verdict('submit vs stash create + update-ref', small.lab.median / small.stash.median, 2, 'x'),
    verdict('submit beyond node -e 0 + stash create + update-ref', beyond(small), 40),
  ]
  if (large) goals.push(verdict(`extra: the same with ${big} experiments already in the lab`, large.lab.median / large.stash.median, 2, 'x'))
  const result = { files, runs, small, large, big, goals }
  emit('submit', result)
  return result
}

if (isMain(import.meta.url)) await main()
