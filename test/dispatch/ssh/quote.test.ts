// shq: the one door to a remote shell. Each hostile value, passed through a real sh, arrives exactly as it was.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { shCommand, shq } from '../../../src/dispatch/ssh/quote.ts'

const HOSTILE = [
  '', 'plain', "it's", "''", "'\\''", '"; rm -rf / #', '$(touch /tmp/pwned-shq)', '`id`', '${HOME}', '$HOME', 'a\nb\r\nc',
  'back\\slash', '*', '?', '[a-z]', '~', '~root', '-n', '--', 'a b  c', '\t', '!!', 'x;y|z&w', '<in >out 2>&1', '\u001b[31mred',
  'ünïcødé ✓', "'; echo pwned; '", 'end\\',
]

t.test('every hostile value reaches sh as one word with exactly its value', async t => {
  for (const v of HOSTILE) {
    const out = execFileSync('sh', ['-c', `printf '%s' ${shq(v)}`], { encoding: 'utf8' })
    t.equal(out, v, JSON.stringify(v))
  }
})

t.test('shCommand: the script is code, every argument data', async t => {
  const script = 'for a; do printf "[%s]" "$a"; done'
  const cmd = shCommand(script, 'git-lab', HOSTILE)
  const out = execFileSync('sh', ['-c', cmd], { encoding: 'utf8' })
  t.equal(out, HOSTILE.map(v => `[${v}]`).join(''))
})

t.test('a NUL byte is refused, never cut short', async t => {
  t.throws(() => shq('a\0b'), { code: 'Invalid' })
})
