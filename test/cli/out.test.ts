// The CLI's output goes to fds 1 and 2 directly (src/cli/out.ts): everything arrives, in order, whatever the reader.
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { BIN, makeRepo, lab } from '../helpers.ts'

async function repoWithLog(t: Parameters<typeof makeRepo>[0]) {
  const r = makeRepo(t)
  await lab(r, ['init'])
  for (let i = 0; i < 40; i++) await lab(r, ['submit', '--no-code', '-m', `experiment ${i} ${'x'.repeat(2000)}`, '--run', 'true'])
  return r
}

t.test('a slow reader gets all of it, in order; a reader that stops early ends the command quietly', async t => {
  const r = await repoWithLog(t)
  const want = spawnSync(BIN, ['log', '--limit', '0', '--json'], { cwd: r.dir, env: r.env, maxBuffer: 1 << 30 }).stdout
  t.equal(JSON.parse(want.toString()).length, 40)
  t.ok(want.length > 64 * 1024, '(more than a pipe holds)')

  // a reader that waits a second before it reads: the writes wait for it
  const slow = await new Promise<{ out: Buffer; code: number | null }>(resolve => {
    const c = spawn(BIN, ['log', '--limit', '0', '--json'], { cwd: r.dir, env: r.env })
    const parts: Buffer[] = []
    c.stdout.on('data', b => parts.push(b))
    c.stdout.pause()
    setTimeout(() => c.stdout.resume(), 1000)
    c.on('close', code => resolve({ out: Buffer.concat(parts), code }))
  })
  t.equal(slow.code, 0)
  t.same(slow.out, want, 'all of it, in order')

  // a reader that stops after 100 bytes: exit 0, no error (as `git lab log | head`)
  const head = spawnSync('bash', ['-c', '"$0" log --limit 0 --json | head -c 100 >/dev/null; echo "${PIPESTATUS[0]}"', BIN], { cwd: r.dir, env: r.env, encoding: 'utf8' })
  t.equal(head.stderr, '', 'no error')
  t.equal(head.stdout, '0\n', 'exit 0')

})

const hasPython = spawnSync('python3', ['-c', '0']).status === 0

t.test('a non-blocking pipe read late gets all of it, in order', { skip: !hasPython && 'no python3 here (it makes the pipe)' }, async t => {
  const r = await repoWithLog(t)
  const want = spawnSync(BIN, ['log', '--limit', '0', '--json'], { cwd: r.dir, env: r.env, maxBuffer: 1 << 30 }).stdout
  // a non-blocking pipe (left so by whoever made it), read late: a write that would block goes through node's stream
  const py = spawnSync('python3', ['-c', `
import subprocess, fcntl, os, sys, time
r, w = os.pipe()
fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
p = subprocess.Popen([sys.argv[1], 'log', '--limit', '0', '--json'], stdout=w)
os.close(w)
time.sleep(1)
data = b''
while True:
    b = os.read(r, 65536)
    if not b: break
    data += b
sys.stdout.buffer.write(data)
sys.exit(p.wait())
`, BIN], { cwd: r.dir, env: r.env, maxBuffer: 1 << 30 })
  t.equal(py.status, 0, py.stderr.toString())
  t.same(py.stdout, want, 'a write that would block went through node\'s stream')
})
