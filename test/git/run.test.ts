// Running git: failures in one line that makes sense, a missing git, a git too old (a fake `git` first on PATH).
import t from 'tap'
import { chmodSync, writeFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { makeRepo, lab, tempDir, remoteAndOrigin } from '../helpers.ts'
import { summarize } from '../../src/git/run.ts'

const REAL_GIT = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim()

t.test('summarize: the line that says why, not the boilerplate around it', async t => {
  t.equal(summarize("fatal: 'nosuchremote' does not appear to be a git repository\nfatal: Could not read from remote repository.\n\n" +
    'Please make sure you have the correct access rights\nand the repository exists.\n'),
  "'nosuchremote' is neither a remote of this repository nor a git repository")
  t.equal(summarize('ssh: Could not resolve hostname nohost: Name or service not known\r\nfatal: Could not read from remote repository.\n\n' +
    'Please make sure you have the correct access rights\nand the repository exists.\n'), 'ssh: Could not resolve hostname nohost: Name or service not known')
  t.equal(summarize("To ../r.git\n ! [rejected]        main -> main (fetch first)\nerror: failed to push some refs to '../r.git'\n" +
    "hint: Updates were rejected because the remote contains work that you do\nhint: not have locally.\n"), '! [rejected]        main -> main (fetch first)')
  t.match(summarize("fatal: detected dubious ownership in repository at '/srv/x'\nTo add an exception for this directory, call:\n\n\tgit config --global --add safe.directory /srv/x\n"),
    /^git refuses to work in \/srv\/x: it belongs to another user \(if you trust it: git config --global --add safe.directory \/srv\/x\)$/)
  t.match(summarize("fatal: Unable to create '/r/.git/index.lock': File exists.\n\nAnother git process seems to be running in this repository"),
    /^another git process is using this repository \(\/r\/.git\/index.lock exists/)
  t.equal(summarize("error: unknown option `frob'\nusage: git fetch [<options>] [<repository> [<refspec>...]]\n\n    -v, --verbose         be more verbose\n"), "unknown option `frob'")
  t.equal(summarize('warning: something\n'), 'warning: something')
  t.equal(summarize('\n\n'), null)
})

t.test('sync and init say what git said, in one line', async t => {
  const { origin } = remoteAndOrigin(t)
  await lab(origin, ['init'])
  origin.git('remote', 'set-url', 'origin', '/nonexistent/lab.git')
  const r = await lab(origin, ['sync'])
  t.equal(r.code, 1)
  t.equal(r.err, "git lab: cannot fetch from origin: '/nonexistent/lab.git' is neither a remote of this repository nor a git repository\n")
  const named = await lab(origin, ['sync', 'nosuchremote'])
  t.equal(named.code, 1)
  t.equal(named.err, "git lab: no remote named \"nosuchremote\": 'git remote -v' lists them, 'git remote add NAME URL' adds one\n")
  t.match((await lab(origin, ['init'])).err, /^git lab: warning: could not fetch lab records from 'origin' \('\/nonexistent\/lab.git' is neither a remote/)
})

t.test('no git on PATH: said so, not "not a git repository"', async t => {
  const r = makeRepo(t)
  const res = await lab({ dir: r.dir, env: { ...r.env, PATH: tempDir(t) } }, ['log'])
  t.equal(res.code, 1)
  t.equal(res.err, 'git lab: git is not installed or not on PATH: git lab needs git 2.29 or newer\n')
})

/** A `git` first on PATH that says it is `version` and otherwise acts as `body` says. */
function fakeGit(t: Parameters<typeof tempDir>[0], version: string, body: string): string {
  const dir = tempDir(t, 'lab-fakegit-')
  const file = path.join(dir, 'git')
  writeFileSync(file, `#!/bin/sh\nREAL=${REAL_GIT}\nif [ "$1" = version ]; then echo "git version ${version}"; exit 0; fi\n${body}\n`)
  chmodSync(file, 0o755)
  return dir
}

t.test('a git older than 2.29 is named, whichever way it fails', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  // As git < 2.28 does: rev-parse echoes an option it does not know (--show-object-format).
  const echoes = fakeGit(t, '2.25.1', 'if [ "$1" = rev-parse ]; then shift; for a in "$@"; do if [ "$a" = --show-object-format ]; then echo "$a"; else "$REAL" rev-parse "$a" || exit $?; fi; done; exit 0; fi\nexec "$REAL" "$@"')
  const a = await lab({ dir: r.dir, env: { ...r.env, PATH: `${echoes}:${r.env.PATH}` } }, ['log'])
  t.equal(a.err, 'git lab: git 2.25.1 is too old: git lab needs git 2.29 or newer\n')
  t.equal(a.code, 1)
  // As every git does for an option it does not know: exit 129 (here: fetch --no-write-fetch-head, new in 2.29).
  const refuses = fakeGit(t, '2.28.0', 'for a in "$@"; do if [ "$a" = --no-write-fetch-head ]; then echo "error: unknown option \\`no-write-fetch-head\'" >&2; echo "usage: git fetch [<options>]" >&2; exit 129; fi; done\nexec "$REAL" "$@"')
  const { origin } = remoteAndOrigin(t)
  await lab(origin, ['init'])
  const b = await lab({ dir: origin.dir, env: { ...origin.env, PATH: `${refuses}:${origin.env.PATH}` } }, ['sync'])
  t.equal(b.err, 'git lab: cannot fetch from origin: git 2.28.0 is too old: git lab needs git 2.29 or newer\n')
  // A new enough git that refuses an option is reported as it is.
  const newer = fakeGit(t, '2.45.0', 'for a in "$@"; do if [ "$a" = --no-write-fetch-head ]; then echo "error: unknown option \\`no-write-fetch-head\'" >&2; exit 129; fi; done\nexec "$REAL" "$@"')
  const c = await lab({ dir: origin.dir, env: { ...origin.env, PATH: `${newer}:${origin.env.PATH}` } }, ['sync'])
  t.equal(c.err, "git lab: cannot fetch from origin: unknown option `no-write-fetch-head'\n")
})
