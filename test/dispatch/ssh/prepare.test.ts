// The host's prepare script, run by a local sh (the same text ssh runs there): many at once in one host repository.
import t from 'tap'
import { execFile } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { CLEANUP, PREPARE } from '../../../src/dispatch/ssh/scripts.ts'
import { makeRepo, tempDir } from '../../helpers.ts'

const script = (text: string, args: string[], env: NodeJS.ProcessEnv) => new Promise<{ code: number; out: string; err: string }>(resolve => {
  const child = execFile('sh', ['-c', text, 'git-lab-host', ...args], { env }, (e, out, err) => resolve({ code: e ? Number(e.code ?? 1) : 0, out, err }))
  child.stdin!.end('export A=1\n')
})
const prepare = (args: string[], env: NodeJS.ProcessEnv) => script(PREPARE, args, env)

t.test('prepare: jobs prepared at once in one host repository each get their worktree (git\'s race retried)', async t => {
  const r = makeRepo(t)
  const head = r.git('rev-parse', 'HEAD').trim()
  const runs = tempDir(t)
  let last: string[] = []
  for (let round = 0; round < 4; round++) {
    const dirs = Array.from({ length: 16 }, (_, i) => path.join(runs, `${round}.${i}`))
    // (the round before is cleaned up meanwhile, but for its first run)
    const [res] = await Promise.all([
      Promise.all(dirs.map(d => prepare([d, r.dir, head, '{}\n', '{}', 'lock'], r.env))),
      Promise.all(last.slice(1).map(d => script(CLEANUP, [d, r.dir, '0', '', 'f'.repeat(16)], r.env))),
    ])
    t.ok(last.slice(1).every(d => !existsSync(d)), 'the round before is gone')
    last = dirs
    t.same(res.map(x => [x.code, x.out.trim()]), dirs.map(() => [0, 'OK']), `round ${round}: ${res.map(x => x.err).join('').slice(0, 300)}`)
    t.ok(dirs.every(d => existsSync(path.join(d, 'work', 'train.py')) && !existsSync(path.join(d, 'worktree.err'))))
  }
  const bad = await prepare([path.join(runs, 'bad'), r.dir, 'f'.repeat(40), '{}\n', '{}', 'lock'], r.env)
  t.equal(bad.code, 1, 'any other failure fails at once')
  t.match(bad.err, /invalid reference|not a commit|fatal/)
  t.equal(readFileSync(path.join(runs, '0.0', 'env'), 'utf8'), 'export A=1\n')
  t.same(r.git('worktree', 'list', '--porcelain').split('\n').filter(l => l.startsWith('worktree ')).length, 1 + 3 + 16, 'the main one, the first run of the rounds before the last, the last round')
})

t.test('prepare: a run folder removed by hand (its worktree still registered) is prepared again', async t => {
  const r = makeRepo(t)
  const head = r.git('rev-parse', 'HEAD').trim()
  const d = path.join(tempDir(t), 'x.1')
  t.equal((await prepare([d, r.dir, head, '{}\n', '{}', 'lock'], r.env)).code, 0)
  rmSync(d, { recursive: true, force: true })
  const again = await prepare([d, r.dir, head, '{}\n', '{}', 'lock'], r.env)
  t.same([again.code, again.out.trim()], [0, 'OK'], again.err)
  t.ok(existsSync(path.join(d, 'work', 'train.py')))
})
