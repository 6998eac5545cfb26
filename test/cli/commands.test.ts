// The records commands as a user runs them: output, --json shapes, prefixes, and one-line errors.
import t from 'tap'
import { readFileSync, writeFileSync, existsSync } from 'node:fs'
import path from 'node:path'
import { makeRepo, lab, labJson, write } from '../helpers.ts'

t.test('init is idempotent, records the objective, installs hooks chaining an existing one', async t => {
  const r = makeRepo(t)
  writeFileSync(path.join(r.dir, '.git/hooks/pre-push'), '#!/bin/sh\necho mine\n', { mode: 0o755 })
  const first = await labJson(r, ['init', '--objective', 'val_loss', '--minimize'])
  t.equal(first.created, true)
  t.match(first.writer, /^[0-9a-f]{8}$/)
  t.same(first.chained, ['pre-push'])
  t.same(first.objective, { metric: 'val_loss', direction: 'minimize' })
  t.match(readFileSync(path.join(r.dir, '.git/hooks/pre-push'), 'utf8'), /git lab hook pre-push/)
  t.equal(readFileSync(path.join(r.dir, '.git/hooks/pre-push.lab-chained'), 'utf8'), '#!/bin/sh\necho mine\n')
  const again = await labJson(r, ['init'])
  t.equal(again.created, false)
  t.equal(again.writer, first.writer)
  t.same(again.chained, [])
  t.same(again.objective, first.objective)
  const text = await lab(r, ['init'])
  t.match(text.out, /Reinitialized git lab: writer [0-9a-f]{8}\nNo remote yet/)
  t.equal((await lab(r, ['init', '--objective', 'acc'])).code, 2)
  t.equal((await lab(r, ['init', '--minimize', '--maximize'])).code, 2)
  t.match((await lab(r, ['init', '--remote', 'nope'])).err, /no remote named "nope"/)
  // core.hooksPath is respected: a folder outside the work tree gets the hook; one inside is the project's, left alone
  const h = makeRepo(t)
  h.git('config', 'core.hooksPath', path.join(h.home, 'hooks'))
  await lab(h, ['init'])
  t.ok(existsSync(path.join(h.home, 'hooks/pre-push')))
  h.git('config', 'core.hooksPath', 'myhooks')
  t.match((await labJson(h, ['init'])).hook_line, /git lab hook pre-push/)
  t.notOk(existsSync(path.join(h.dir, 'myhooks/pre-push')))
})

t.test('submit snapshots without touching the worktree; log, show, diff, checkout', async t => {
  const r = makeRepo(t, { files: { 'train.py': 'lr = 1\n', '.gitignore': '*.env\n' } })
  await lab(r, ['init'])
  write(r, 'train.py', 'lr = 2\n')
  write(r, 'extra.py', 'x = 1\n')
  write(r, 'key.env', 'SECRET=1\n')
  const status = r.git('status', '--porcelain')
  const head = r.git('rev-parse', 'HEAD').trim()
  const idea = await labJson(r, ['idea', 'new', 'bigger lr', '--tag', 'lr'])
  const e = await labJson(r, ['submit', '-m', 'lr 2', '--run', 'python train.py', '--setup', 'pip install -r req.txt', '--idea', idea.id.slice(0, 5),
    '--priority', '5', '--tag', 'a', '--tag', 'b', '--gpus', '2', '--timeout', '1h30m'])
  t.equal(r.git('status', '--porcelain'), status, 'worktree and index untouched')
  t.equal(r.git('rev-parse', 'HEAD').trim(), head)
  t.equal(r.git('stash', 'list'), '')
  t.match(e, { status: 'queued', message: 'lr 2', run: 'python train.py', setup: 'pip install -r req.txt', base: head, idea: idea.id,
    priority: 5, tags: ['a', 'b'], depends_on: [], gpus: 2, timeout: 5400, attempt: 1, exit_code: null, metrics: {}, notes: [] })
  for (const k of ['id', 'status', 'message', 'run', 'setup', 'commit', 'base', 'idea', 'priority', 'tags', 'depends_on', 'gpus', 'author', 'writer',
    'created_at', 'started_at', 'finished_at', 'exit_code', 'reason', 'metrics', 'notes']) t.ok(k in e, `json has ${k}`)
  t.match(e.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  t.equal(r.git('rev-parse', `${e.commit}^`).trim(), head, 'snapshot parent is HEAD')
  t.equal(r.git('show', `${e.commit}:train.py`), 'lr = 2\n')
  t.equal(r.git('show', `${e.commit}:extra.py`), 'x = 1\n')
  t.throws(() => r.git('show', `${e.commit}:key.env`), 'ignored files stay out')
  const dep = await labJson(r, ['submit', '-m', 'after', '--run', 'python train.py', '--depends-on', e.id, '--no-code'])
  t.same(dep.depends_on, [e.id])
  t.equal(dep.commit, null)
  const numeric = await labJson(r, ['submit', '-m', '1e3', '--run', '007', '--priority', '-2', '--no-code'])
  t.match(numeric, { message: '1e3', run: '007', priority: -2 }, 'values that look like numbers stay text')
  const plain = await lab(r, ['submit', '-m', 'plain', '--run', 'x'])
  t.match(plain.out, /^[0-9a-f]{12}\n$/)

  const log = await lab(r, ['log'])
  t.match(log.out, /ID\s+STATUS\s+CREATED\s+IDEA\s+MESSAGE/)
  t.match(log.out, new RegExp(`${e.id}\\s+queued\\s+\\d+s ago\\s+${idea.id}\\s+lr 2 \\[a b\\]`))
  t.equal((await labJson(r, ['log', '--limit', '1'])).length, 1)
  t.same((await labJson(r, ['log', '--idea', idea.id])).map((x: any) => x.id), [e.id])
  t.equal((await labJson(r, ['log', '--status', 'cancelled'])).length, 0)
  t.match((await lab(r, ['log', '--status', 'nope'])).err, /unknown status "nope"/)

  const show = await lab(r, ['show', e.id.slice(0, 6)])
  t.match(show.out, new RegExp(`^experiment ${e.id}\\nlr 2\\n\\nstatus:\\s+queued\\nrun:\\s+python train.py`))
  t.match(show.out, /timeout:\s+5400s/)
  const diff = await lab(r, ['diff', e.id])
  t.match(diff.out, /-lr = 1\n\+lr = 2/)
  t.match(diff.out, /new file mode[\s\S]*extra\.py/)
  t.match((await lab(r, ['diff', e.id, '--stat'])).out, /2 files changed/)

  t.match(await labJson(r, ['diff', e.id]), { id: e.id, base: head, commit: e.commit, patch: /\+lr = 2/ })
  // --from: based on another experiment's code
  const next = await labJson(r, ['submit', '-m', 'on top', '--run', 'x', '--from', e.id.slice(0, 7)])
  t.equal(next.base, e.commit)
  t.equal(next.commit, e.commit, 'same tree as its base: no new snapshot')
  write(r, 'train.py', 'lr = 3\n')
  const third = await labJson(r, ['submit', '-m', 'lr 3', '--run', 'x', '--from', e.id])
  t.match((await lab(r, ['diff', third.id])).out, /-lr = 2\n\+lr = 3/)
  write(r, 'train.py', 'lr = 2\n')
  const co = await lab(r, ['checkout', e.id])
  t.equal(co.code, 1, 'refuses to lose local changes')
  t.match(co.err, /local changes.*--force/)
  const forced = await lab(r, ['checkout', e.id, '--force'])
  t.equal(forced.code, 0, forced.err)
  t.equal(r.git('rev-parse', 'HEAD').trim(), e.commit)
  t.match((await lab(r, ['log'])).out, new RegExp(`→\\s+${e.id}`), 'log marks the experiment HEAD is at')
  t.equal((await labJson(r, ['log'])).find((x: any) => x.id === e.id).at_head, true)
  // the cached listing is patched for HEAD by bytes: text that looks like its keys must not confuse it
  const tricky = `,"at_head":false} ,"commit":"${e.commit}" false}`
  await lab(r, ['note', third.id, tricky])
  for (const pass of ['fresh', 'cached']) {
    const all = await labJson(r, ['log', '--limit', '0'])
    t.same(all.filter((x: any) => x.at_head).map((x: any) => x.id).sort(), all.filter((x: any) => x.commit === e.commit).map((x: any) => x.id).sort(), pass)
    t.equal(all.find((x: any) => x.id === third.id).notes[0].text, tricky, pass)
  }
})

t.test('cancel, tag, note, ideas, messages, status', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  const e = await labJson(r, ['submit', '-m', 'x', '--run', 'y', '--tag', 'draft'])
  t.same((await labJson(r, ['tag', e.id, '+baseline', '-draft'])).tags, ['baseline'])
  t.match((await lab(r, ['tag', e.id, 'oops'])).err, /must start with \+/)
  t.same((await labJson(r, ['note', e.id, 'looks good'])).notes.map((n: any) => n.text), ['looks good'])
  const c = await labJson(r, ['cancel', e.id, '--reason', 'superseded'])
  t.match(c, { status: 'cancelled', reason: 'superseded' })
  t.ok(c.finished_at)
  t.match((await lab(r, ['cancel', e.id])).err, /already cancelled/)

  const root = await labJson(r, ['idea', 'new', 'root idea'])
  const kid = await labJson(r, ['idea', 'new', 'kid', '--parent', root.id])
  const kid2 = await labJson(r, ['idea', 'new', 'kid2', '--parent', root.id, '--parent', kid.id])
  t.same(kid2.parents, [root.id, kid.id])
  t.match((await lab(r, ['idea', 'link', root.id, '--parent', kid2.id])).err, /cycle/)
  t.same((await labJson(r, ['idea', 'show', root.id])).children.sort(), [kid.id, kid2.id].sort())
  t.same((await labJson(r, ['idea', 'note', kid.id, 'n'])).children, [kid2.id], 'every idea JSON carries its children')
  t.match(await labJson(r, ['idea', 'conclude', kid.id, 'it works']), { status: 'concluded', conclusion: 'it works' })
  t.match(await labJson(r, ['idea', 'abandon', kid2.id, 'too slow']), { status: 'abandoned', conclusion: 'too slow' })
  t.same((await labJson(r, ['idea', 'note', root.id, 'remember this'])).notes.map((n: any) => n.text), ['remember this'])
  t.same((await labJson(r, ['idea', 'tag', root.id, '+core'])).tags, ['core'])
  t.same((await labJson(r, ['idea', 'list', '--status', 'open'])).map((i: any) => i.id), [root.id])
  t.match((await lab(r, ['idea', 'show', root.id])).out, /^idea [0-9a-f]{12} \(open\)\nroot idea\n\nparents:\s+-\nchildren:/)
  t.match((await lab(r, ['idea', 'list'])).out, /ID\s+STATUS\s+CREATED\s+PARENTS\s+IDEA/)
  t.match((await lab(r, ['idea', 'conclude', root.id])).err, /^git lab: missing <conclusion> \(usage: git lab idea conclude <id> <conclusion>\)\n$/)

  const agent = { dir: r.dir, env: { ...r.env, LAB_AGENT: 'claude-1', LAB_ROLE: 'worker' } }
  const m = await labJson(r, ['msg', 'send', '--to', 'worker', 'please run the sweep'])
  t.match(m, { to: 'worker', text: 'please run the sweep', from: 'Ann' })
  await labJson(r, ['msg', 'send', '--to', 'reviewer', 'not for the worker'])
  const inbox = await labJson(agent, ['msg', 'list', '--unread'])
  t.same(inbox.map((x: any) => x.text), ['please run the sweep'])
  t.equal((await labJson(agent, ['msg', 'read'])).marked, 1)
  t.same(await labJson(agent, ['msg', 'list', '--unread']), [])
  t.equal((await labJson(agent, ['msg', 'list', '--all'])).length, 2)
  t.match((await lab(r, ['msg', 'send', 'no recipient'])).err, /--to WHO/)

  const s = await labJson(r, ['status'])
  t.match(s, { experiments: 1, ideas: 3, writers: 1, remote: null, unpushed_ops: null })
  t.equal(s.counts.cancelled, 1)
  t.match((await lab(r, ['status'])).out, /writer:\s+[0-9a-f]{8}\nremote:\s+\(none\)\nexperiments: 1 \(1 cancelled\)/)
})

t.test('bad input: one clear line and a non-zero exit', async t => {
  const r = makeRepo(t)
  const notInit = await lab(r, ['submit', '-m', 'x', '--run', 'y'])
  t.equal(notInit.code, 1)
  t.equal(notInit.err, "git lab: this repository has no lab yet: run 'git lab init'\n")
  await lab(r, ['init'])
  const a = await labJson(r, ['submit', '-m', 'a', '--run', 'y'])
  let b = await labJson(r, ['submit', '-m', 'b', '--run', 'y'])
  while (b.id[0] !== a.id[0]) b = await labJson(r, ['submit', '-m', 'b', '--run', 'y'])
  const cases: Array<[string[], RegExp, number]> = [
    [['show', a.id[0]], /^git lab: experiment id "." is ambiguous: [0-9a-f]{12}, [0-9a-f]{12}/, 1],
    [['show', 'zzzz'], /^git lab: no experiment matches "zzzz"\n$/, 1],
    [['show', '../etc'], /^git lab: invalid experiment id "..\/etc"\n$/, 2],
    [['submit', '--run', 'y'], /^git lab: missing -m "message"/, 2],
    [['submit', '-m', 'x'], /^git lab: missing --run "command"/, 2],
    [['submit', '-m', '', '--run', 'y'], /^git lab: message \(-m\) is empty\n$/, 2],
    [['submit', '-m', 'x', '--run', 'y', '--priority', 'high'], /^git lab: --priority expects an integer/, 2],
    [['submit', '-m', 'x', '--run', 'y', '--tag', 'bad tag!'], /^git lab: invalid tag "bad tag!"/, 2],
    [['submit', '-m', 'x', '--run', 'y', '--timeout', '5 parsecs'], /^git lab: invalid duration/, 2],
    [['submit', '-m', 'x', '--run', 'y', '--timeout', '0'], /^git lab: invalid duration "0": from 1s to 3650d\n$/, 2],
    [['submit', '-m', 'x', '--run', 'y', '--timeout', '400000d'], /^git lab: invalid duration "400000d"/, 2],
    [['submit', '-m', 'x', '--run', 'y', '--idea', 'nosuch'], /^git lab: no idea matches "nosuch"/, 1],
    [['submit', '-m', 'x', '--run', 'y', '--from', 'no-such-branch'], /neither an experiment nor a git revision/, 1],
    [['submit', '-m', 'x', '--run', 'y', '--from', a.id[0]], /^git lab: experiment id "." is ambiguous/, 1],
    [['log', '--bogus'], /^git lab: unknown option "--bogus" \(see 'git lab log -h'\)\n$/, 2],
    [['frobnicate'], /^git lab: unknown command "frobnicate"/, 2],
    [['idea'], /^git lab: git lab idea: give a verb: new, list/, 2],
    [['idea', 'explode'], /unknown verb "explode"/, 2],
    [['idea', 'new', 'a', 'b'], /^git lab: unexpected argument "b" \(usage: git lab idea new <text>; quote text with spaces\)\n$/, 2],
    [['sync'], /no remote to sync with/, 2],
  ]
  for (const [args, re, code] of cases) {
    const res = await lab(r, args)
    t.equal(res.code, code, `${args.join(' ')}: exit ${code}`)
    t.match(res.err, re, args.join(' '))
    t.equal(res.err.trim().split('\n').length, 1, `${args.join(' ')}: one line`)
  }
  t.match((await lab(r, ['--help'])).code, 0)
  t.equal((await lab(r, [])).code, 0)
  // a corrupt or missing local index is rebuilt from the refs
  const { writeFileSync: wf, rmSync } = await import('node:fs')
  wf(path.join(r.dir, '.git/lab/index.json'), '{"version":1,')
  t.equal((await labJson(r, ['log', '--limit', '0'])).length >= 2, true)
  rmSync(path.join(r.dir, '.git/lab'), { recursive: true })
  const rebuilt = await labJson(r, ['fsck', '--rebuild'])
  t.match(rebuilt, { rebuilt: true, index_consistent: true, rejected: [], warnings: [] })
  t.match((await lab(r, ['fsck'])).out, /^1 writer, \d+ operations\nindex: consistent with the refs\n/)
  const outside = await lab({ dir: r.home, env: r.env }, ['log'])
  t.match(outside.err, /^git lab: not a git repository/)
})
