// Kinds of repositories: bare, a linked worktree, a submodule, detached HEAD, sha256. Each works end to end.
import t, { type Test } from 'tap'
import path from 'node:path'
import { makeRepo, lab, labJson, git, tempDir, labEnv, type TestRepo } from '../helpers.ts'

/** Submits and runs one experiment here, as a user would; returns it as recorded. */
async function roundTrip(t: Test, r: { dir: string; env: NodeJS.ProcessEnv }, extra: string[] = []) {
  const e = await labJson(r, ['submit', '-m', 'here', '--run', 'git rev-parse --show-toplevel >/dev/null && echo ok', ...extra])
  const w = await lab(r, ['worker', '--once'])
  t.equal(w.code, 0, w.err)
  const done = await labJson(r, ['show', e.id])
  t.equal(done.status, 'succeeded', `${done.status} ${done.reason ?? ''}`)
  t.equal((await lab(r, ['logs', e.id])).out, 'ok\n')
  t.match((await labJson(r, ['log'])).map((x: { id: string }) => x.id), [e.id])
  return done
}

t.test('bare repository: records, and code from HEAD or --from (there is no working tree to snapshot)', async t => {
  const src = makeRepo(t)
  const dir = path.join(tempDir(t), 'bare.git')
  git(src.dir, ['clone', '-q', '--bare', src.dir, dir], src.env)
  const r = { dir, env: src.env }
  t.equal((await lab(r, ['init'])).code, 0)
  const head = git(dir, ['rev-parse', 'HEAD'], src.env).trim()
  const e = await roundTrip(t, r)
  t.match(e, { commit: head, base: head })
  t.match(await labJson(r, ['submit', '-m', 'x', '--run', 'y', '--from', 'main']), { commit: head })
  t.match(await labJson(r, ['submit', '-m', 'x', '--run', 'y', '--no-code']), { commit: null })
  t.match(await lab(r, ['checkout', e.id]), { code: 1, err: `git lab: this repository is bare: it has no working tree to check ${e.id}'s code out into\n` })
  const empty = path.join(tempDir(t), 'empty.git')
  git(src.dir, ['init', '-q', '--bare', empty], src.env)
  await lab({ dir: empty, env: src.env }, ['init'])
  t.match(await lab({ dir: empty, env: src.env }, ['submit', '-m', 'x', '--run', 'y']),
    { code: 1, err: 'git lab: this bare repository has no commit at HEAD to take the code from: give --from REV, or --no-code\n' })
})

t.test('linked worktree: the same lab as its main worktree, its own HEAD', async t => {
  const main = makeRepo(t)
  await lab(main, ['init'])
  const wt = path.join(tempDir(t), 'wt')
  main.git('worktree', 'add', '-q', '-b', 'side', wt)
  const r = { dir: wt, env: main.env }
  const e = await roundTrip(t, r)
  t.equal(e.commit, main.git('rev-parse', 'side').trim())
  t.match(await labJson(main, ['show', e.id]), { id: e.id, status: 'succeeded' })
})

t.test('submodule: a lab of its own, in the submodule', async t => {
  const sub = makeRepo(t)
  const sup = makeRepo(t, { home: sub.home })
  sup.git('-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', sub.dir, 'sub')
  const r = { dir: path.join(sup.dir, 'sub'), env: sup.env }
  git(r.dir, ['config', 'user.name', 'Ann'], r.env)
  git(r.dir, ['config', 'user.email', 'ann@example.com'], r.env)
  t.equal((await lab(r, ['init'])).code, 0)
  await roundTrip(t, r)
  t.equal(sup.git('for-each-ref', 'refs/lab/'), '', "the superproject's refs are untouched")
})

t.test('detached HEAD: the code is the detached commit', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  r.git('checkout', '-q', '--detach')
  const e = await roundTrip(t, r)
  t.equal(e.base, r.git('rev-parse', 'HEAD').trim())
  t.equal((await lab(r, ['run', '-m', 'd', '--run', 'true'])).code, 0)
})

t.test('sha256 repository', async t => {
  const home = tempDir(t, 'lab-home-')
  const env = labEnv(home)
  const dir = tempDir(t)
  git(dir, ['init', '-q', '--object-format=sha256', '-b', 'main'], env)
  const r: TestRepo = { dir, env, home, git: (...a) => git(dir, a, env) }
  r.git('config', 'user.name', 'Ann')
  r.git('config', 'user.email', 'ann@example.com')
  r.git('commit', '-q', '--allow-empty', '-m', 'initial')
  await lab(r, ['init'])
  const e = await roundTrip(t, r)
  t.match(e.commit, /^[0-9a-f]{64}$/)
  t.equal((await lab(r, ['fsck'])).code, 0)
})
