// Random names: the kernel's bytes, read ahead and each handed out once.
import t from 'tap'
import { randomHex } from '../src/random.ts'

t.test('randomHex: the asked length, hex, never the same twice across many reads of the pool', async t => {
  const seen = new Set<string>()
  const bad: string[] = []
  for (let i = 0; i < 2000; i++) {
    const n = 1 + (i % 9)
    const h = randomHex(n)
    if (h.length !== 2 * n || !/^[0-9a-f]+$/.test(h)) bad.push(h)
    if (n >= 6) seen.add(h)
  }
  t.same(bad, [], 'every one of the asked length, in hex')
  t.equal(seen.size, [...Array(2000).keys()].filter(i => 1 + (i % 9) >= 6).length, 'no repeat among the 6-byte and longer ones')
  t.equal(randomHex(2048).length, 4096, 'more than the pool holds at once')
})
