// The small SHA-1 (src/git/sha1.ts) gives what node:crypto gives, for every length around the block edges and more.
import t from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { sha1Hex } from '../../src/git/sha1.ts'

t.test('sha1Hex equals node:crypto', async t => {
  const want = (b: Buffer) => createHash('sha1').update(b).digest('hex')
  t.equal(sha1Hex(Buffer.alloc(0)), 'da39a3ee5e6b4b0d3255bfef95601890afd80709', 'the empty input')
  t.equal(sha1Hex(Buffer.from('abc')), 'a9993e364706816aba3e25717850c26c9cd0d89d', 'FIPS 180 example')
  let same = 0
  for (let n = 0; n < 300; n++) {
    const b = randomBytes(n)
    if (sha1Hex(b) === want(b)) same++
    else t.fail(`length ${n}`)
  }
  t.equal(same, 300, 'lengths 0-299')
  for (const n of [1000, 4096, 65_537, 1 << 20]) {
    const b = randomBytes(n)
    t.equal(sha1Hex(b), want(b), `length ${n}`)
  }
  t.equal(sha1Hex(Buffer.from('commit 0\0')), want(Buffer.from('commit 0\0')))
})
