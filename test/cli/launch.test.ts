// The binary's launcher (src/cli/launch.ts): `--version` without the bundle, the bundle run from V8's code cache.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { BIN, makeRepo } from '../helpers.ts'

const run = (bin: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) => {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, env, encoding: 'utf8' })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

t.test('--version and -v alone are answered by the launcher as main answers them; anything more goes to main', async t => {
  const r = makeRepo(t)
  // the bundle alone (bin.ts, its entry) answers through main.ts
  const cli = path.join(path.dirname(BIN), 'git-lab-cli.js')
  const want = run(cli, ['--version'], r.dir, r.env).out
  t.match(want, /^git lab version \d+\.\d+\.\d+\n$/)
  t.equal(run(BIN, ['--version'], r.dir, r.env).out, want)
  t.equal(run(BIN, ['-v'], r.dir, r.env).out, want)
  t.equal(run(BIN, ['--version', '--help'], r.dir, r.env).out, run(cli, ['--version', '--help'], r.dir, r.env).out)
  const bad = run(BIN, ['--version', '--nope'], r.dir, r.env)
  t.equal(bad.code, 2, 'an unknown option next to --version is refused by the full parser')
})

t.test('the bundle runs the same from no cache, its own cache, and a corrupt one (rejected, then written again)', async t => {
  const r = makeRepo(t)
  const dir = t.testdir({})
  for (const f of ['git-lab.js', 'git-lab-cli.js', 'package.json']) copyFileSync(path.join(path.dirname(BIN), f), path.join(dir, f))
  const bin = path.join(dir, 'git-lab.js')
  const caches = () => readdirSync(dir).filter(f => f.endsWith('.cache'))
  const first = run(bin, ['help'], r.dir, r.env)
  t.equal(first.code, 0)
  t.equal(caches().length, 1, 'the first run writes the cache beside the bundle')
  const cache = path.join(dir, caches()[0])
  t.same(run(bin, ['help'], r.dir, r.env), first, 'from the cache')
  writeFileSync(cache, Buffer.alloc(4096, 7))
  t.same(run(bin, ['help'], r.dir, r.env), first, 'a corrupt cache is not used')
  t.not(readFileSync(cache).subarray(0, 64).toString('hex'), Buffer.alloc(64, 7).toString('hex'), 'and is replaced')
  t.same(readdirSync(dir).filter(f => !f.endsWith('.cache')).sort(), ['git-lab-cli.js', 'git-lab.js', 'package.json'], 'no temp file left')
})
