// The job's environment: the user's, without git's own repository variables, plus LAB_*; the launcher changes nothing.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, realpathSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { BIN, makeRepo, lab, labJson, tempDir } from '../helpers.ts'

const JOB = [
  'echo "top=$(git rev-parse --show-toplevel)"',
  'echo "dir=${GIT_DIR-unset} wt=${GIT_WORK_TREE-unset} index=${GIT_INDEX_FILE-unset} prefix=${GIT_PREFIX-unset}"',
  'echo "ssh=${GIT_SSH_COMMAND-unset} mine=${MY_SETTING-unset} py=${PYTHONUNBUFFERED-unset}"',
  'echo "ca=${NODE_EXTRA_CA_CERTS-unset}"',
  'git status --porcelain | head -3',
].join('; ')

/** A PEM file node accepts as NODE_EXTRA_CA_CERTS (the system bundle when there is one). */
function certs(t: Parameters<typeof tempDir>[0]): string {
  for (const f of [process.env.NODE_EXTRA_CA_CERTS, '/etc/ssl/certs/ca-certificates.crt']) if (f && existsSync(f)) return f
  const f = path.join(tempDir(t), 'none.pem')
  writeFileSync(f, '')
  return f
}

t.test('git --git-dir=X --work-tree=Y lab run: the job sees its own worktree, not the user\'s; NODE_EXTRA_CA_CERTS reaches it', async t => {
  const r = makeRepo(t, { files: { 'train.py': 'print(1)\n', 'sub/x.txt': 'x\n' } })
  await lab(r, ['init'])
  const elsewhere = tempDir(t)
  const ca = certs(t)
  const env = { ...r.env, MY_SETTING: 'kept', GIT_SSH_COMMAND: 'ssh -o BatchMode=yes', NODE_EXTRA_CA_CERTS: ca }
  // git itself puts GIT_DIR, GIT_WORK_TREE (and GIT_PREFIX from a subfolder) into the environment of `git lab`
  const res = spawnSync('git', ['--git-dir', path.join(r.dir, '.git'), '--work-tree', r.dir, 'lab', 'run', '-m', 'where am I', '--run', JOB],
    { cwd: elsewhere, env, encoding: 'utf8' })
  t.equal(res.status, 0, res.stderr)
  const id = /experiment ([0-9a-f]+)/.exec(res.stderr)![1]
  const work = path.join(realpathSync(r.dir), '.git', 'lab', 'runs', `${id}.1`, 'work')
  t.equal(res.stdout.split('\n')[0], `top=${work}`, 'git in the job finds the job\'s worktree')
  t.match(res.stdout, /\ndir=unset wt=unset index=unset prefix=unset\n/, 'git\'s repository variables do not reach the job')
  t.match(res.stdout, /\nssh=ssh -o BatchMode=yes mine=kept py=1\n/, 'the rest of the user\'s environment does, with PYTHONUNBUFFERED=1')
  t.match(res.stdout, new RegExp(`\\nca=${ca.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\n`), 'NODE_EXTRA_CA_CERTS reaches the job unchanged')
  t.notMatch(res.stdout, /sub\/|train\.py/, 'the job\'s git status is of its own clean worktree')
  t.equal(r.git('status', '--porcelain'), '', 'the user\'s checkout is untouched')
})

t.test('the launcher changes nothing in the environment: the binary run directly keeps NODE_EXTRA_CA_CERTS for its jobs', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  const ca = certs(t)
  const res = spawnSync(BIN, ['run', '-m', 'ca', '--run', 'echo "ca=${NODE_EXTRA_CA_CERTS-unset} py=$PYTHONUNBUFFERED"'],
    { cwd: r.dir, env: { ...r.env, NODE_EXTRA_CA_CERTS: ca, PYTHONUNBUFFERED: '0' }, encoding: 'utf8' })
  t.equal(res.status, 0, res.stderr)
  t.equal(res.stdout, `ca=${ca} py=0\n`, 'and a PYTHONUNBUFFERED the user set is kept')
  const id = /experiment ([0-9a-f]+)/.exec(res.stderr)![1]
  t.equal((await labJson(r, ['show', id])).status, 'succeeded')
})
