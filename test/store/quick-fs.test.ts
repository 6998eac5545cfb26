// The index's file helper behaves as the node:fs/promises call it replaces.
import t from 'tap'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { writeFile } from '../../src/store/quick-fs.ts'

t.test('writeFile writes text and bytes', async t => {
  const dir = t.testdir({})
  const f = path.join(dir, 'a.json')
  await writeFile(f, 'é{}\n')
  t.equal(readFileSync(f, 'utf8'), 'é{}\n')
  await writeFile(f, Buffer.from('x'))
  t.equal(readFileSync(f, 'utf8'), 'x', 'replaced')
  await t.rejects(writeFile(path.join(dir, 'no', 'b.json'), 'x'), { code: 'ENOENT' })
})
