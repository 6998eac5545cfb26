// What git lab's hooks add to the git commands they run on, in a lab of 10,000 experiments: `git checkout` between
// two branches with no hooks, with an empty hook (what any hook costs), and with ours: the lab unchanged, changed only
// by this clone queueing an experiment, switched off, and a `git fetch` having brought an experiment another clone
// finished (git-lab starts, folds the new records into the index and prints its line: what post-merge does after a
// `git pull`); and `git commit` with no hooks and with ours (prepare-commit-msg, commit-msg and post-commit all run).
//
//   node scripts/bench/hooks.mjs [--count 10000] [--runs 15]
import { mkdirSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { BIN, emit, ensureBuilt, git, header, interleave, isMain, labEnv, lab as labCli, table, timeRun, verdict, workspace } from './lib.mjs'
import { generate, loadSrc, makeLabRepo } from './generate.mjs'

/** Wall time of one git command in ms; its stderr (the hook's line) is returned beside it. */
function timeGit(cwd, env, args) {
  const t0 = performance.now()
  const r = spawnSync('git', args, { cwd, env })
  const ms = performance.now() - t0
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed (${r.status}): ${r.stderr}`)
  return { ms, err: r.stderr.toString('utf8') }
}

/** Another clone's worker queues, claims, runs and finishes one experiment (one record commit of its writer). */
async function finishOne(lab, loss) {
  const id = randomBytes(6).toString('hex')
  const status = (s, extra = {}) => ({ type: 'experiment.status', entity: id, payload: { status: s, attempt: 1, ...extra } })
  await lab.write([
    { type: 'experiment.queue', entity: id, payload: { message: 'bench', run: 'true', setup: null, priority: 0, tags: [], gpus: 0, timeout: null, commit: null, base: null, idea: null, depends_on: [] } },
    status('claimed', { worker: 'bench', host: 'bench' }), status('running'), status('succeeded', { exit_code: 0, metrics: { loss } }),
  ], `bench: ${id} finished`)
  return id
}

export async function main(argv = process.argv.slice(2)) {
  const opt = (name, dflt) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? Number(argv[i + 1]) : dflt }
  const count = opt('count', 10000)
  const runs = opt('runs', 15)
  ensureBuilt()
  header('hooks: what they add to git commands', `${count} experiments, median of ${runs}`)
  const tmp = workspace('lab-bench-hooks-')
  const env = labEnv(path.join(tmp, 'home'))
  const dir = makeLabRepo(path.join(tmp, 'repo'), env)
  labCli(dir, env, 'init', '--objective', 'loss', '--minimize')
  await generate({ cwd: dir, env, count, writers: 4, tmp })
  git(dir, env, 'checkout', '-q', '-b', 'a')
  git(dir, env, 'checkout', '-q', '-b', 'b')
  writeFileSync(path.join(dir, 'b.txt'), 'b\n')
  git(dir, env, 'add', '-A')
  git(dir, env, 'commit', '-q', '-m', 'b')
  const empty = path.join(tmp, 'empty-hooks')
  mkdirSync(empty)
  writeFileSync(path.join(empty, 'post-checkout'), '#!/bin/sh\nexit 0\n', { mode: 0o755 })
  // The other clone, a lab remote of this one: what it records reaches this clone by `git fetch`, as from a pull.
  const other = path.join(tmp, 'other')
  git(tmp, env, 'clone', '-q', dir, other)
  git(other, env, 'config', 'user.name', 'Other')
  git(other, env, 'config', 'user.email', 'other@example.com')
  labCli(other, env, 'init')
  git(dir, env, 'remote', 'add', 'other', other)
  labCli(dir, env, 'init', '--remote', 'other')
  const { Lab } = await loadSrc(tmp)
  const lab = await Lab.open({ cwd: other, env })
  // The lab as it is now is what the hooks have seen: only what the cases change is news.
  timeGit(dir, env, ['checkout', '-q', 'a'])
  timeGit(dir, env, ['checkout', '-q', 'b'])
  let branch = 'a'
  const checkout = (pre = [], expect = null) => () => {
    const r = timeGit(dir, env, [...pre, 'checkout', '-q', branch])
    branch = branch === 'a' ? 'b' : 'a'
    if (expect && !expect.test(r.err)) throw new Error(`expected ${expect} from the hook, got ${JSON.stringify(r.err)}`)
    if (!expect && r.err) throw new Error(`expected no output, got ${JSON.stringify(r.err)}`)
    return r.ms
  }
  let loss = 1
  // The other clone's worker syncs before it claims, so its records sort after everything this clone wrote (the index
  // folds them onto its state)...
  const change = async () => {
    git(other, env, 'fetch', '-q', 'origin')
    await lab.state()
    await finishOne(lab, loss -= 0.001)
    git(dir, env, 'fetch', '-q', 'other')
  }
  // ...unless it did not see this clone's latest records: then its records sort before them and the index is folded
  // again from all its operations (what any git lab command after that fetch would pay).
  const changeOld = async () => {
    // (eight records: more than the other clone adds, so its next ones sort before them whatever the writer ids)
    labCli(dir, env, 'submit', '--no-code', '-m', 'meanwhile here', '--run', 'true', '--param', 'i=1,2,3,4,5,6,7,8')
    await finishOne(lab, loss -= 0.001)
    git(dir, env, 'fetch', '-q', 'other')
  }
  const r = await interleave([
    { name: 'none', fn: checkout(['-c', `core.hooksPath=${path.join(tmp, 'no-hooks')}`]) },
    { name: 'empty', fn: checkout(['-c', `core.hooksPath=${empty}`]) },
    { name: 'unchanged', fn: checkout() },
    // this clone queued an experiment: a record that cannot change the line, so the last look stays current
    { name: 'ownQueue', before: () => { labCli(dir, env, 'submit', '--no-code', '-m', 'queued', '--run', 'true') }, fn: checkout() },
    { name: 'offChanged', before: change, fn: checkout(['-c', 'lab.hook.post-checkout=false']) },
    // (it also sees the experiment the switched-off case's change finished, which that hook did not look at)
    { name: 'changed', before: change, fn: checkout([], /^git lab: (experiment [0-9a-f]{12} succeeded|2 experiments finished \(2 succeeded\)); new best loss 0\.\d+ \([0-9a-f]{12}\)\n$/) },
    { name: 'changedRefold', before: changeOld, fn: checkout([], /^git lab: experiment [0-9a-f]{12} succeeded; new best loss 0\.\d+ \([0-9a-f]{12}\)\n$/) },
    // for comparison: the first git lab command after the same fetch (then a look, untimed, so the next case starts even)
    { name: 'status', before: change, fn: () => { const ms = timeRun(BIN, ['status'], { cwd: dir, env }); checkout(undefined, /experiment/)(); return ms } },
    { name: 'commitNone', fn: () => timeGit(dir, env, ['-c', `core.hooksPath=${path.join(tmp, 'no-hooks')}`, 'commit', '-q', '--allow-empty', '-m', 'x']).ms },
    { name: 'commit', fn: () => timeGit(dir, env, ['commit', '-q', '--allow-empty', '-m', 'x']).ms },
  ], runs, 2)
  lab.close()
  const added = x => `+${(x.median - r.none.median).toFixed(1)} ms over no hooks`
  table(`git checkout (median of ${runs}; ${count} experiments)`, [
    ['no hooks', r.none],
    ['an empty post-checkout hook (`exit 0`)', r.empty, added(r.empty)],
    ['git lab hooks, lab unchanged', r.unchanged, added(r.unchanged)],
    ['git lab hooks, this clone queued an experiment', r.ownQueue, added(r.ownQueue)],
    ['git lab hooks switched off, lab changed', r.offChanged, added(r.offChanged)],
    ['git lab hooks, a fetch brought one finished experiment', r.changed, added(r.changed)],
    ['the same, its records sorting before this clone\'s latest (refold)', r.changedRefold, added(r.changedRefold)],
    ['for comparison: `git lab status` after such a fetch (no hooks involved)', r.status],
  ])
  table(`git commit --allow-empty (median of ${runs})`, [
    ['no hooks', r.commitNone],
    ['git lab hooks (no Lab-Run trailer)', r.commit, `+${(r.commit.median - r.commitNone.median).toFixed(1)} ms`],
  ])
  console.log()
  const goals = [
    verdict('post-checkout added when the lab changed', r.changed.median - r.none.median, 150),
    verdict('post-checkout added when the lab did not change', r.unchanged.median - r.none.median, 10),
  ]
  const result = { count, runs, times: r, goals }
  emit('hooks', result)
  return result
}

if (isMain(import.meta.url)) await main()
