// The index files: a replaced snapshot goes at once, and an index saved by a process whose snapshot is gone still loads.
import t from 'tap'
import { readdirSync, utimesSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { IndexFiles, SNAPSHOT_EVERY, emptyIndex } from '../../src/store/index-file.ts'

const states = (dir: string) => readdirSync(dir).filter(n => n.startsWith('state-'))

t.test('each new snapshot removes the one it replaces', async t => {
  const dir = t.testdir()
  const files = new IndexFiles(dir)
  const index = emptyIndex()
  for (let i = 0; i < 5; i++) {
    index.op_count = i
    index.ops_bytes = index.state_at + SNAPSHOT_EVERY + 1 // the tail grew: this save writes a snapshot
    await files.save(index)
    t.equal(states(dir).length, 1, `after save ${i}`)
  }
  t.equal((await files.load())?.state_file, index.state_file)
})

t.test('a process whose snapshot another one replaced writes its own when it saves', async t => {
  const dir = t.testdir()
  const a = new IndexFiles(dir)
  const b = new IndexFiles(dir)
  await a.save(emptyIndex())
  const held = (await a.load())! // e.g. a worker, holding this index for a while
  const other = (await b.load())!
  other.ops_bytes = other.state_at + SNAPSHOT_EVERY + 1
  await b.save(other) // replaces (and removes) the snapshot `held` names
  t.notOk(states(dir).includes(held.state_file!))
  await a.save(held)
  t.ok(states(dir).includes(held.state_file!), 'a new snapshot, named by the index it saved')
  t.ok(await new IndexFiles(dir).load(), 'the saved index loads')
})

t.test('snapshots nothing names go with any save once older than a minute (e.g. left by an older git-lab)', async t => {
  const dir = t.testdir()
  const files = new IndexFiles(dir)
  const index = emptyIndex()
  await files.save(index)
  writeFileSync(path.join(dir, 'state-0123456789ab.json'), '{}')
  writeFileSync(path.join(dir, 'state-ba9876543210.json'), '{}')
  const old = new Date(Date.now() - 120_000)
  utimesSync(path.join(dir, 'state-0123456789ab.json'), old, old)
  await files.save(index) // no new snapshot: the tail did not grow
  t.same(states(dir).sort(), [index.state_file, 'state-ba9876543210.json'].sort(), 'the old orphan went, a fresh one stays')
})
