// The hooks that drive the work, through real git commands in real repos with the hooks `git lab init` installs (they
// call the built dist/git-lab.js on PATH): Lab-Run trailers queue experiments, commits on an experiment's code get a
// Lab-Experiment trailer, and checkouts, merges and rebases print one line on what changed in the lab.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync, existsSync, rmSync, chmodSync, unlinkSync } from 'node:fs'
import path from 'node:path'
import { BIN, ROOT, makeRepo, lab, labJson, write, remoteAndOrigin, type TestRepo } from '../helpers.ts'
import { HOOKS } from '../../src/lab/hooks.ts'
import { WRITER_REF_PATTERNS } from '../../src/store/layout.ts'
import { Lab } from '../../src/lab/lab.ts'
import { lookAgain } from '../../src/lab/hook-summary.ts'
import type { Ended } from '../../src/store/summaries.ts'

interface Run { code: number; out: string; err: string }

/** git ARGS in the repo as a user runs it: exit code and both streams (the hooks write to stderr). */
function gitRun(r: TestRepo, args: string[], env: NodeJS.ProcessEnv = {}, input = ''): Run {
  const p = spawnSync('git', args, { cwd: r.dir, env: { ...r.env, ...env }, input, encoding: 'utf8' })
  return { code: p.status ?? -1, out: p.stdout, err: p.stderr }
}

const logJson = async (r: TestRepo) => labJson<any[]>(r, ['log', '--limit', '0'])
const head = (r: TestRepo) => r.git('rev-parse', 'HEAD').trim()

/** git-lab on PATH is a wrapper that notes each call: to tell whether a hook started node at all. */
function countCalls(r: TestRepo): () => string[] {
  const bin = path.join(r.home, 'bin', 'git-lab')
  const log = path.join(r.home, 'git-lab-calls')
  unlinkSync(bin)
  writeFileSync(bin, `#!/bin/sh\necho "$*" >> '${log}'\nexec '${BIN}' "$@"\n`, { mode: 0o755 })
  return () => existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []
}

t.test('a Lab-Run trailer queues an experiment of exactly that commit, with its Lab- trailers', async t => {
  const r = makeRepo(t)
  await labJson(r, ['init'])
  const idea = await labJson(r, ['idea', 'new', 'positional encodings'])
  write(r, 'train.py', 'print("rope")\n')
  r.git('add', 'train.py')
  // what is not committed is not the experiment's code
  write(r, 'train.py', 'print("not committed")\n')
  write(r, 'notes.txt', 'untracked\n')
  const c = gitRun(r, ['commit', '-q', '-m', 'try rope', '--trailer', 'Lab-Run: python train.py --rope',
    '--trailer', `Lab-Idea: ${idea.id.slice(0, 6)}`, '--trailer', 'Lab-Gpus: 2', '--trailer', 'Lab-Param: lr=0.001'])
  t.equal(c.code, 0, c.err)
  const list = await logJson(r)
  t.equal(list.length, 1)
  const e = list[0]
  t.same([e.commit, e.base, e.message, e.run, e.gpus, e.idea, e.params], [head(r), head(r), 'try rope', 'python train.py --rope', 2, idea.id, { lr: 0.001 }])
  t.equal(c.err, `git lab: queued experiment ${e.id} of commit ${head(r).slice(0, 12)}: python train.py --rope\n`, 'one line, naming the experiment')
  t.equal(r.git('status', '--porcelain'), ' M train.py\n?? notes.txt\n', 'the worktree is untouched')
  // a sweep: one experiment per value, all of this commit
  const s = gitRun(r, ['commit', '-q', '--allow-empty', '-m', 'sweep lr', '--trailer', 'Lab-Run: python train.py', '--trailer', 'Lab-Param: lr=0.1,0.01'])
  t.match(s.err, /^git lab: queued sweep [0-9a-f]{12} \(2 experiments: git lab log --tag sweep:[0-9a-f]{12}\) of commit/)
  const sweep = (await logJson(r)).filter(x => x.message === 'sweep lr')
  t.same(sweep.map(x => x.params.lr).sort(), [0.01, 0.1])
  t.ok(sweep.every(x => x.commit === head(r)))
  // a commit without the trailer: nothing queued, nothing printed
  const p = gitRun(r, ['commit', '-q', '-am', 'plain'])
  t.same([p.code, p.err], [0, ''])
  t.equal((await logJson(r)).length, 3)
})

t.test('Lab-Run trailers git replays (rebase, cherry-pick) or an amend that only rewords queue nothing', async t => {
  const r = makeRepo(t)
  await labJson(r, ['init'])
  r.git('checkout', '-q', '-b', 'topic')
  write(r, 'train.py', 'print("a")\n')
  gitRun(r, ['commit', '-q', '-am', 'try a', '--trailer', 'Lab-Run: python train.py'])
  const first = (await logJson(r))[0]
  // reworded: same code, same Lab- trailers
  const msg = r.git('log', '-1', '--format=%B').replace('try a', 'try a, reworded')
  const reword = gitRun(r, ['commit', '-q', '--amend', '-m', msg])
  t.equal(reword.code, 0)
  t.equal(reword.err, `git lab: not queued again: this amend changed neither the code nor the Lab- trailers of experiment ${first.id}\n`)
  t.equal((await logJson(r)).length, 1)
  // amended with a code change: a new commit, a new experiment of it
  write(r, 'train.py', 'print("b")\n')
  const fixed = gitRun(r, ['commit', '-q', '-a', '--amend', '--no-edit'])
  t.match(fixed.err, /^git lab: queued experiment [0-9a-f]{12} of commit /)
  t.same((await logJson(r)).map(e => e.commit), [head(r), first.commit])
  // replayed: onto a moved main, and picked onto another branch
  r.git('checkout', '-q', 'main')
  write(r, 'other.txt', 'x\n')
  r.git('add', 'other.txt')
  gitRun(r, ['commit', '-q', '-m', 'main moves'])
  const rebase = gitRun(r, ['rebase', '-q', 'main', 'topic'])
  t.same([rebase.code, rebase.err], [0, ''])
  r.git('checkout', '-q', '-b', 'picked', 'main')
  const pick = gitRun(r, ['cherry-pick', 'topic'])
  t.equal(pick.code, 0, pick.err)
  t.notMatch(pick.err, /git lab/)
  t.equal((await logJson(r)).length, 2, 'nothing more was queued')
})

t.test('a Lab-Run commit the lab cannot queue still commits, with one line saying why', async t => {
  const r = makeRepo(t)
  await labJson(r, ['init'])
  const bad = gitRun(r, ['commit', '-q', '--allow-empty', '-m', 'x', '--trailer', 'Lab-Run: python train.py', '--trailer', 'Lab-Gpus: lots'])
  t.equal(bad.code, 0)
  t.equal(bad.err, 'git lab: post-commit: Lab-Gpus: "lots" is not a number of GPUs\n')
  const two = gitRun(r, ['commit', '-q', '--allow-empty', '-m', 'y', '--trailer', 'Lab-Run: a', '--trailer', 'Lab-Run: b'])
  t.equal(two.code, 0)
  t.match(two.err, /^git lab: post-commit: Lab-Run: given 2 times; a commit queues one experiment/)
  const param = gitRun(r, ['commit', '-q', '--allow-empty', '-m', 'z', '--trailer', 'Lab-Run: a', '--trailer', 'Lab-Param: no equals sign'])
  t.match(param.err, /^git lab: post-commit: Lab-Param: "no equals sign": give NAME=VALUE/)
  t.equal(r.git('rev-list', '--count', 'HEAD').trim(), '4', 'every commit was made')
  t.equal((await logJson(r)).length, 0)
})

t.test('the hooks chain the ones that were there: they run with their arguments and input, and decide as before', async t => {
  const r = makeRepo(t)
  const hooks = path.join(r.dir, '.git', 'hooks')
  const seen = path.join(r.home, 'user-hooks')
  for (const h of ['post-commit', 'post-checkout', 'post-merge', 'post-rewrite', 'commit-msg']) {
    writeFileSync(path.join(hooks, h), `#!/bin/sh\n{ echo "${h} $*"; [ "${h}" != post-rewrite ] || cat; } >> '${seen}'\n`, { mode: 0o755 })
  }
  // a prepare-commit-msg of the user's that refuses commits whose message says "wip"
  writeFileSync(path.join(hooks, 'prepare-commit-msg'), `#!/bin/sh\necho "prepare-commit-msg $*" >> '${seen}'\n! grep -q wip "$1"\n`, { mode: 0o755 })
  const init = await labJson(r, ['init'])
  t.same(init.chained, ['post-commit', 'prepare-commit-msg', 'commit-msg', 'post-checkout', 'post-merge', 'post-rewrite'])
  const calls = () => readFileSync(seen, 'utf8')
  write(r, 'train.py', 'print(2)\n')
  const c = gitRun(r, ['commit', '-q', '-am', 'try', '--trailer', 'Lab-Run: python train.py'])
  t.equal(c.code, 0, c.err)
  t.match(c.err, /queued experiment/)
  t.match(calls(), /^prepare-commit-msg \.git\/COMMIT_EDITMSG message\ncommit-msg \.git\/COMMIT_EDITMSG\npost-commit \n$/)
  const before = head(r)
  gitRun(r, ['checkout', '-q', '-b', 'x'])
  t.match(calls(), new RegExp(`post-checkout ${before} ${before} 1\\n$`))
  const amend = gitRun(r, ['commit', '-q', '--amend', '-m', 'amended'])
  t.equal(amend.code, 0)
  t.match(calls(), new RegExp(`post-rewrite amend\\n${before} ${head(r)}\\n$`), 'post-rewrite gets its input')
  // the user's prepare-commit-msg still decides: its failure stops the commit
  const wip = gitRun(r, ['commit', '-q', '--allow-empty', '-m', 'wip'])
  t.not(wip.code, 0)
  t.equal(head(r), r.git('rev-parse', 'x').trim())
  t.equal(r.git('log', '-1', '--format=%s'), 'amended\n')
})

t.test('each hook is switched off by git config lab.hook.<name> false, and all by LAB_HOOKS=0', async t => {
  const r = makeRepo(t)
  await labJson(r, ['init'])
  r.git('config', 'lab.hook.post-commit', 'false')
  const c = gitRun(r, ['commit', '-q', '--allow-empty', '-m', 'x', '--trailer', 'Lab-Run: true'])
  t.same([c.code, c.err], [0, ''])
  t.equal((await logJson(r)).length, 0)
  t.same((await labJson(r, ['init'])).hooks_off, ['post-commit'])
  t.match((await lab(r, ['init'])).out, /switched off by lab\.hook\.<name>: post-commit/)
  r.git('config', 'lab.hook.post-commit', 'true')
  const off = gitRun(r, ['commit', '-q', '--allow-empty', '-m', 'x', '--trailer', 'Lab-Run: true'], { LAB_HOOKS: '0' })
  t.same([off.code, off.err], [0, ''])
  t.equal((await logJson(r)).length, 0)
  // a change in the lab, not looked at while post-checkout is off, is news once it is on again
  const id = (await labJson(r, ['run', '-m', 'quick', '--run', 'true'])).id
  r.git('config', 'lab.hook.post-checkout', 'no')
  t.equal(gitRun(r, ['checkout', '-q', '-b', 'a']).err, '')
  r.git('config', '--unset', 'lab.hook.post-checkout')
  t.equal(gitRun(r, ['checkout', '-q', '-b', 'b']).err, `git lab: experiment ${id} succeeded\n`)
  // prepare-commit-msg false takes the Lab-Experiment trailer away, commit-msg's part included
  r.git('config', 'lab.hook.prepare-commit-msg', 'off')
  await labJson(r, ['checkout', id])
  t.equal(gitRun(r, ['commit', '-q', '--allow-empty', '-m', 'on top']).code, 0)
  t.equal(r.git('log', '-1', '--format=%B'), 'on top\n\n')
})

t.test('a commit on top of `git lab checkout ID` gets a Lab-Experiment trailer; an untouched editor still aborts', async t => {
  const r = makeRepo(t)
  await labJson(r, ['init'])
  const e = await labJson(r, ['run', '-m', 'base', '--run', 'true'])
  gitRun(r, ['commit', '-q', '--allow-empty', '-m', 'main moves on'])
  await labJson(r, ['checkout', e.id])
  t.equal(head(r), e.commit)
  write(r, 'train.py', 'print("follow-up")\n')
  const c = gitRun(r, ['commit', '-q', '-am', 'follow up'])
  t.same([c.code, c.err], [0, ''])
  t.equal(r.git('log', '-1', '--format=%B'), `follow up\n\nLab-Experiment: ${e.id}\n\n`)
  // only the commit right on top of it: the next one links back through its parent
  gitRun(r, ['commit', '-q', '--allow-empty', '-m', 'next'])
  t.equal(r.git('log', '-1', '--format=%B'), 'next\n\n')
  // in the editor (commit-msg adds it after): a message written there gets it, an untouched one aborts as always
  await labJson(r, ['checkout', e.id])
  const editor = (script: string) => ({ GIT_EDITOR: `sh -c '${script}' editor` })
  const untouched = gitRun(r, ['commit', '--allow-empty'], editor('true'))
  t.not(untouched.code, 0)
  t.match(untouched.err, /Aborting commit due to empty commit message/)
  t.equal(head(r), e.commit)
  const wrote = gitRun(r, ['commit', '-q', '--allow-empty', '-v'], editor('{ echo written in the editor; cat "$1"; } > "$1.new" && mv "$1.new" "$1"'))
  t.equal(wrote.code, 0, wrote.err)
  t.equal(r.git('log', '-1', '--format=%B'), `written in the editor\n\nLab-Experiment: ${e.id}\n\n`)
  // -m then -e, the message taken out: nothing but the trailer would be left, so git aborts as for an empty message
  await labJson(r, ['checkout', e.id])
  const cleared = gitRun(r, ['commit', '--allow-empty', '-m', 'gone', '-e'], editor('grep -v "^gone$" "$1" > "$1.new"; mv "$1.new" "$1"'))
  t.not(cleared.code, 0)
  t.equal(head(r), e.commit)
})

t.test('after a git pull, one line on what changed in the lab; nothing, and no git-lab start, when nothing did', async t => {
  const { remote, origin: a } = remoteAndOrigin(t, 'Ann')
  await labJson(a, ['init', '--objective', 'loss', '--minimize'])
  gitRun(a, ['push', '-q', 'origin', 'main'])
  const b = makeRepo(t, { clone: remote.dir, name: 'Bob' })
  await labJson(b, ['init'])
  const calls = countCalls(b)
  const bob = b.git('config', 'lab.writer').trim()
  // Ann's worker finishes an experiment, she writes to Bob, commits and pushes (the pre-push hook carries the lab)
  const good = await labJson(a, ['run', '-m', 'good', '--run', 'echo \'{"loss": 0.25}\''])
  await labJson(a, ['msg', 'send', '--to', bob, 'rope beats baseline'])
  write(a, 'a.txt', 'a\n')
  a.git('add', 'a.txt')
  gitRun(a, ['commit', '-q', '-m', 'a'])
  t.equal(gitRun(a, ['push', '-q', 'origin', 'main']).code, 0)
  const pull = gitRun(b, ['pull', '-q'])
  t.equal(pull.code, 0, pull.err)
  t.equal(pull.err, `git lab: experiment ${good.id} succeeded; new best loss 0.25 (${good.id}); 1 new message for you ('git lab msg list --unread')\n`)
  // nothing changed since: nothing printed, and git-lab not even started
  const n = calls().length
  t.ok(calls().some(c => c.startsWith('hook post-merge ')), 'the pull started git-lab')
  t.equal(gitRun(b, ['checkout', '-q', '-b', 'other']).err, '')
  t.equal(gitRun(b, ['checkout', '-q', 'main']).err, '')
  t.equal(calls().length, n, 'the sh hook decided alone')
  // a pull --rebase: the line once (post-checkout and post-rewrite both run; the second has nothing new)
  const worse = await labJson(a, ['run', '-m', 'worse', '--run', 'echo \'{"loss": 0.5}\''])
  write(a, 'a.txt', 'aa\n')
  gitRun(a, ['commit', '-q', '-am', 'aa'])
  gitRun(a, ['push', '-q', 'origin', 'main'])
  write(b, 'b.txt', 'b\n')
  b.git('add', 'b.txt')
  gitRun(b, ['commit', '-q', '-m', 'b'])
  const rebase = gitRun(b, ['pull', '-q', '--rebase'])
  t.equal(rebase.code, 0, rebase.err)
  t.equal(rebase.err, `git lab: experiment ${worse.id} succeeded; best loss 0.25 (${good.id})\n`)
  t.equal(gitRun(b, ['checkout', '-q', '-b', 'again']).err, '')
})

t.test("this clone's own records that cannot change the line keep the last look current; an agent's message is news", async t => {
  const r = makeRepo(t)
  await labJson(r, ['init'])
  const calls = countCalls(r)
  const e = await labJson(r, ['submit', '--no-code', '-m', 'queued here', '--run', 'true'])
  await labJson(r, ['tag', e.id, '+mine'])
  await labJson(r, ['idea', 'new', 'an idea'])
  t.equal(gitRun(r, ['checkout', '-q', '-b', 'a']).err, '')
  t.same(calls(), [], 'git-lab was not started')
  await labJson({ dir: r.dir, env: { ...r.env, LAB_AGENT: 'claude' } }, ['msg', 'send', '--to', 'all', 'sweep done'])
  t.equal(gitRun(r, ['checkout', '-q', '-b', 'b']).err, "git lab: 1 new message for you ('git lab msg list --unread')\n")
  await labJson(r, ['msg', 'read'])
  t.equal(gitRun(r, ['checkout', '-q', '-b', 'c']).err, '')
  t.equal(calls().length, 1, 'git-lab started for the message only')
})

t.test("another writer's text reaches the summary line as one line, its control characters escaped", async t => {
  const { remote, origin: bob } = remoteAndOrigin(t, 'Bob')
  await labJson(bob, ['init'])
  const eve = makeRepo(t, { clone: remote.dir, name: 'Eve' })
  await labJson(eve, ['init'])
  // Eve's own records, valid ones: an objective whose name holds a title-setting OSC and a newline, and her run of it
  const metric = '\u001b]0;owned\u0007\nloss\u001b[2J'
  const l = await Lab.open({ cwd: eve.dir, env: eve.env })
  const st = (status: string, x = {}) => ({ type: 'experiment.status', entity: 'e1e1e1e1e1e1', payload: { status, attempt: 1, ...x } })
  await l.write([
    { type: 'lab.config', entity: 'lab', payload: { objective: { metric, direction: 'minimize' } } },
    { type: 'experiment.queue', entity: 'e1e1e1e1e1e1', payload: { message: 'm', run: 'true', setup: null, priority: 0, tags: [], gpus: 0, timeout: null, commit: null, base: null, idea: null, depends_on: [] } },
    st('claimed', { worker: 'w', host: 'h' }), st('running'), st('succeeded', { exit_code: 0, metrics: { [metric]: 0.5 } }),
  ], 'hostile')
  l.close()
  t.equal((await lab(eve, ['sync'])).code, 0)
  bob.git('fetch', '-q')
  const co = gitRun(bob, ['checkout', '-q', '-b', 'look'])
  t.equal(co.code, 0)
  t.equal(co.err.split('\n').length, 2, 'one line')
  t.notOk(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(co.err), 'no raw control characters')
  t.match(co.err, /^git lab: experiment e1e1e1e1e1e1 succeeded; new best \\u001b\]0;owned\\u0007 loss\\u001b\[2J 0\.5 \(e1e1e1e1e1e1\)\n$/)
})

t.test('core.hooksPath in the work tree: one line per hook; pasted into the project hooks (sh -e), they work', async t => {
  const r = makeRepo(t)
  r.git('config', 'core.hooksPath', '.husky')
  const init = await labJson(r, ['init'])
  t.same(init.hooks, [])
  t.same(init.hook_lines.map((l: any) => [l.hook, l.file, l.present]), HOOKS.map(h => [h, `.husky/${h}`, false]))
  t.notOk(existsSync(path.join(r.dir, '.husky')), 'nothing written in the work tree')
  t.equal(r.git('status', '--porcelain', '--ignored', '-uall'), '')
  const text = (await lab(r, ['init'])).out
  for (const l of init.hook_lines) t.ok(text.includes(`add this line at the end of ${l.file}:\n  ${l.line}\n`), l.hook)
  for (const l of init.hook_lines) write(r, l.file, `#!/bin/sh\nset -e\n${l.line}\necho "${l.hook} done" >&2\n`)
  for (const l of init.hook_lines) chmodSync(path.join(r.dir, l.file), 0o755)
  r.git('add', '.husky')
  t.equal(gitRun(r, ['commit', '-q', '-m', 'the project hooks call git lab']).code, 0)
  t.ok((await labJson(r, ['init'])).hook_lines.every((l: any) => l.present))
  t.match((await lab(r, ['init'])).out, /already call git lab/)
  const c = gitRun(r, ['commit', '-q', '--allow-empty', '-m', 'x', '--trailer', 'Lab-Run: true'])
  t.equal(c.code, 0)
  t.match(c.err, /^git lab: queued experiment ([0-9a-f]{12}) of commit .*\npost-commit done\n$/m)
  const id = (await logJson(r))[0].id
  await labJson(r, ['checkout', id])
  gitRun(r, ['commit', '-q', '--allow-empty', '-m', 'on top'])
  t.match(r.git('log', '-1', '--format=%B'), new RegExp(`Lab-Experiment: ${id}`))
  // a clone where git lab was never set up: the lines do nothing, and no git command fails
  rmSync(path.join(r.dir, '.git', 'lab', 'hooks'), { recursive: true })
  const plain = gitRun(r, ['commit', '-q', '--allow-empty', '-m', 'y', '--trailer', 'Lab-Run: true'])
  t.same([plain.code, plain.err], [0, 'prepare-commit-msg done\ncommit-msg done\npost-commit done\n'])
  const co = gitRun(r, ['checkout', '-q', '-b', 'z'])
  t.same([co.code, co.err], [0, 'post-checkout done\n'])
})

t.test('the sh hooks list the refs the store reads, and each reads its own switch', async t => {
  for (const h of HOOKS) {
    const text = readFileSync(path.join(ROOT, 'hooks', h), 'utf8')
    t.match(text, /^#!\/bin\/sh\n# git-lab hook: /, h)
    const key = h === 'commit-msg' ? "--get-regexp '^lab\\.hook\\.(prepare-)?commit-msg$'" : `lab.hook.${h} `
    t.ok(text.includes(`git config --bool ${key}`), `${h} reads its switch`)
    const listing = /git for-each-ref --format='%\(objectname\) %\(refname\)' (.*) 2>/.exec(text)
    if (['post-checkout', 'post-merge', 'post-rewrite'].includes(h)) t.equal(listing?.[1], WRITER_REF_PATTERNS.map(p => p.includes('*') ? `'${p}'` : p).join(' '), h)
  }
})

t.test('lookAgain: the first look says nothing; then attempts that ended since, the best, new messages', async t => {
  const best = (id: string, value: number) => ({ id, metric: 'loss', value })
  const first = lookAgain({ ended: 1, recent: [[1, 'a', 1, 'succeeded']], best: best('a', 0.5) }, null, ['m1'])
  t.same(first, { line: null, seen: { ended: 1, best: 'a', messages: ['m1'] } })
  const recent: Ended[] = [[1, 'a', 1, 'succeeded'], [2, 'b', 1, 'failed'], [3, 'c', 1, 'succeeded'], [4, 'd', 1, 'timed_out']]
  const s2 = { ended: 4, recent, best: best('a', 0.5) }
  t.equal(lookAgain(s2, first.seen, ['m1']).line, '3 experiments finished (1 succeeded, 1 failed, 1 timed out); best loss 0.5 (a)')
  const s3 = { ended: 4, recent, best: best('c', 0.7) } // a was retried: the best gives way
  const again = lookAgain(s3, lookAgain(s2, first.seen, ['m1']).seen, ['m1', 'm2', 'm3'])
  t.equal(again.line, 'new best loss 0.7 (c); 2 new messages for you (\'git lab msg list --unread\')', 'a retried best gives way')
  t.equal(lookAgain(s3, again.seen, ['m3']).line, null, 'read messages are no news')
  t.equal(lookAgain({ ended: 5, recent: [...recent, [5, 'a', 2, 'succeeded']], best: null }, { ended: 4, best: null, messages: [] }, []).line,
    'experiment a succeeded', 'no objective: no best')
  t.equal(lookAgain({ ended: 5, recent: [[5, 'c', 1, 'failed'], [6, 'c', 1, 'failed']].slice(0, 1) as Ended[], best: null }, { ended: 1, best: null, messages: [] }, []).line,
    '4 experiments finished', 'more ended than the feed keeps: how many')
})

t.test('the index keeps the ended attempts\' feed and the best without reading every experiment', async t => {
  const r = makeRepo(t)
  await labJson(r, ['init', '--objective', 'loss', '--minimize'])
  const run = async (loss: number) => labJson(r, ['run', '-m', `l${loss}`, '--run', `echo '{"loss": ${loss}}'`])
  const a = await run(0.5)
  const b = await run(0.3)
  await run(0.9)
  const index = () => JSON.parse(readFileSync(path.join(r.dir, '.git/lab/index.json'), 'utf8'))
  t.equal(index().ended, 3)
  t.same(index().best, { id: b.id, metric: 'loss', value: 0.3 })
  await labJson(r, ['retry', b.id]) // the best is queued again: the next best, found by a rescan
  t.same(index().best, { id: a.id, metric: 'loss', value: 0.5 })
  t.equal((await labJson(r, ['fsck'])).index_consistent, true)
})
