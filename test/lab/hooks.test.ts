// git lab init and hooks: installed in .git/hooks (chaining one that was there); a hooks folder in the work tree
// (husky) is left exactly as it was, and the line init prints works when pasted into it.
import t from 'tap'
import { readFileSync, writeFileSync, existsSync, chmodSync, mkdirSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { makeRepo, lab, labJson, write, git, remoteAndOrigin, tempDir } from '../helpers.ts'
import { HOOKS } from '../../src/lab/hooks.ts'

const HUSKY = '#!/usr/bin/env sh\nset -e\necho "husky ran"\n'

t.test('core.hooksPath in the work tree: no file there changes; the line is printed and in --json', async t => {
  const r = makeRepo(t, { files: { 'train.py': 'a\n', '.husky/pre-push': HUSKY } })
  chmodSync(path.join(r.dir, '.husky/pre-push'), 0o755)
  r.git('add', '-A')
  r.git('commit', '-q', '-m', 'husky')
  r.git('config', 'core.hooksPath', '.husky')
  const res = await lab(r, ['init'])
  t.equal(res.code, 0, res.err)
  t.equal(r.git('status', '--porcelain', '--ignored', '-uall'), '', 'nothing added, edited or renamed')
  t.equal(readFileSync(path.join(r.dir, '.husky/pre-push'), 'utf8'), HUSKY, 'byte-identical')
  t.notOk(existsSync(path.join(r.dir, '.husky/pre-push.lab-chained')))
  t.match(res.out, /core\.hooksPath is in the work tree/)
  t.match(res.out, /add this line at the end of \.husky\/pre-push:\n {2}if command -v git-lab .*git lab hook pre-push "\$@" .*; fi\n/)
  const j = await labJson(r, ['init'])
  t.same(j.hooks, [])
  t.equal(j.hook_file, '.husky/pre-push')
  t.equal(j.hook_line_present, false)
  t.ok(res.out.includes(j.hook_line), 'the text names the same line')
  t.equal(r.git('status', '--porcelain', '--ignored', '-uall'), '')
  // husky 9: core.hooksPath is its generated .husky/_ (ignored), which runs .husky/pre-push: the line goes there
  mkdirSync(path.join(r.dir, '.husky/_'))
  for (const [f, text] of [['.gitignore', '*\n'], ['h', '#!/usr/bin/env sh\n'], ['pre-push', '. "$(dirname "$0")/h"\n']]) writeFileSync(path.join(r.dir, '.husky/_', f), text)
  r.git('config', 'core.hooksPath', '.husky/_')
  const h9 = await labJson(r, ['init'])
  t.same([h9.hooks, h9.hook_file], [[], '.husky/pre-push'])
  t.equal(readFileSync(path.join(r.dir, '.husky/_/pre-push'), 'utf8'), '. "$(dirname "$0")/h"\n')
  // a hooks folder in the work tree that does not exist yet is not created either
  const n = makeRepo(t)
  n.git('config', 'core.hooksPath', 'githooks')
  t.equal((await labJson(n, ['init'])).hook_file, 'githooks/pre-push')
  t.notOk(existsSync(path.join(n.dir, 'githooks')))
})

t.test('the printed line, pasted into a husky hook (sh -e), pushes lab records and never fails the push', async t => {
  const { remote, origin: r } = remoteAndOrigin(t)
  r.git('config', 'core.hooksPath', '.husky')
  const init = await labJson(r, ['init'])
  write(r, '.husky/pre-push', `${HUSKY}${init.hook_line}\n`)
  chmodSync(path.join(r.dir, '.husky/pre-push'), 0o755)
  r.git('add', '-A')
  r.git('commit', '-q', '-m', 'lab line in the hook')
  t.equal((await labJson(r, ['init'])).hook_line_present, true)
  t.match((await lab(r, ['init'])).out, /\.husky\/pre-push already calls git lab/)
  await labJson(r, ['submit', '-m', 'x', '--run', 'true'])
  const writer = r.git('config', 'lab.writer').trim()
  execFileSync('git', ['push', '-q', 'origin', 'main'], { cwd: r.dir, env: r.env, stdio: 'ignore' })
  t.equal(git(remote.dir, ['for-each-ref', '--format=%(refname)', 'refs/lab/w/'], remote.env).trim(), `refs/lab/w/${writer}`, 'the hook pushed the lab records')
  // without git-lab on PATH the line does nothing and the push goes on
  const bare = path.dirname(execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim())
  const noLab = { ...r.env, PATH: `${bare}:/usr/bin:/bin` }
  if (execFileSync('sh', ['-c', 'command -v git-lab || true'], { env: noLab, encoding: 'utf8' }).trim()) return t.comment('git-lab is installed system-wide: not tried without it')
  write(r, 'train.py', 'b\n')
  r.git('commit', '-q', '-am', 'more')
  execFileSync('git', ['push', '-q', 'origin', 'main'], { cwd: r.dir, env: noLab, stdio: 'ignore' })
  t.equal(git(remote.dir, ['rev-parse', 'main'], remote.env), r.git('rev-parse', 'HEAD'), 'the branch push went through')
})

t.test('hooks outside the work tree: installed as before, an existing hook chained', async t => {
  const r = makeRepo(t)
  writeFileSync(path.join(r.dir, '.git/hooks/pre-push'), '#!/bin/sh\necho mine\n', { mode: 0o755 })
  const first = await labJson(r, ['init'])
  t.same([first.hooks, first.chained, first.hook_line], [HOOKS, ['pre-push'], null])
  for (const h of HOOKS) t.match(readFileSync(path.join(r.dir, '.git/hooks', h), 'utf8'), /^#!\/bin\/sh\n# git-lab hook: /, `${h} installed`)
  t.match(readFileSync(path.join(r.dir, '.git/hooks/pre-push'), 'utf8'), /git lab hook pre-push/)
  t.equal(readFileSync(path.join(r.dir, '.git/hooks/pre-push.lab-chained'), 'utf8'), '#!/bin/sh\necho mine\n')
  t.match((await lab(r, ['init'])).out, new RegExp(`Hooks in .*\\.git\\/hooks: ${HOOKS.join(', ')}\n`))
  // core.hooksPath pointing outside the work tree (a shared folder), or into the git dir
  const shared = tempDir(t, 'lab-hooks-')
  const s = makeRepo(t)
  s.git('config', 'core.hooksPath', shared)
  t.same((await labJson(s, ['init'])).hooks, HOOKS)
  for (const h of HOOKS) t.ok(existsSync(path.join(shared, h)), h)
  const g = makeRepo(t)
  mkdirSync(path.join(g.dir, '.git/myhooks'))
  g.git('config', 'core.hooksPath', '.git/myhooks')
  t.same((await labJson(g, ['init'])).hooks, HOOKS)
  for (const h of HOOKS) t.ok(existsSync(path.join(g.dir, '.git/myhooks', h)), h)
})
