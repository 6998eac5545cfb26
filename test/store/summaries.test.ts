// The counts and the unfinished ids kept beside the state: a change of many at once (a build) gives what the same
// changes one by one give.
import t from 'tap'
import { countChange } from '../../src/store/summaries.ts'
import { IndexFiles } from '../../src/store/index-file.ts'

const change = (changes: Array<{ id: string; before: string | null; after: string | null }>, open: string[]) => {
  const index = new IndexFiles(t.testdir({})).empty()
  index.live.open.set(open)
  countChange(index, changes)
  return { open: index.live.open.get(), counts: Object.fromEntries(Object.entries(index.counts).filter(([, n]) => n)) }
}

t.test('countChange: many at once equals one at a time', async t => {
  const ids = Array.from({ length: 300 }, (_, i) => (i * 7919 % 1000).toString(16).padStart(6, '0'))
  const queued = ids.map(id => ({ id, before: null, after: 'queued' }))
  const many = change(queued, [])
  let one = { open: [] as string[], counts: {} }
  for (const c of queued) one = change([c], one.open)
  t.same(many.open, [...ids].sort())
  t.same(many.open, one.open)
  // some end, some start, one comes back: the big path and the small one agree
  const later = ids.slice(0, 200).map((id, i) => ({ id, before: 'queued', after: i % 3 ? 'succeeded' : 'running' }))
  const a = change(later, many.open)
  let b = many.open
  for (const c of later) b = change([c], b).open
  t.same(a.open, b)
  t.equal(a.open.length, 300 - later.filter((_, i) => i % 3).length)
  t.same(change(later.map(c => ({ ...c, after: 'running' })), many.open).open, many.open, 'nothing ended: the same list')
})
