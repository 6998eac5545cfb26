// git's housekeeping started by git lab: loose objects of lab writes get packed, at most once per interval, never
// against gc.auto=0.
import t from 'tap'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { Lab } from '../../src/lab/lab.ts'
import { TIDY_EVERY_MS, tidy } from '../../src/lab/housekeeping.ts'
import { git, lab, makeRepo, waitFor, type TestRepo } from '../helpers.ts'

const packs = (r: TestRepo) => readdirSync(path.join(r.dir, '.git', 'objects', 'pack')).filter(n => n.endsWith('.pack')).length

async function labWithLooseObjects(t: Parameters<typeof makeRepo>[0] & { equal(a: unknown, b: unknown): unknown }, autoGc: string): Promise<TestRepo> {
  const r = makeRepo(t)
  t.equal((await lab(r, ['init'])).code, 0)
  r.git('config', 'gc.auto', autoGc)
  for (let i = 0; i < 4; i++) t.equal((await lab(r, ['idea', 'new', `idea ${i}`])).code, 0)
  // git estimates loose objects from one fan-out folder (objects/17): a few blobs there put it past a gc.auto of 20.
  const blobs: string[] = []
  for (let i = 0; blobs.length < 3; i++) {
    const text = `filler ${i}\n`
    if (createHash('sha1').update(`blob ${text.length}\0${text}`).digest('hex').startsWith('17')) blobs.push(text)
  }
  for (const b of blobs) git(r.dir, ['hash-object', '-w', '--stdin'], r.env, b)
  return r
}

t.test('tidy starts git maintenance in the background, then not again within the interval', async t => {
  const r = await labWithLooseObjects(t, '20')
  t.equal(packs(r), 0, 'lab writes leave loose objects')
  const l = await Lab.open({ cwd: r.dir, env: r.env })
  t.teardown(() => l.close())
  t.equal(await tidy(l), true)
  // (and git done with it: the folder is removed after the test)
  const busy = () => ['gc.pid', 'objects/maintenance.lock'].some(f => existsSync(path.join(r.dir, '.git', f)))
  await waitFor('a pack made by git gc --auto', () => (packs(r) > 0 && !busy()) || null)
  t.equal(await tidy(l), false, 'not due again yet')
  t.equal(await tidy(l, Date.now() + TIDY_EVERY_MS + 1000), true, 'due again after the interval')
})

t.test('gc.auto=0 is respected', async t => {
  const r = await labWithLooseObjects(t, '0')
  const l = await Lab.open({ cwd: r.dir, env: r.env })
  t.teardown(() => l.close())
  t.equal(await tidy(l), true)
  await new Promise(res => setTimeout(res, 1500))
  t.equal(packs(r), 0, 'git packs nothing when told not to')
})
