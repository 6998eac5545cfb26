// git lab artifacts: listing and fetching an attempt's files (blobs in git, files kept on this host), and records
// whose paths, hashes or locations are hostile: nothing is ever written outside -o DIR or over a file without --force.
import t from 'tap'
import { createHash } from 'node:crypto'
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import path from 'node:path'
import { makeRepo, lab, labJson, tempDir, type TestRepo } from '../helpers.ts'
import { Lab } from '../../src/lab/lab.ts'
import { statusDraft } from '../../src/lab/runs.ts'
import { unsafeArtifactPath } from '../../src/lab/artifacts.ts'

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex')
const JOB = 'mkdir -p "$LAB_OUTPUT/sub" && echo hello > "$LAB_OUTPUT/sub/note.txt" && printf "a,b\\n1,$LAB_ATTEMPT\\n" > "$LAB_OUTPUT/table.csv" && ' +
  'head -c 1100000 /dev/urandom > "$LAB_OUTPUT/ckpt.bin"'

async function ran(r: TestRepo, args: string[]): Promise<string> {
  const res = await lab(r, args)
  if (res.code !== 0) throw new Error(res.err)
  return /experiment ([0-9a-f]+)/.exec(res.err)![1]
}

t.test('artifacts: lists where each file is; fetches blobs and host-side files, checked; --attempt, --json, paths, --force', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  const id = await ran(r, ['run', '-m', 'files', '--run', JOB])
  const e = await labJson(r, ['show', id])
  const ckpt = e.artifacts.find((a: any) => a.path === 'ckpt.bin')
  const list = await labJson(r, ['artifacts', id])
  t.same(list, {
    id, attempt: 1, artifacts: [
      { path: 'ckpt.bin', size: 1100000, sha256: ckpt.sha256, blob: null, host: hostname(), location: ckpt.location, here: true },
      { path: 'sub/note.txt', size: 6, sha256: sha256('hello\n'), blob: e.artifacts[1].blob, host: null, location: null, here: true },
      { path: 'table.csv', size: 8, sha256: sha256('a,b\n1,1\n'), blob: e.artifacts[2].blob, host: null, location: null, here: true },
    ],
  })
  const text = await lab(r, ['artifacts', id])
  t.equal(text.code, 0)
  t.match(text.out, /^PATH\s+SIZE\s+SHA256\s+WHERE\n/)
  t.match(text.out, new RegExp(`\\nckpt\\.bin\\s+1100000\\s+${ckpt.sha256.slice(0, 12)}\\s+${hostname()}:${ckpt.location}\\n`))
  t.match(text.out, new RegExp(`\\nsub/note\\.txt\\s+6\\s+${sha256('hello\n').slice(0, 12)}\\s+git\\n`))

  const out = path.join(r.dir, 'out')
  const got = await lab(r, ['artifacts', id, '-o', 'out'])
  t.equal(got.code, 0, got.err)
  t.equal(got.out, ['out/ckpt.bin', 'out/sub/note.txt', 'out/table.csv'].map(f => f + '\n').join(''), 'one line per file written')
  t.equal(sha256(readFileSync(path.join(out, 'ckpt.bin'))), ckpt.sha256, 'the host-side file, as recorded')
  t.equal(readFileSync(path.join(out, 'sub/note.txt'), 'utf8'), 'hello\n')
  t.equal(readFileSync(path.join(out, 'table.csv'), 'utf8'), 'a,b\n1,1\n')

  // nothing is overwritten without --force; each file in the way is named
  writeFileSync(path.join(out, 'table.csv'), 'mine\n')
  const again = await lab(r, ['artifacts', id, '-o', 'out'])
  t.equal(again.code, 1)
  t.match(again.err, /git lab: out\/table\.csv exists: give --force to overwrite it\n/)
  t.match(again.err, /git lab: out\/sub\/note\.txt exists/)
  t.equal(readFileSync(path.join(out, 'table.csv'), 'utf8'), 'mine\n')
  t.equal((await lab(r, ['artifacts', id, '-o', 'out', '--force'])).code, 0)
  t.equal(readFileSync(path.join(out, 'table.csv'), 'utf8'), 'a,b\n1,1\n')
  t.same(readdirSync(path.join(out, 'sub')), ['note.txt'], 'no temporary file left behind')

  // by path: a file, a folder, into the current directory by default
  const one = await labJson(r, ['artifacts', id, 'sub/note.txt', '-o', 'one'])
  t.same(one, { id, attempt: 1, dir: path.join(r.dir, 'one'), files: [{ path: 'sub/note.txt', file: path.join(r.dir, 'one', 'sub', 'note.txt'), size: 6, sha256: sha256('hello\n'), from: 'git' }], failed: [] })
  t.same(readdirSync(path.join(r.dir, 'one')), ['sub'])
  t.equal((await lab(r, ['artifacts', id, 'sub/', '-o', 'folder'])).out, 'folder/sub/note.txt\n')
  t.equal((await lab(r, ['artifacts', id, './table.csv'])).out, 'table.csv\n')
  t.equal(readFileSync(path.join(r.dir, 'table.csv'), 'utf8'), 'a,b\n1,1\n')
  const nope = await lab(r, ['artifacts', id, 'nope.txt', 'sub/note.txt', '-o', 'never'])
  t.equal(nope.code, 1)
  t.equal(nope.err, `git lab: ${id} (attempt 1) has no artifact "nope.txt" (it has: ckpt.bin, sub/note.txt, table.csv)\n`)
  t.notOk(existsSync(path.join(r.dir, 'never')), 'nothing written when a path is unknown')
  writeFileSync(path.join(r.dir, 'afile'), '')
  t.same(await lab(r, ['artifacts', id, '-o', 'afile']), { code: 1, out: '', err: 'git lab: afile is not a folder: nothing can be written under it\n' })

  // attempts
  t.equal((await lab(r, ['retry', id])).code, 0)
  t.equal((await lab(r, ['worker', '--once'])).code, 0)
  t.equal((await lab(r, ['artifacts', id, 'table.csv', '-o', 'a2'])).code, 0)
  t.equal(readFileSync(path.join(r.dir, 'a2', 'table.csv'), 'utf8'), 'a,b\n1,2\n', 'the latest attempt by default')
  t.equal((await lab(r, ['artifacts', id, 'table.csv', '-o', 'a1', '--attempt', '1'])).code, 0)
  t.equal(readFileSync(path.join(r.dir, 'a1', 'table.csv'), 'utf8'), 'a,b\n1,1\n')
  t.equal((await labJson(r, ['artifacts', id, '--attempt', '1'])).attempt, 1)
  t.match(await lab(r, ['artifacts', id, '--attempt', '3']), { code: 1, err: /has attempts 1 to 2/ })
  const none = await ran(r, ['run', '-m', 'none', '--run', 'true'])
  t.match(await lab(r, ['artifacts', none]), { code: 0, out: /has no artifacts/ })
  t.match(await lab(r, ['artifacts', none, '-o', 'x']), { code: 1, err: /has no artifacts/ })
})

t.test('unsafeArtifactPath: only plain relative paths, never .git', async t => {
  for (const ok of ['a', 'a/b.txt', 'sub/dir/x.bin', '.hidden', 'a..b', 'sp ace/ü.txt', '...']) t.equal(unsafeArtifactPath(ok), null, ok)
  for (const bad of ['', '/etc/passwd', '../x', 'a/../../x', 'a/..', '..', '.', './a', 'a/./b', 'a//b', 'a/', 'x\0y', '.git', '.git/config', 'sub/.GIT/hooks/pre-commit', '.Git']) {
    t.type(unsafeArtifactPath(bad), 'string', JSON.stringify(bad))
  }
})

t.test('hostile artifact records: unsafe paths, symlinks in the way, wrong hashes, files outside the artifact folders, other hosts', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  const here = (await labJson(r, ['submit', '-m', 'here', '--no-code', '--run', 'true'])).id
  const away = (await labJson(r, ['submit', '-m', 'away', '--no-code', '--run', 'true'])).id
  const l = await Lab.open({ cwd: r.dir, env: r.env })
  const blob = (p: string, data: string, sha = sha256(data)) => ({ entry: { path: p, size: Buffer.byteLength(data), sha256: sha, blob: l.repo.blobSha(Buffer.from(data)) }, data: Buffer.from(data) })
  const files = [blob('good.txt', 'good\n'), blob('bad-hash.txt', 'tampered\n', sha256('original\n')), blob('.git/config', '[core]\n\tfsmonitor = evil\n'),
    blob('sub/.GIT/hooks/pre-commit', 'evil\n'), blob('a//b', 'x\n'), blob('./c', 'x\n'), blob('link/x.txt', 'through a link\n'), blob('target.txt', 'replaces the link\n')]
  const passwd = readFileSync('/etc/passwd')
  const kept = path.join(r.dir, '.git', 'lab', 'artifacts', `${here}.1`)
  const hostSide = [
    { path: 'passwd', size: passwd.length, sha256: sha256(passwd), blob: null, location: '/etc/passwd' },
    { path: 'gone.bin', size: 5, sha256: sha256('gone\n'), blob: null, location: path.join(kept, 'gone.bin') },
    { path: 'swapped.bin', size: 5, sha256: sha256('right'), blob: null, location: path.join(kept, 'swapped.bin') },
  ]
  mkdirSync(kept, { recursive: true })
  writeFileSync(path.join(kept, 'swapped.bin'), 'wrong')
  await l.write([statusDraft(here, 1, { status: 'claimed' }), statusDraft(away, 1, { status: 'claimed', host: 'gpu7' }),
    { type: 'experiment.artifacts', entity: here, payload: { attempt: 1, files: [...files.map(f => f.entry), ...hostSide] }, attachments: files.map(f => f.data) },
    { type: 'experiment.artifacts', entity: away, payload: { attempt: 1, files: [{ path: 'big.bin', size: 9, sha256: sha256('x'), blob: null, location: '/data/big.bin' }] } }], 'hostile')
  l.close()

  const outside = tempDir(t, 'lab-outside-')
  const out = path.join(r.dir, 'out')
  mkdirSync(out)
  symlinkSync(outside, path.join(out, 'link'))
  writeFileSync(path.join(outside, 'victim.txt'), 'untouched\n')
  symlinkSync(path.join(outside, 'victim.txt'), path.join(out, 'target.txt'))
  const res = await labJson(r, ['artifacts', here, '-o', 'out', '--force']).catch(() => null)
  t.equal(res, null, 'exit 1: some files were not written')
  const json = await lab(r, ['artifacts', here, '-o', 'out', '--force', '--json'])
  t.equal(json.code, 1)
  const got = JSON.parse(json.out)
  t.same(got.files.map((f: any) => f.path), ['good.txt', 'target.txt'])
  const why = Object.fromEntries(got.failed.map((f: any) => [f.path, f.reason]))
  t.match(why, {
    'bad-hash.txt': /do not match its recorded sha256/,
    '.git/config': /not a safe relative path/, 'sub/.GIT/hooks/pre-commit': /not a safe relative path/, 'a//b': /not a safe/, './c': /not a safe/,
    'link/x.txt': /out\/link is a symlink/,
    passwd: /not in this machine's artifact folders/,
    'gone.bin': /not on this machine/,
    'swapped.bin': /do not match its recorded sha256/,
  })
  t.equal(Object.keys(why).length, 9)
  t.equal(readFileSync(path.join(out, 'good.txt'), 'utf8'), 'good\n')
  t.ok(lstatSync(path.join(out, 'target.txt')).isFile(), 'a symlink in the way is replaced, not followed')
  t.equal(readFileSync(path.join(outside, 'victim.txt'), 'utf8'), 'untouched\n')
  t.same(readdirSync(outside), ['victim.txt'], 'nothing written through the symlinked folder')
  t.notOk(existsSync(path.join(out, 'passwd')))
  t.notOk(existsSync(path.join(out, 'bad-hash.txt')), 'a file that fails its check is not left behind')
  t.notOk(existsSync(path.join(out, 'swapped.bin')))
  t.same(readdirSync(out).sort(), ['good.txt', 'link', 'target.txt'])
  const text = await lab(r, ['artifacts', here, 'good.txt', 'bad-hash.txt', '-o', 'out2'])
  t.equal(text.code, 1)
  t.equal(text.out, 'out2/good.txt\n')
  t.match(text.err, /^git lab: bad-hash\.txt: its contents do not match its recorded sha256 [0-9a-f]{12}.*: not written\n$/)

  const far = await lab(r, ['artifacts', away, '-o', 'far'])
  t.equal(far.code, 1)
  t.equal(far.err, 'git lab: big.bin is on host gpu7: fetching from another host needs the ssh backend (not yet)\n')
  t.match((await lab(r, ['artifacts', away])).out, /\nbig\.bin\s+9\s+[0-9a-f]{12}\s+gpu7:\/data\/big\.bin\n/)
  t.same((await labJson(r, ['artifacts', away])).artifacts[0], { path: 'big.bin', size: 9, sha256: sha256('x'), blob: null, host: 'gpu7', location: '/data/big.bin', here: false })
})
