// The listing order file: appended in arrival order, read newest first by merging its short unsorted tail with the
// sorted part read from its end; rewritten sorted once the tail is long or an entry has to go.
import t from 'tap'
import { readdirSync } from 'node:fs'
import { ORDER_TAIL_MAX, Order, olderFirst } from '../../src/store/order.ts'

type E = [string, string]
const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString()
const reopen = (dir: string, o: Order) => new Order(dir, o.file, o.bytes, o.sorted)

t.test('entries appended in any order are listed newest first', async t => {
  const dir = t.testdir()
  let o = new Order(dir, null, 0, 0)
  const all: E[] = []
  // clocks of several writers: each batch arrives out of order
  for (let round = 0; round < 20; round++) {
    const batch: E[] = [5, 1, 3, 2, 4].map(k => [at(round * 10 + k), `id${round}-${k}`])
    o.update([], batch)
    all.push(...batch)
    await o.save()
    o = reopen(dir, o)
    t.same([...o.newest()], [...all].sort(olderFirst).reverse().map(e => e[1]), `round ${round}`)
  }
  t.ok(o.sorted < o.bytes, 'the tail is appended, not rewritten')
  // ties of creation time: newest first, then by id
  o.update([], [[at(3), 'b'], [at(3), 'a']])
  t.same([...o.newest()].slice(-10).filter(x => x === 'a' || x === 'b'), ['a', 'b'])
})

t.test('a long tail, or an entry that goes, rewrites the file sorted', async t => {
  const dir = t.testdir()
  let o = new Order(dir, null, 0, 0)
  const all: E[] = []
  let i = 0
  while (o.bytes - o.sorted <= ORDER_TAIL_MAX) {
    const e: E = [at(10_000 - i), `x${i++}`] // every one older than the last: all in the tail
    o.update([], [e])
    all.push(e)
    const before = o.file
    await o.save()
    if (o.file !== before && before) break
  }
  o = reopen(dir, o)
  t.equal(o.sorted, o.bytes, 'rewritten sorted')
  t.same([...o.newest()], [...all].sort(olderFirst).reverse().map(e => e[1]))
  o.update([all[3]], [])
  await o.save()
  o = reopen(dir, o)
  t.notOk([...o.newest()].includes(all[3][1]), 'the entry is gone')
  t.equal([...o.newest()].length, all.length - 1)
  t.ok(readdirSync(dir).length >= 1)
})
