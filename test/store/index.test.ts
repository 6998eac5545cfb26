// The local index: experiments in shard files read only where a command looks, late operations refolding their
// experiment alone, and a folder that holds what index.json names (plus a minute of replaced files), nothing else.
import t from 'tap'
import { existsSync, readFileSync, readdirSync, utimesSync, writeFileSync, appendFileSync } from 'node:fs'
import path from 'node:path'
import { Lab } from '../../src/lab/lab.ts'
import { INDEX_VERSION } from '../../src/store/index-file.ts'
import { lab, labJson, labProcess, makeRepo, remoteAndOrigin, type TestRepo } from '../helpers.ts'

const indexOf = (r: TestRepo) => JSON.parse(readFileSync(path.join(r.dir, '.git/lab/index.json'), 'utf8'))
const shardDir = (r: TestRepo) => path.join(r.dir, '.git/lab/e')

async function submitted(r: TestRepo, n: number): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < n; i++) ids.push((await labJson(r, ['submit', '--no-code', '-m', `exp ${i}`, '--run', 'true'])).id)
  return ids
}

t.test('show and log read the shards of what they print, nothing else', async t => {
  const r = makeRepo(t)
  await labJson(r, ['init'])
  // ids are random: submit until two shards hold something
  const ids = await submitted(r, 6)
  const index = indexOf(r)
  const target = ids[ids.length - 1]
  const mine = index.files[`x:${target.slice(0, 2)}`]
  const others = Object.entries(index.files).filter(([k, f]) => k.startsWith('x:') && f !== mine)
  t.ok(others.length > 0, 'experiments in several shards')
  // Every other shard made unreadable: a command that parsed it would fail.
  for (const [, f] of others) writeFileSync(path.join(shardDir(r), f as string), '{not json')
  const shown = await labJson(r, ['show', target.slice(0, 6)])
  t.equal(shown.id, target, 'show (by prefix) read only its shard')
  const one = await labJson(r, ['log', '--limit', '1'])
  t.same(one.map((e: any) => e.id), [target], 'log -n 1 read only the newest row\'s shard')
  // A command that does need a damaged shard says so, and the next one rebuilds the index from the refs.
  const all = await lab(r, ['log', '--json'])
  t.equal(all.code, 1)
  t.match(all.err, /local index was damaged .* run the command again/)
  t.same((await labJson(r, ['log'])).map((e: any) => e.id).sort(), [...ids].sort(), 'rebuilt from the refs')
  t.equal((await labJson(r, ['fsck'])).index_consistent, true)
})

t.test('a shard file that is missing makes the index rebuild itself', async t => {
  const r = makeRepo(t)
  await labJson(r, ['init'])
  const [id] = await submitted(r, 1)
  const f = indexOf(r).files[`x:${id.slice(0, 2)}`]
  const { rmSync } = await import('node:fs')
  rmSync(path.join(shardDir(r), f))
  t.equal((await labJson(r, ['show', id])).id, id)
  t.equal((await labJson(r, ['fsck'])).index_consistent, true)
})

t.test('an operation that arrives late refolds its experiment alone; the index equals a rebuild', async t => {
  const { remote, origin: a } = remoteAndOrigin(t)
  await labJson(a, ['init'])
  const ids = await submitted(a, 4)
  await labJson(a, ['sync'])
  const b = makeRepo(t, { clone: remote.dir, name: 'Bo' })
  await labJson(b, ['init'])
  const target = ids[0]
  // B notes the experiment while A, not having seen it, writes three more records: B's note sorts before them.
  await labJson(b, ['note', target, 'from b'])
  await labJson(b, ['sync'])
  for (const n of ['a1', 'a2', 'a3']) await labJson(a, ['note', target, n])
  const before = indexOf(a).files
  await labJson(a, ['sync'])
  const after = indexOf(a).files
  const notes = (await labJson(a, ['show', target])).notes.map((n: any) => n.text)
  t.same([...notes].sort(), ['a1', 'a2', 'a3', 'from b'], 'every note, once')
  t.equal(notes.indexOf('from b') <= 1, true, 'B\'s note in its place in the fold, before A\'s later ones')
  for (const id of ids.slice(1)) {
    const k = `x:${id.slice(0, 2)}`
    if (k !== `x:${target.slice(0, 2)}`) t.equal(after[k], before[k], `shard ${k} untouched`)
  }
  const fsck = await labJson(a, ['fsck'])
  t.equal(fsck.index_consistent, true, 'the same index as a rebuild from nothing')
  // B sees the same experiment
  await labJson(b, ['sync'])
  t.same((await labJson(b, ['show', target])).notes.map((n: any) => n.text), notes)
})

t.test('SSH hosts live in index.json; a late host record refolds the hosts alone', async t => {
  const { remote, origin: a } = remoteAndOrigin(t)
  await labJson(a, ['init'])
  await labJson(a, ['host', 'add', 'box1', 'ann@10.0.0.1'])
  await labJson(a, ['sync'])
  const b = makeRepo(t, { clone: remote.dir, name: 'Bo' })
  await labJson(b, ['init'])
  await labJson(b, ['host', 'add', 'box2', '10.0.0.2:2222', '--gpus', '2'])
  await labJson(b, ['sync'])
  await labJson(a, ['host', 'remove', 'box1'])
  await labJson(a, ['host', 'add', 'box3', '10.0.0.3'])
  await labJson(a, ['sync'])
  const names = (await labJson(a, ['hosts', '--offline'])).map((h: any) => h.name)
  t.same(names, ['box2', 'box3'])
  t.same(Object.keys(indexOf(a).core.hosts).sort(), ['box2', 'box3'], 'in index.json')
  t.equal((await labJson(a, ['fsck'])).index_consistent, true)
})

t.test('a crashed save and replaced files: nothing misread, nothing left for long', async t => {
  const r = makeRepo(t)
  await labJson(r, ['init'])
  await submitted(r, 2)
  const index = indexOf(r)
  const dir = path.join(r.dir, '.git/lab')
  // A save that died after appending to the order file and writing a shard, before index.json named them.
  appendFileSync(path.join(shardDir(r), index.order_file), '["2999-01-01T00:00:00.000Z","ghost00000000"]\n')
  writeFileSync(path.join(shardDir(r), 'x-gh-0123456789ab.json'), '{"ghost00000000":{"v":null,"ops":[]}}')
  // Files of the layout before shards go at once; replaced shards a minute after.
  for (const f of ['state-0123456789ab.json', 'ops-0123456789ab.jsonl', 'log-cache.v2']) writeFileSync(path.join(dir, f), '{}')
  const old = new Date(Date.now() - 120_000)
  utimesSync(path.join(shardDir(r), 'x-gh-0123456789ab.json'), old, old)
  const ids = [...await submitted(r, 1), ...(await labJson(r, ['log'])).map((e: any) => e.id)]
  const log = await labJson(r, ['log'])
  t.equal(log.length, 3, 'three experiments, no ghost')
  t.notOk(log.some((e: any) => e.id.startsWith('ghost')))
  t.equal(new Set(ids).size, 3)
  for (const f of ['state-0123456789ab.json', 'ops-0123456789ab.jsonl', 'log-cache.v2']) t.notOk(existsSync(path.join(dir, f)), `${f} removed`)
  t.notOk(existsSync(path.join(shardDir(r), 'x-gh-0123456789ab.json')), 'an old orphan shard removed')
  const named = (x: any) => new Set([...Object.values(x.files), x.order_file])
  t.same(readdirSync(shardDir(r)).filter(f => !named(indexOf(r)).has(f)), [], 'replaced files go with the save that replaced them')
  // A file no index names yet may be a concurrent save's, about to be named: it stays until a minute old.
  writeFileSync(path.join(shardDir(r), 'x-zz-0123456789ab.json'), '{}')
  await labJson(r, ['note', log[0].id, 'later'])
  t.ok(existsSync(path.join(shardDir(r), 'x-zz-0123456789ab.json')), 'a fresh unnamed file stays')
  t.equal((await labJson(r, ['fsck'])).index_consistent, true)
})

t.test('a process holding an index another one replaced reads the newer shard', async t => {
  const r = makeRepo(t)
  await labJson(r, ['init'])
  const [id] = await submitted(r, 1)
  const held = await Lab.open({ cwd: r.dir, env: r.env })
  t.teardown(() => held.close())
  const index = await held.index()
  await labJson(r, ['note', id, 'meanwhile']) // replaces (and removes) the shard `index` names
  t.notOk(existsSync(path.join(shardDir(r), index.files[`x:${id.slice(0, 2)}`])))
  t.same(index.state.experiments[id].notes.map(n => n.text), ['meanwhile'], 'the file that replaced it')
  // and its next look takes the index on disk
  t.same((await held.state()).experiments[id].notes.map(n => n.text), ['meanwhile'])
})

t.test('looks and writes at once in one process (a worker\'s loop and its background look): each record applied once', async t => {
  const r = makeRepo(t)
  await labJson(r, ['init'])
  const [id] = await submitted(r, 1)
  const held = await Lab.open({ cwd: r.dir, env: r.env })
  t.teardown(() => held.close())
  await held.index()
  for (let round = 0; round < 3; round++) {
    await labJson(r, ['note', id, `from outside ${round}`]) // another process moves the refs
    await Promise.all([
      held.state(), held.index(), held.state(),
      held.write([{ type: 'experiment.note', entity: id, payload: { text: `from inside ${round}` } }], 'note'),
      held.state(),
    ])
  }
  const notes = (await held.state()).experiments[id].notes.map(n => n.text).sort()
  t.same(notes, [0, 1, 2].flatMap(i => [`from inside ${i}`, `from outside ${i}`]).sort(), 'each note once')
  t.same((await labJson(r, ['show', id])).notes.map((n: any) => n.text).sort(), notes)
  t.equal((await labJson(r, ['fsck'])).index_consistent, true)
})

t.test('writers and readers at once in one clone: one consistent index', async t => {
  const r = makeRepo(t)
  await labJson(r, ['init'])
  const ids = await submitted(r, 4)
  const runs = [
    ...ids.map((id, i) => labProcess(r, ['note', id, `n${i}`])),
    ...ids.map((id, i) => labProcess(r, ['tag', id, `+t${i}`])),
    labProcess(r, ['submit', '--no-code', '-m', 'concurrent', '--run', 'true']),
    labProcess(r, ['log']), labProcess(r, ['status']),
  ]
  for (const res of await Promise.all(runs)) t.equal(res.code, 0, res.err)
  const log = await labJson(r, ['log'])
  t.equal(log.length, 5)
  for (const [i, id] of ids.entries()) {
    const e = log.find((x: any) => x.id === id)
    t.same(e.notes.map((n: any) => n.text), [`n${i}`])
    t.same(e.tags, [`t${i}`])
  }
  const st = await labJson(r, ['status'])
  t.equal(st.experiments, 5)
  t.equal(st.counts.queued, 5)
  t.equal((await labJson(r, ['fsck'])).index_consistent, true)
})

t.test('16 submits at once, twice: every one lands, in the index as in a rebuild', async t => {
  // (once, a waiter could read the lock file created but not yet written, take it for a dead holder's, break it,
  // and two processes saved over each other's index: an experiment missing from counts and the listing)
  const r = makeRepo(t)
  await labJson(r, ['init'])
  for (let round = 0; round < 2; round++) {
    const res = await Promise.all(Array.from({ length: 16 }, (_, i) => labProcess(r, ['submit', '--no-code', '-m', `c${round}.${i}`, '--run', 'true'])))
    for (const x of res) t.equal(x.code, 0, x.err)
  }
  t.equal((await labJson(r, ['status'])).experiments, 32)
  t.equal((await labJson(r, ['log', '--limit', '0'])).length, 32)
  t.equal((await labJson(r, ['fsck'])).index_consistent, true)
})

t.test('an index of an older version is rebuilt, and its files go', async t => {
  const r = makeRepo(t)
  await labJson(r, ['init'])
  const [id] = await submitted(r, 1)
  const file = path.join(r.dir, '.git/lab/index.json')
  writeFileSync(file, JSON.stringify({ ...indexOf(r), version: INDEX_VERSION - 1, gen: undefined }))
  writeFileSync(path.join(r.dir, '.git/lab/state-abcdefabcdef.json'), '{}')
  t.equal((await labJson(r, ['show', id])).id, id)
  await labJson(r, ['note', id, 'x'])
  t.equal(indexOf(r).version, INDEX_VERSION)
  t.notOk(existsSync(path.join(r.dir, '.git/lab/state-abcdefabcdef.json')))
})

t.test('the unfinished ids live in a file of their own, rewritten only when a status changes', async t => {
  const r = makeRepo(t)
  await labJson(r, ['init'])
  const ids = await submitted(r, 3)
  const openFile = () => indexOf(r).files.open as string
  const openIds = () => JSON.parse(readFileSync(path.join(shardDir(r), openFile()), 'utf8'))
  t.notOk('open' in indexOf(r), 'not in index.json')
  t.same(openIds(), [...ids].sort())
  const before = openFile()
  await labJson(r, ['note', ids[0], 'a note changes no status'])
  t.equal(openFile(), before, 'a note leaves it')
  await labJson(r, ['cancel', ids[1]])
  t.not(openFile(), before, 'a cancel rewrites it (under a new name)')
  t.same(openIds(), [ids[0], ids[2]].sort())
  t.notOk(existsSync(path.join(shardDir(r), before)), 'the replaced one is gone')
  t.same((await labJson(r, ['log', '--status', 'queued'])).map((e: any) => e.id).sort(), [ids[0], ids[2]].sort())
  t.equal((await labJson(r, ['fsck'])).index_consistent, true)
})
