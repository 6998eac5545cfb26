// The index's file helpers behave as the node:fs/promises calls they replace.
import t from 'tap'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { rm, writeFile } from '../../src/store/quick-fs.ts'

t.test('writeFile writes text and bytes; rm removes a file, with force also one that is gone', async t => {
  const dir = t.testdir({})
  const f = path.join(dir, 'a.json')
  await writeFile(f, 'é{}\n')
  t.equal(readFileSync(f, 'utf8'), 'é{}\n')
  await writeFile(f, Buffer.from('x'))
  t.equal(readFileSync(f, 'utf8'), 'x', 'replaced')
  await t.rejects(writeFile(path.join(dir, 'no', 'b.json'), 'x'), { code: 'ENOENT' })
  await rm(f)
  t.notOk(existsSync(f))
  await rm(f, { force: true })
  await t.rejects(rm(f), { code: 'ENOENT' }, 'without force, a missing file is an error')
  mkdirSync(path.join(dir, 'sub'))
  await t.rejects(rm(path.join(dir, 'sub'), { force: true }), 'never a folder')
  t.ok(existsSync(path.join(dir, 'sub')))
})
