// Sync through an ordinary remote: plain git push/fetch/pull carry lab records; branches behave as before.
import t from 'tap'
import { readFileSync, writeFileSync, existsSync } from 'node:fs'
import path from 'node:path'
import { makeRepo, lab, labJson, labProcess, write, git, remoteAndOrigin } from '../helpers.ts'

t.test('plain git push in A and git pull in B bring experiments with their code', async t => {
  const { remote } = remoteAndOrigin(t)
  const a = makeRepo(t, { clone: remote.dir, name: 'Ann' })
  const b = makeRepo(t, { clone: remote.dir, name: 'Bob' })
  t.equal((await labJson(a, ['init'])).remote, 'origin')
  t.equal((await labJson(b, ['init', '--no-fetch'])).fetched, null)
  t.equal(b.git('config', '--get-all', 'remote.origin.fetch'),
    '+refs/heads/*:refs/remotes/origin/*\n+refs/lab/w/*:refs/lab/remotes/origin/w/*\n+refs/lab/claims/*:refs/lab/remotes/origin/claims/*\n')
  write(a, 'train.py', 'print("v2")\n')
  const e = await labJson(a, ['submit', '-m', 'try v2', '--run', 'python train.py'])
  t.equal((await labJson(a, ['status'])).unpushed_ops, 1)
  // a plain push of a branch: the branch moves as before, and the hook pushes the lab records too
  a.git('checkout', '-q', '-b', 'feature')
  a.git('commit', '-q', '-am', 'feature work')
  a.git('push', '-q', 'origin', 'feature')
  t.equal(git(remote.dir, ['rev-parse', 'feature'], remote.env).trim(), a.git('rev-parse', 'HEAD').trim())
  t.equal(git(remote.dir, ['for-each-ref', '--format=%(refname)', 'refs/lab/'], remote.env).trim(), `refs/lab/w/${a.git('config', 'lab.writer').trim()}`)
  t.equal((await labJson(a, ['status'])).unpushed_ops, 0)
  t.notOk(git(remote.dir, ['for-each-ref', 'refs/heads/main'], remote.env).includes(a.git('rev-parse', 'HEAD').trim()), 'main untouched')
  // plain pull in B
  b.git('pull', '-q')
  const log = await labJson(b, ['log'])
  t.same(log.map((x: any) => x.id), [e.id])
  t.equal(b.git('branch', '--list').trim(), '* main', 'no branches created by lab refs')
  const co = await lab(b, ['checkout', e.id])
  t.equal(co.code, 0, co.err)
  t.equal(readFileSync(path.join(b.dir, 'train.py'), 'utf8'), 'print("v2")\n')
  t.equal((await lab(b, ['diff', e.id])).out.includes('+print("v2")'), true)
  // the listing is read from the index's experiment shard (not refolded), and anything fetched or written updates it
  const l1 = await lab(a, ['log', '--json'])
  t.equal(l1.out.includes('try v2'), true)
  const index = JSON.parse(readFileSync(path.join(a.dir, '.git/lab/index.json'), 'utf8'))
  const shard = path.join(a.dir, '.git/lab/e', index.files[`x:${e.id.slice(0, 2)}`])
  t.ok(existsSync(shard), 'the experiment is in its shard')
  writeFileSync(shard, readFileSync(shard, 'utf8').replace('try v2', 'from the shard'))
  t.match((await lab(a, ['log', '--json'])).out, /from the shard/, 'log reads the shard')
  writeFileSync(shard, readFileSync(shard, 'utf8').replace('from the shard', 'try v2'))
  // a clone made now sees everything right after init: init fetches the lab records
  const c = makeRepo(t, { clone: remote.dir, name: 'Cy' })
  const ci = await labJson(c, ['init'])
  t.equal(ci.fetched, true)
  t.same((await labJson(c, ['log'])).map((x: any) => x.id), [e.id])
  const gone = makeRepo(t)
  gone.git('remote', 'add', 'origin', path.join(remote.home, 'no-such-remote'))
  const warned = await lab(gone, ['init'])
  t.equal(warned.code, 0, 'an unreachable remote does not fail init')
  t.match(warned.err, /^git lab: warning: could not fetch lab records from 'origin'/)
  // B answers with a note; A gets it with a plain fetch
  await labJson(b, ['note', e.id, 'reproduced'])
  b.git('push', '-q', 'origin', 'HEAD:refs/heads/from-b')
  a.git('fetch', '-q')
  t.same((await labJson(a, ['show', e.id])).notes.map((n: any) => n.text), ['reproduced'])
  const l2 = JSON.parse((await lab(a, ['log', '--json'])).out)
  t.same(l2[0].notes.map((n: any) => n.text), ['reproduced'], 'fetched records invalidate the cache')
  t.equal(l2[0].message, 'try v2')
  await labJson(a, ['tag', e.id, '+local'])
  t.same(JSON.parse((await lab(a, ['log', '--json'])).out)[0].tags, ['local'], 'own writes invalidate it')
})

t.test('the pre-push hook chains an existing hook and never blocks a push', async t => {
  const remote = makeRepo(t, { bare: true })
  const a = makeRepo(t)
  a.git('remote', 'add', 'origin', remote.dir)
  const marker = path.join(a.home, 'chained-ran')
  writeFileSync(path.join(a.dir, '.git/hooks/pre-push'), `#!/bin/sh\ncat > ${marker}\necho "$1" >> ${marker}\n`, { mode: 0o755 })
  await labJson(a, ['init'])
  await labJson(a, ['idea', 'new', 'x'])
  a.git('push', '-q', 'origin', 'main')
  t.match(readFileSync(marker, 'utf8'), /^refs\/heads\/main [0-9a-f]{40} refs\/heads\/main [0-9a-f]{40}\norigin\n$/, 'chained hook got the same stdin and args')
  t.equal(git(remote.dir, ['for-each-ref', '--format=%(refname)', 'refs/lab/'], remote.env).trim().split('\n').length, 1)
  // a remote not set up for the lab (a public mirror) gets no lab records
  const mirror = makeRepo(t, { bare: true })
  a.git('remote', 'add', 'mirror', mirror.dir)
  a.git('push', '-q', 'mirror', 'main')
  t.equal(git(mirror.dir, ['for-each-ref', 'refs/lab/'], mirror.env), '')
  // a failing existing hook still blocks the push, as it did before
  writeFileSync(path.join(a.dir, '.git/hooks/pre-push.lab-chained'), '#!/bin/sh\nexit 1\n', { mode: 0o755 })
  a.git('commit', '-q', '--allow-empty', '-m', 'x')
  t.throws(() => a.git('push', '-q', 'origin', 'main'))
})

t.test('several clones racing on one remote converge to identical state', async t => {
  const { remote } = remoteAndOrigin(t)
  const clones = ['Ann', 'Bob', 'Cat', 'Dan'].map(name => makeRepo(t, { clone: remote.dir, name }))
  for (const c of clones) await labJson(c, ['init'])
  // each clone works offline, then all sync at the same time, twice
  for (const [i, c] of clones.entries()) {
    for (let k = 0; k < 3; k++) await labJson(c, ['submit', '-m', `${i}-${k}`, '--run', 'x', '--no-code'])
    await labJson(c, ['msg', 'send', '--to', 'all', `from ${i}`])
  }
  for (let round = 0; round < 2; round++) {
    const res = await Promise.all(clones.map(c => labProcess(c, ['sync'])))
    t.same(res.map(r => r.code), [0, 0, 0, 0], res.map(r => r.err).join(''))
  }
  const logs = await Promise.all(clones.map(c => labJson(c, ['log', '--limit', '0'])))
  t.equal(logs[0].length, 12)
  for (const l of logs.slice(1)) t.same(l, logs[0])
  const msgs = await Promise.all(clones.map(c => labJson(c, ['msg', 'list', '--all'])))
  for (const m of msgs) t.equal(m.length, 4)
  // concurrent cancels of the same experiment from two clones: one state everywhere
  const target = logs[0][0].id
  await Promise.all([lab(clones[0], ['cancel', target, '--reason', 'by ann']), lab(clones[1], ['cancel', target, '--reason', 'by bob'])])
  for (let round = 0; round < 2; round++) for (const c of clones) await lab(c, ['sync'])
  const shown = await Promise.all(clones.map(c => labJson(c, ['show', target])))
  for (const s of shown) t.same(s, shown[0])
  t.equal(shown[0].status, 'cancelled')
})
