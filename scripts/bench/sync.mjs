// `git lab sync` between two clones A and B of one bare remote: per round A records 1,000 new experiments
// (generator, 100 per writer commit), then A's sync (fetch + push + refresh) and B's sync (fetch + index refresh) are
// timed, against raw git moving the same refs between copies of the same repos made just before:
// `git push origin refs/lab/w/<A's writer>` from a copy of A, then `git fetch origin '+refs/lab/w/*:refs/lab/remotes/origin/w/*'`
// into a copy of B, both against a copy of the remote.
//
//   node scripts/bench/sync.mjs [--rounds 5] [--count 1000]
import { cpSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { BIN, emit, ensureBuilt, git, header, isMain, lab, labEnv, makeRepo, ms, ratio, run, summary, table, timeRun, workspace } from './lib.mjs'
import { generate } from './generate.mjs'

function clone(remote, dir, env) {
  git(path.dirname(dir), env, 'clone', '-q', remote, dir)
  git(dir, env, 'config', 'user.name', path.basename(dir))
  git(dir, env, 'config', 'user.email', `${path.basename(dir)}@example.com`)
  lab(dir, env, 'init')
  return dir
}

/** Copies a repository folder and points its origin at another remote. */
function copyRepo(from, to, env, remoteUrl) {
  cpSync(from, to, { recursive: true })
  if (remoteUrl) git(to, env, 'remote', 'set-url', 'origin', remoteUrl)
}

export async function main(argv = process.argv.slice(2)) {
  const opt = (name, dflt) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? Number(argv[i + 1]) : dflt }
  const rounds = opt('rounds', 5)
  const count = opt('count', 1000)
  ensureBuilt()
  header(`sync: ${count} new experiments per round`, `${rounds} rounds after one warm-up round`)
  const tmp = workspace('lab-bench-sync-')
  const env = labEnv(path.join(tmp, 'home'))
  const remote = makeRepo(path.join(tmp, 'remote.git'), env, { bare: true })
  const seed = makeRepo(path.join(tmp, 'seed'), env)
  writeFileSync(path.join(seed, 'train.py'), 'print("loss", 1.0)\n')
  git(seed, env, 'add', '-A')
  git(seed, env, 'commit', '-q', '-m', 'initial')
  git(seed, env, 'push', '-q', remote, 'main')
  const A = clone(remote, path.join(tmp, 'A'), env)
  const B = clone(remote, path.join(tmp, 'B'), env)
  const writerA = git(A, env, 'config', '--get', 'lab.writer').trim()
  const ref = `refs/lab/w/${writerA}`
  const raw = { remote: path.join(tmp, 'raw-remote.git'), A: path.join(tmp, 'raw-A'), B: path.join(tmp, 'raw-B') }

  const t = { labA: [], labB: [], lab: [], push: [], fetch: [], raw: [] }
  for (let round = 0; round <= rounds; round++) {
    await generate({ cwd: A, env, count, writers: 1, batch: 100, tmp, offset: round * count })
    for (const p of Object.values(raw)) rmSync(p, { recursive: true, force: true })
    copyRepo(remote, raw.remote, env)
    copyRepo(A, raw.A, env, raw.remote)
    copyRepo(B, raw.B, env, raw.remote)
    const doLab = () => {
      const a = timeRun(BIN, ['sync'], { cwd: A, env })
      const b = timeRun(BIN, ['sync'], { cwd: B, env })
      return [a, b]
    }
    const doRaw = () => {
      const p = timeRun('git', ['push', '-q', '--no-verify', 'origin', `${ref}:${ref}`], { cwd: raw.A, env })
      const f = timeRun('git', ['fetch', '-q', '--no-write-fetch-head', 'origin', '+refs/lab/w/*:refs/lab/remotes/origin/w/*'], { cwd: raw.B, env })
      return [p, f]
    }
    // Alternate which goes first, so that page cache and noise favour neither.
    let a, b, p, f
    if (round % 2) { [p, f] = doRaw(); [a, b] = doLab() } else { [a, b] = doLab(); [p, f] = doRaw() }
    const seen = JSON.parse(run(BIN, ['log', '--json', '--limit', '0'], { cwd: B, env })).length
    if (seen !== (round + 1) * count) throw new Error(`B sees ${seen} experiments after round ${round}, expected ${(round + 1) * count}`)
    if (git(raw.B, env, 'rev-parse', `refs/lab/remotes/origin/w/${writerA}`) !== git(A, env, 'rev-parse', ref)) throw new Error('raw fetch did not bring the same tip')
    console.log(`round ${round}${round === 0 ? ' (warm-up)' : ''}: lab A ${ms(a)} + B ${ms(b)} = ${ms(a + b)}; raw push ${ms(p)} + fetch ${ms(f)} = ${ms(p + f)}`)
    if (round === 0) continue
    t.labA.push(a); t.labB.push(b); t.lab.push(a + b); t.push.push(p); t.fetch.push(f); t.raw.push(p + f)
  }
  const s = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, summary(v)]))
  table(`${count} new experiments per round (median of ${rounds} rounds; B ends with ${(rounds + 1) * count})`, [
    ["A: git lab sync (fetch, push, refresh)", s.labA, `ratio ${ratio(s.labA.median, s.push.median)} vs raw push`],
    ["B: git lab sync (fetch, index refresh)", s.labB, `ratio ${ratio(s.labB.median, s.fetch.median)} vs raw fetch`],
    ['A + B', s.lab, `ratio ${ratio(s.lab.median, s.raw.median)}`],
    [`raw git: push origin ${ref}`, s.push],
    ["raw git: fetch origin '+refs/lab/w/*:refs/lab/remotes/origin/w/*'", s.fetch],
    ['raw git: push + fetch', s.raw],
  ])
  console.log()
  console.log(`sync A + B: ${ms(s.lab.median)}, ${ratio(s.lab.median, s.raw.median)} raw git push + fetch (no goal set)`)
  const goals = []
  const result = { rounds, count, times: s, goals }
  emit('sync', result)
  return result
}

if (isMain(import.meta.url)) await main()
