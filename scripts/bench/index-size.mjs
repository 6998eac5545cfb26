// The local index's size: `.git/lab` (du -sb) in a lab of 10,000 experiments after a few ordinary commands, against
// the packed size of the lab's objects after `git gc`; and the files nothing reads any more (shards and order files
// that index.json does not name, files of older layouts). --bin measures another build (e.g. the last commit's).
//
//   node scripts/bench/index-size.mjs [--count 10000] [--bin path/to/git-lab.js]
import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { BIN, emit, ensureBuilt, header, int, isMain, labEnv, run, verdict, workspace } from './lib.mjs'
import { generate, makeLabRepo } from './generate.mjs'

const du = dir => readdirSync(dir, { withFileTypes: true })
  .reduce((n, e) => n + (e.isDirectory() ? du(path.join(dir, e.name)) : statSync(path.join(dir, e.name)).size), 0)

export async function main(argv = process.argv.slice(2)) {
  const arg = name => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : undefined }
  const count = Number(arg('count') ?? 10000)
  const bin = path.resolve(arg('bin') ?? BIN)
  ensureBuilt()
  header(`index size: ${count} experiments`, bin === BIN ? '' : bin)
  const tmp = workspace('lab-bench-size-')
  const env = labEnv(path.join(tmp, 'home'))
  const dir = makeLabRepo(path.join(tmp, 'repo'), env)
  await generate({ cwd: dir, env, count, writers: 4, batch: 250, tmp, params: true })
  const opts = { cwd: dir, env }
  // What a day's use does to it: listings, a show, a few writes.
  run(bin, ['log'], opts)
  const id = JSON.parse(run(bin, ['log', '--json', '--limit', '1'], opts))[0].id
  run(bin, ['show', id], opts)
  for (let i = 0; i < 3; i++) run(bin, ['submit', '--no-code', '-m', `s${i}`, '--run', 'true'], opts)
  run(bin, ['note', id, 'a note'], opts)
  run(bin, ['log'], opts)
  run('git', ['gc', '-q'], opts)
  const labDir = path.join(dir, '.git', 'lab')
  const local = du(labDir)
  // The lab's objects: reachable from lab refs and not from branches or tags, their size in the pack.
  const objs = run('sh', ['-c', "git rev-list --objects $(git for-each-ref --format='%(refname)' refs/lab/) --not --branches --tags | cut -d' ' -f1 | git cat-file --batch-check='%(objectsize:disk)'"], opts)
  const packed = objs.split('\n').filter(Boolean).reduce((n, l) => n + Number(l), 0)
  const index = JSON.parse(readFileSync(path.join(labDir, 'index.json'), 'utf8'))
  const named = new Set([index.ops_file, index.state_file, ...Object.values(index.files ?? {}), index.order_file].filter(Boolean))
  const shardDir = path.join(labDir, 'e')
  const shards = (() => { try { return readdirSync(shardDir) } catch { return [] } })()
  const stale = [
    ...readdirSync(labDir).filter(n => /^(state-.*\.json|ops-.*\.jsonl)$/.test(n) && !named.has(n)),
    ...shards.filter(n => !named.has(n)),
  ]
  console.log(`\n.git/lab: ${int(local)} bytes in ${readdirSync(labDir).length} files and ${shards.length} shard files`)
  for (const n of readdirSync(labDir).sort()) console.log(`  ${n.padEnd(28)} ${int(statSync(path.join(labDir, n)).isDirectory() ? du(path.join(labDir, n)) : statSync(path.join(labDir, n)).size).padStart(12)}`)
  console.log(`lab objects packed (after git gc): ${int(packed)} bytes; stale files: ${stale.length ? stale.join(', ') : 'none'}\n`)
  const goals = [
    verdict('.git/lab vs the lab\'s packed objects', local / packed, 5, 'x'),
    verdict('files that nothing reads any more', stale.length, 0, 'files'),
  ]
  const result = { count, local, packed, stale, goals }
  emit('index-size', result)
  return result
}

if (isMain(import.meta.url)) await main()
