// Start-up cost: `git lab --version` (the built binary, run directly) against `git --version` and `node -e 0`,
// without NODE_EXTRA_CA_CERTS, and (when this machine sets it) with it, as a user with it set starts the tool.
//
//   node scripts/bench/version.mjs [--runs 20]
import path from 'node:path'
import { BIN, emit, ensureBuilt, header, interleave, isMain, labEnv, ratio, run, table, timeRun, verdict, workspace } from './lib.mjs'

export async function main(argv = process.argv.slice(2)) {
  const i = argv.indexOf('--runs')
  const runs = i >= 0 ? Number(argv[i + 1]) : 20
  ensureBuilt()
  header('version: start-up', `median of ${runs}`)
  const tmp = workspace('lab-bench-version-')
  const env = labEnv(path.join(tmp, 'home'))
  const version = run(BIN, ['--version'], { cwd: tmp, env }).trim()
  console.log(`git lab --version prints ${JSON.stringify(version)}`)
  const r = await interleave([
    { name: 'lab', fn: () => timeRun(BIN, ['--version'], { cwd: tmp, env }) },
    { name: 'git', fn: () => timeRun('git', ['--version'], { cwd: tmp, env }) },
    { name: 'node', fn: () => timeRun(process.execPath, ['-e', '0'], { cwd: tmp, env }) },
    { name: 'nodeCerts', fn: () => timeRun(process.execPath, ['-e', '0'], { cwd: tmp, env: { ...env, NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS ?? '' } }) },
    { name: 'labCerts', fn: () => timeRun(BIN, ['--version'], { cwd: tmp, env: { ...env, NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS ?? '' } }) },
  ], runs, 2)
  const rows = [
    ['git lab --version', r.lab],
    ['git --version', r.git, `ratio ${ratio(r.lab.median, r.git.median)}`],
    ['node -e 0', r.node, `ratio ${ratio(r.lab.median, r.node.median)}`],
  ]
  if (process.env.NODE_EXTRA_CA_CERTS) {
    rows.push([`git lab --version with NODE_EXTRA_CA_CERTS=${process.env.NODE_EXTRA_CA_CERTS}`, r.labCerts, `ratio ${ratio(r.labCerts.median, r.nodeCerts.median)} to node with it`])
    rows.push([`node -e 0 with NODE_EXTRA_CA_CERTS=${process.env.NODE_EXTRA_CA_CERTS}`, r.nodeCerts])
  }
  table(`start-up (median of ${runs})`, rows)
  console.log()
  const goals = [verdict('git lab --version', r.lab.median, 80), verdict('git lab --version vs node -e 0', r.lab.median / r.node.median, 1.15, 'x')]
  const result = { runs, times: r, goals }
  emit('version', result)
  return result
}

if (isMain(import.meta.url)) await main()
