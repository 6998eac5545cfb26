// Hostile JSON bounds: the quick count of brackets only ever skips the depth scan where it cannot matter.
import t from 'tap'
import { MAX_JSON_DEPTH, jsonDepth, openers, parseBounded } from '../../src/store/safe-json.ts'

const nested = (d: number) => `{"a":${'['.repeat(d - 1)}${']'.repeat(d - 1)}}`

t.test('openers counts brackets and braces, in strings too, up to limit + 1', async t => {
  t.equal(openers('{"a":[1,{"b":"{[x"}]}'), 5)
  t.equal(openers('plain'), 0)
  t.equal(openers('['.repeat(1000), 32), 33, 'stops past the limit')
  // never fewer than the depth: the count is an upper bound of it
  for (const text of [nested(1), nested(5), nested(40), '[{"x":[[{}]]},[[[[]]]]]', '{"s":"]]]]"}']) {
    t.ok(openers(text) >= jsonDepth(text), text.slice(0, 40))
  }
})

t.test('parseBounded refuses exactly what nests deeper than the limit', async t => {
  t.same(parseBounded(nested(MAX_JSON_DEPTH), 1 << 20), JSON.parse(nested(MAX_JSON_DEPTH)))
  t.throws(() => parseBounded(nested(MAX_JSON_DEPTH + 1), 1 << 20), { message: /nested deeper than 32 levels/ })
  t.throws(() => parseBounded(nested(100_000), 1 << 20), { message: /nested deeper than 32 levels/ })
  // many brackets, all in strings or side by side: shallow, parsed
  const wide = JSON.stringify({ s: '{'.repeat(500), list: Array.from({ length: 200 }, () => [{}]) })
  t.same(parseBounded(wide, 1 << 20), JSON.parse(wide))
  t.throws(() => parseBounded('{"a":1', 1 << 20), SyntaxError)
  t.throws(() => parseBounded('[]'.repeat(10), 4), { message: /longer than 4 characters/ }, 'length first')
})
