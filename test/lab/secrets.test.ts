// Secrets on this host: untracked files that look like secrets stay out of snapshots; run folders are owner-only.
import t from 'tap'
import { readFileSync, mkdirSync, writeFileSync, chmodSync, statSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { makeRepo, lab, labJson, write, type TestRepo } from '../helpers.ts'

const LINE = /^git lab: left out of the snapshot \(look like secrets\): (.*); snapshot one anyway with --include PATH\n$/

/** The files in an experiment's code. */
function files(r: TestRepo, commit: string): string[] {
  return r.git('ls-tree', '-r', '--name-only', commit).split('\n').filter(Boolean)
}

async function submitted(r: TestRepo, ...args: string[]) {
  const res = await lab(r, ['submit', '-m', 'x', '--run', 'true', '--json', ...args])
  if (res.code !== 0) throw new Error(res.err)
  const e = JSON.parse(res.out)
  return { e, err: res.err, left: LINE.exec(res.err)?.[1].split(', ') ?? [], files: files(r, e.commit) }
}

function secretRepo(t: Parameters<typeof makeRepo>[0]): TestRepo {
  const r = makeRepo(t, { files: { 'train.py': 'lr = 1\n', '.env.example': 'TOKEN=\n', 'deploy/site.key': 'public part\n', '.gitignore': '*.ckpt\n' } })
  write(r, 'train.py', 'lr = 2\n')
  write(r, '.env.example', 'TOKEN=\nURL=\n')
  write(r, 'deploy/site.key', 'public part, edited\n')
  write(r, 'new.py', 'x = 1\n')
  write(r, 'model.ckpt', 'ignored\n')
  for (const f of ['.env', 'sub/dir/.env.local', 'key.pem', 'id_ed25519', '.netrc', '.aws/credentials', 'deep/x.secret', 'private/notes.txt', 'top.txt', 'sub/top.txt']) write(r, f, `secret ${f}\n`)
  return r
}

t.test('untracked secrets are left out and named; tracked look-alikes keep their changes; nothing of the user is touched', async t => {
  const r = secretRepo(t)
  await lab(r, ['init'])
  r.git('config', '--add', 'lab.snapshotExclude', '*.secret')
  r.git('config', '--add', 'lab.snapshotExclude', 'private/')
  r.git('config', '--add', 'lab.snapshotExclude', '/top.txt')
  const before = { status: r.git('status', '--porcelain', '-uall'), index: readFileSync(path.join(r.dir, '.git/index')) }
  const s = await submitted(r)
  t.equal(s.e.status, 'queued', 'stdout is the experiment JSON')
  const secrets = ['.aws/credentials', '.env', '.netrc', 'deep/x.secret', 'id_ed25519', 'key.pem', 'private/notes.txt', 'sub/dir/.env.local', 'top.txt']
  t.same(s.left.sort(), secrets, s.err)
  for (const f of secrets) t.notOk(s.files.includes(f), `${f} is not in the snapshot`)
  t.same(s.files.sort(), ['.env.example', '.gitignore', 'deploy/site.key', 'new.py', 'sub/top.txt', 'train.py'])
  t.equal(r.git('show', `${s.e.commit}:.env.example`), 'TOKEN=\nURL=\n', 'a tracked .env.example is snapshotted with its change')
  t.equal(r.git('show', `${s.e.commit}:deploy/site.key`), 'public part, edited\n')
  t.equal(r.git('status', '--porcelain', '-uall'), before.status)
  t.same(readFileSync(path.join(r.dir, '.git/index')), before.index, 'index byte-identical')
  t.same(readdirSync(path.join(r.dir, '.git/lab/tmp')), [], 'no temporary index left behind')

  // named with --include (a file, a folder), they are snapshotted; the rest still is not
  const inc = await submitted(r, '--include', '.env', '--include', 'private', '--include', 'no-such-file')
  t.ok(inc.files.includes('.env') && inc.files.includes('private/notes.txt'))
  t.equal(r.git('show', `${inc.e.commit}:.env`), 'secret .env\n')
  t.same(inc.left.sort(), secrets.filter(f => f !== '.env' && f !== 'private/notes.txt'))
  t.equal(r.git('status', '--porcelain', '-uall'), before.status)

  // from a subdirectory, paths are shown and taken relative to it, as git does
  const sub = { dir: path.join(r.dir, 'sub'), env: r.env }
  const res = await lab(sub, ['submit', '-m', 'x', '--run', 'true', '--include', 'dir/.env.local'])
  t.equal(res.code, 0, res.err)
  const shown = LINE.exec(res.err)![1].split(', ')
  t.ok(shown.includes('../.env') && !shown.includes('dir/.env.local'), res.err)
  const e = await labJson(r, ['show', res.out.trim()])
  t.ok(files(r, e.commit).includes('sub/dir/.env.local'))
})

t.test('no secrets: no line; a tracked .env stays tracked; --no-code says nothing', async t => {
  const r = makeRepo(t, { files: { 'train.py': 'a\n', '.env': 'A=1\n' } })
  await lab(r, ['init'])
  write(r, '.env', 'A=2\n')
  const s = await submitted(r)
  t.equal(s.err, '')
  t.equal(r.git('show', `${s.e.commit}:.env`), 'A=2\n', 'a tracked file is the user\'s choice')
  write(r, 'id_rsa', 'k\n')
  const none = await lab(r, ['submit', '-m', 'x', '--run', 'true', '--no-code'])
  t.same([none.code, none.err], [0, ''])
})

/** Octal permission bits of a path. */
const mode = (p: string) => (statSync(p).mode & 0o777).toString(8)

t.test('run: the same snapshot rule; run folders, journals and artifacts are owner-only whatever the umask', async t => {
  const r = makeRepo(t, { files: { 'job.sh': 'test -e .env && echo has-env; head -c 1100000 /dev/zero > "$LAB_OUTPUT/big.bin"; echo ok\n' } })
  await lab(r, ['init'])
  write(r, '.env', 'TOKEN=abc\n')
  // folders an older version made readable by others, with a kept run in them
  const runs = path.join(r.dir, '.git/lab/runs')
  const old = path.join(runs, 'aaaaaaaaaaaa.1')
  mkdirSync(old, { recursive: true, mode: 0o755 })
  writeFileSync(path.join(old, 'output.log'), 'old output\n', { mode: 0o644 })
  mkdirSync(path.join(r.dir, '.git/lab/artifacts'), { mode: 0o755 })
  for (const d of [runs, old, path.join(r.dir, '.git/lab/artifacts')]) chmodSync(d, 0o755)
  const umask = process.umask(0)
  t.teardown(() => { process.umask(umask) })
  const kept = await lab(r, ['run', '-m', 'kept', '--run', 'sh job.sh', '--keep'])
  const done = await lab(r, ['run', '-m', 'cleaned', '--run', 'sh job.sh'])
  process.umask(umask)
  t.equal(kept.code, 0, kept.err)
  t.equal(done.code, 0, done.err)
  t.match(kept.err, /^git lab: left out of the snapshot \(look like secrets\): \.env; /)
  t.equal(kept.out, 'ok\n', 'the job\'s worktree has no .env')
  const id = /experiment ([0-9a-f]+)/.exec(kept.err)![1]
  const d = path.join(runs, `${id}.1`)
  t.equal(mode(runs), '700')
  t.equal(mode(d), '700')
  t.equal(mode(path.join(d, 'out')), '700')
  t.equal(mode(path.join(d, 'output.log')), '600')
  t.equal(mode(path.join(d, 'metrics.jsonl')), '600')
  t.equal(mode(old), '700', 'an older run folder is tightened')
  t.equal(mode(path.join(old, 'output.log')), '600')
  const gone = /experiment ([0-9a-f]+)/.exec(done.err)![1]
  const art = path.join(r.dir, '.git/lab/artifacts')
  t.equal(mode(art), '700')
  t.equal(mode(path.join(art, `${gone}.1`)), '700', 'large artifacts kept on the host')
  t.equal(statSync(path.join(art, `${gone}.1`, 'big.bin')).size, 1100000)
})
