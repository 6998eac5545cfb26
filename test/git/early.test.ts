// Git queries started early (src/git/early.ts): an answer is taken once, for the same question only, and never after
// this process may have changed the repository; the binary started from a subdirectory gives what it gave without.
import t from 'tap'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { BIN, labEnv, makeRepo, tempDir, type TestRepo } from '../helpers.ts'
import { dropEarly, EARLY_MS, PATHSPEC_VARS, startEarly } from '../../src/git/early.ts'
import { HEAD_ARGS, refsArgs, repoArgs, untrackedArgs } from '../../src/git/queries.ts'
import { runGit, gitText } from '../../src/git/run.ts'
import { Repo } from '../../src/git/repo.ts'
import { earlyQueries } from '../../src/lab/prefetch.ts'

const REFS = refsArgs(['refs/lab/'])
const raw = (r: TestRepo, ...args: string[]) => execFileSync('git', args, { cwd: r.dir, env: r.env, encoding: 'utf8' }).trim()
const listing = (r: TestRepo, env = r.env) => gitText(REFS, { cwd: r.dir, env })

/** A repo with a commit and one lab ref; `mark` makes another ref behind this process's back (not through runGit). */
function repoWithRef(t: { teardown(fn: () => void): void }) {
  const r = makeRepo(t)
  writeFileSync(path.join(r.dir, 'a.txt'), 'a\n')
  r.git('add', 'a.txt')
  r.git('commit', '-q', '-m', 'a')
  const head = raw(r, 'rev-parse', 'HEAD')
  r.git('update-ref', 'refs/lab/one', head)
  return { r, head, mark: (name: string) => r.git('update-ref', `refs/lab/${name}`, head) }
}

t.test('an early answer is taken once, for the same arguments, directory and environment', async t => {
  const { r, mark } = repoWithRef(t)
  t.teardown(dropEarly)
  startEarly([{ args: REFS }], r.dir, r.env)
  await new Promise(res => setTimeout(res, 300)) // (it has answered)
  mark('two')
  t.match(await listing(r, { ...r.env }), /refs\/lab\/two/, 'another environment: not taken, asked afresh')
  t.match(await gitText(REFS, { cwd: path.join(r.dir, '.git'), env: r.env }), /refs\/lab\/two/, 'another directory: not taken')
  const early = await listing(r)
  t.match(early, /refs\/lab\/one/)
  t.notMatch(early, /refs\/lab\/two/, 'the same question: the answer from before the ref was made')
  t.match(await listing(r), /refs\/lab\/two/, 'taken once: the next one is asked afresh')
})

t.test('a command that may write drops the answers not taken yet; reads do not', async t => {
  const { r, head, mark } = repoWithRef(t)
  t.teardown(dropEarly)
  startEarly([{ args: REFS }, { args: ['rev-parse', 'HEAD'] }], r.dir, r.env)
  await new Promise(res => setTimeout(res, 300))
  mark('two')
  await runGit(['cat-file', '-t', head], { cwd: r.dir, env: r.env })
  await runGit(['config', '--get-regexp', '^user\\.'], { cwd: r.dir, env: r.env, ok: [1] })
  t.equal((await gitText(['rev-parse', 'HEAD'], { cwd: r.dir, env: r.env })).trim(), head, 'still taken after reads')
  await runGit(['update-ref', 'refs/lab/three', head], { cwd: r.dir, env: r.env })
  const after = await listing(r)
  t.match(after, /refs\/lab\/two/, 'after an update-ref: asked afresh')
  t.match(after, /refs\/lab\/three/)

  startEarly([{ args: REFS }], r.dir, r.env)
  await new Promise(res => setTimeout(res, 300))
  mark('four')
  await runGit(['-c', 'core.quotepath=off', 'fetch', '--quiet', r.dir, 'refs/lab/one:refs/lab/fetched'], { cwd: r.dir, env: r.env })
  t.match(await listing(r), /refs\/lab\/fetched/, 'after a fetch (given -c first): asked afresh')

  startEarly([{ args: REFS }], r.dir, r.env)
  await new Promise(res => setTimeout(res, 300))
  await runGit(['config', '--local', 'lab.x', 'y'], { cwd: r.dir, env: r.env })
  mark('five')
  t.match(await listing(r), /refs\/lab\/five/, 'a config write drops them too')
})

t.test('an answer older than EARLY_MS is asked again', async t => {
  const { r, mark } = repoWithRef(t)
  t.teardown(dropEarly)
  startEarly([{ args: REFS }], r.dir, r.env)
  await new Promise(res => setTimeout(res, 300))
  mark('two')
  const now = performance.now.bind(performance)
  performance.now = () => now() + EARLY_MS + 1
  t.teardown(() => { performance.now = now })
  t.match(await listing(r), /refs\/lab\/two/)
})

t.test('a failed early query fails as the same query run then: not a repository', async t => {
  const nowhere = tempDir(t)
  const env = labEnv(nowhere)
  t.teardown(dropEarly)
  startEarly([{ args: repoArgs(true) }, { args: repoArgs(false) }], nowhere, env)
  await t.rejects(Repo.open(nowhere, env), { code: 'NotARepo' })
  // (git not found by the early sh either: not taken, and the same error as a spawn now)
  const noGit = { ...env, PATH: '/nonexistent' }
  startEarly([{ args: ['rev-parse', '--absolute-git-dir'] }], nowhere, noGit)
  await t.rejects(runGit(['rev-parse', '--absolute-git-dir'], { cwd: nowhere, env: noGit }), { message: /git is not installed or not on PATH/ })
})

t.test('which commands start what early', async t => {
  const args = (argv: string[]) => earlyQueries(argv).map(q => q.args[0])
  t.same(args(['log']), ['rev-parse', 'config', 'for-each-ref', 'rev-parse'])
  t.same(args(['show', 'x']), ['rev-parse', 'config', 'for-each-ref'])
  t.same(args(['submit', '-m', 'x', '--run', 'y']), ['rev-parse', 'config', 'ls-files', 'for-each-ref', 'rev-parse'])
  t.same(earlyQueries(['submit'])[4].args, HEAD_ARGS)
  t.same(args(['submit', '--no-code', '-m', 'x', '--run', 'y']), ['rev-parse', 'config', 'for-each-ref', 'rev-parse'])
  t.same(args(['hook', 'post-checkout', 'a', 'b', '1']), ['rev-parse', 'config', 'for-each-ref'])
  t.same(args(['hook', 'commit-msg', 'f']), ['rev-parse', 'config'])
  t.same(args(['log', '--help']), [], 'help reads no repository')
  t.same(args(['init']), [])
  t.same(args([]), [])
  const ls = earlyQueries(['submit']).find(q => q.args[0] === 'ls-files')!
  t.same(ls.unset, PATHSPEC_VARS, 'the secret scan runs without pathspec settings, as the snapshot does')
  t.same(ls.args, untrackedArgs(ls.args.slice(ls.args.indexOf('--') + 1).map(g => g.replace(/^:\(top,glob\)/, ''))))
})

t.test('the binary from a subdirectory: the same experiment, secrets and listing with early queries as without', async t => {
  const r = makeRepo(t)
  execFileSync(BIN, ['init'], { cwd: r.dir, env: r.env })
  writeFileSync(path.join(r.dir, 'train.py'), 'print(1)\n')
  mkdirSync(path.join(r.dir, 'sub', 'deep'), { recursive: true })
  writeFileSync(path.join(r.dir, '.env'), 'TOKEN=1\n')
  writeFileSync(path.join(r.dir, 'sub', 'deep', 'id_rsa'), 'key\n')
  writeFileSync(path.join(r.dir, 'sub', 'new.py'), 'x = 1\n')
  const sub = path.join(r.dir, 'sub')
  const stderr: string[] = []
  const run = (env: NodeJS.ProcessEnv) => {
    const p = spawnSync(BIN, ['submit', '-m', 'try', '--run', 'python train.py', '--json'], { cwd: sub, env, encoding: 'utf8' })
    t.equal(p.status, 0, p.stderr)
    stderr.push(p.stderr)
    return JSON.parse(p.stdout)
  }
  const early = run(r.env)
  const plain = run({ ...r.env, LAB_EARLY: '0' })
  t.equal(stderr[0], stderr[1], 'the same warning')
  t.match(stderr[0], /left out of the snapshot \(look like secrets\): \.\.\/\.env, deep\/id_rsa;/)
  t.equal(raw(r, 'rev-parse', `${early.commit}^{tree}`), raw(r, 'rev-parse', `${plain.commit}^{tree}`), 'the same snapshot')
  const files = raw(r, 'ls-tree', '-r', '--name-only', early.commit).split('\n')
  t.same(files.sort(), ['sub/new.py', 'train.py'])
  const log = (env: NodeJS.ProcessEnv) => JSON.parse(execFileSync(BIN, ['log', '--json'], { cwd: sub, env, encoding: 'utf8' }))
  t.same(log(r.env).map((e: { id: string }) => e.id), log({ ...r.env, LAB_EARLY: '0' }).map((e: { id: string }) => e.id))
  t.equal(log(r.env).length, 2)
  t.equal(readFileSync(path.join(r.dir, '.env'), 'utf8'), 'TOKEN=1\n')
})

