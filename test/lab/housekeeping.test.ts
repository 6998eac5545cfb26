// git's housekeeping started by git lab: loose objects get packed and the small packs of lab writes gathered, at
// most once per interval (sooner past TIDY_PACKS packs), never against gc.auto=0.
import t from 'tap'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { Lab } from '../../src/lab/lab.ts'
import { TIDY_EVERY_MS, TIDY_PACKS, TIDY_PACKS_EVERY_MS, tidy } from '../../src/lab/housekeeping.ts'
import { git, lab, makeRepo, waitFor, type TestRepo } from '../helpers.ts'

const packs = (r: TestRepo) => readdirSync(path.join(r.dir, '.git', 'objects', 'pack')).filter(n => n.endsWith('.pack')).length
/** Loose objects in objects/17, where the fillers are (and where git looks to estimate them all). */
const loose = (r: TestRepo) => existsSync(path.join(r.dir, '.git', 'objects', '17')) ? readdirSync(path.join(r.dir, '.git', 'objects', '17')).length : 0

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
  // Reachable (committed; git's own gc --auto after the commit held off): gc packs them, unreachable ones it leaves.
  blobs.forEach((b, i) => writeFileSync(path.join(r.dir, `filler-${i}.txt`), b))
  r.git('add', '-A')
  r.git('-c', 'gc.auto=0', 'commit', '-q', '-m', 'fillers')
  return r
}

t.test('tidy starts git maintenance in the background, then not again within the interval', async t => {
  const r = await labWithLooseObjects(t, '20')
  t.ok(loose(r) >= 3, 'loose objects')
  t.ok(packs(r) >= 4, 'each lab write is a pack of its own (no unpack-objects process)')
  const l = await Lab.open({ cwd: r.dir, env: r.env })
  t.teardown(() => l.close())
  t.equal(await tidy(l), true)
  // (and git done with it: the folder is removed after the test)
  const busy = () => ['gc.pid', 'objects/maintenance.lock'].some(f => existsSync(path.join(r.dir, '.git', f)))
  await waitFor('the loose objects packed by git gc --auto', () => (loose(r) === 0 && !busy()) || null)
  t.equal(await tidy(l), false, 'not due again yet')
  t.equal(await tidy(l, Date.now() + TIDY_EVERY_MS + 1000), true, 'due again after the interval')
})

t.test('gc.auto=0 is respected', async t => {
  const r = await labWithLooseObjects(t, '0')
  const l = await Lab.open({ cwd: r.dir, env: r.env })
  t.teardown(() => l.close())
  const before = packs(r)
  t.equal(await tidy(l), true)
  await new Promise(res => setTimeout(res, 1500))
  t.equal(packs(r), before, 'git packs nothing when told not to')
  t.ok(loose(r) >= 3)
})

t.test('past TIDY_PACKS packs, a write starts housekeeping within the interval (not sooner than a minute apart)', async t => {
  const r = makeRepo(t)
  t.equal((await lab(r, ['init'])).code, 0)
  const l = await Lab.open({ cwd: r.dir, env: r.env })
  t.teardown(() => l.close())
  t.equal(await tidy(l), true, 'the first look starts it')
  const busy = () => ['gc.pid', 'objects/maintenance.lock'].some(f => existsSync(path.join(r.dir, '.git', f)))
  await waitFor('git done', () => !busy() || null)
  for (let i = 0; packs(r) <= TIDY_PACKS; i++) await l.write([{ type: 'idea.create', entity: `idea-${i}`, payload: { text: `idea ${i}`, parents: [], tags: [] } }], `idea ${i}`)
  t.equal(await tidy(l, Date.now(), { packsOnly: true }), false, 'within a minute of the last start: not yet')
  t.equal(await tidy(l, Date.now() + TIDY_PACKS_EVERY_MS + 1000, { packsOnly: true }), true, 'a minute on, the packs make it due')
  await waitFor('the packs gathered by git gc --auto', () => (packs(r) <= 2 && !busy()) || null, 60_000)
  t.equal((await lab(r, ['fsck', '--json'])).code, 0)
})
