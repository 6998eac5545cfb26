// The SSH backend against a real sshd on 127.0.0.1 (its own host key, authorized key and workdir), timed against
// OpenSSH's own client doing the unavoidable part in the same run:
// 1. submit -> running on a warm host (a worker already connected), per experiment, against `ssh host true` and a
//    bare `git push` of the same commit over ssh to a repository on the host;
// 2. 20 jobs started at once on one host (more than one connection's 10 sessions): submit of all -> all started;
// 3. streaming: a job printing many lines and metric points, lines/s and points/s into refs, against
//    `ssh host cat FILE` of the same journal.
//
//   node scripts/bench/ssh.mjs [--count 10] [--lines 200000]
import { spawn, execFileSync } from 'node:child_process'
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import path from 'node:path'
import { BIN, emit, ensureBuilt, git, header, int, isMain, lab, labEnv, makeRepo, median, ms, ratio, run, timeRun, workspace } from './lib.mjs'

const arg = (name, d) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? Number(process.argv[i + 1]) : d }
const sleep = ms_ => new Promise(r => setTimeout(r, ms_))

async function freePort() {
  return new Promise(resolve => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)) }) })
}

/** An sshd for `home`'s key, trusted in home's known_hosts; returns its port and a stop function. */
async function sshd(dir, home) {
  mkdirSync('/run/sshd', { recursive: true })
  mkdirSync(path.join(home, '.ssh'), { recursive: true, mode: 0o700 })
  const key = path.join(home, '.ssh', 'id_ed25519')
  if (!existsSync(key)) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key])
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'host_key')])
  writeFileSync(path.join(dir, 'authorized_keys'), readFileSync(key + '.pub'))
  const port = await freePort()
  writeFileSync(path.join(dir, 'sshd_config'), [`Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${dir}/host_key`,
    `AuthorizedKeysFile ${dir}/authorized_keys`, 'StrictModes no', 'UsePAM no', `PidFile ${dir}/sshd.pid`, 'PermitRootLogin yes',
    'PasswordAuthentication no', 'LogLevel ERROR', 'MaxStartups 100', ''].join('\n'))
  appendFileSync(path.join(home, '.ssh', 'known_hosts'), `[127.0.0.1]:${port} ${readFileSync(path.join(dir, 'host_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ')}\n`)
  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', path.join(dir, 'sshd_config')], { stdio: 'ignore' })
  for (;;) {
    const ok = await new Promise(r => { const s = connect(port, '127.0.0.1'); s.on('connect', () => { s.destroy(); r(true) }); s.on('error', () => r(false)) })
    if (ok) break
    await sleep(50)
  }
  process.on('exit', () => child.kill())
  return { port, stop: () => child.kill() }
}

/** A stamp file written whole (`date +%s%3N` ends with a newline). */
const stamped = file => { try { return readFileSync(file, 'utf8').endsWith('\n') } catch { return false } }

/** Waits until fn() is truthy, polling every few ms; returns when it became so (performance.now()). */
async function until(fn, timeoutMs = 120_000) {
  const end = Date.now() + timeoutMs
  for (;;) {
    if (fn()) return performance.now()
    if (Date.now() > end) throw new Error('timed out')
    await sleep(2)
  }
}

export async function main() {
  if (!existsSync('/usr/sbin/sshd')) { console.log('ssh: skipped (no /usr/sbin/sshd: apt-get install openssh-server)'); emit('ssh', { goals: [] }); return }
  ensureBuilt()
  const count = arg('count', 10)
  const lines = arg('lines', 200000)
  header('ssh: dispatch to a host over SSH', `${count} experiments, ${int(lines)} lines`)
  const ws = workspace('lab-bench-ssh-')
  const home = path.join(ws, 'home')
  mkdirSync(home)
  const env = labEnv(home)
  const host = await sshd(mkdirSync(path.join(ws, 'sshd'), { recursive: true }) ?? path.join(ws, 'sshd'), home)
  const sshArgs = ['-p', String(host.port), '-i', path.join(home, '.ssh', 'id_ed25519'), '-o', `UserKnownHostsFile=${home}/.ssh/known_hosts`,
    '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '127.0.0.1']
  const repo = makeRepo(path.join(ws, 'repo'), env)
  writeFileSync(path.join(repo, 'train.py'), 'print(1)\n')
  git(repo, env, 'add', '-A')
  git(repo, env, 'commit', '-qm', 'init')
  lab(repo, env, 'init')
  const workdir = path.join(ws, 'host-work')
  lab(repo, env, 'host', 'add', 'box', `127.0.0.1:${host.port}`, '--gpus', '0', '--jobs', '32', '--workdir', workdir)
  const stamps = path.join(ws, 'stamps')
  mkdirSync(stamps)
  const worker = spawn(BIN, ['worker', '--host', 'box', '--sync-every', '0'], { cwd: repo, env, stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  worker.stderr.on('data', b => { log += b })
  process.on('exit', () => worker.kill('SIGKILL'))
  // Warm: one experiment through first (the connection, the host's repository, the first pack).
  const warm = lab(repo, env, 'submit', '-m', 'warm', '--run', `date +%s%3N > ${stamps}/warm`).trim()
  await until(() => stamped(path.join(stamps, 'warm')))

  // 1. submit -> running, per experiment, one at a time
  const toRunning = []
  const sshTrue = []
  const push = []
  const bare = path.join(workdir, 'push.git')
  git(ws, env, 'init', '-q', '--bare', bare)
  const gitSsh = { ...env, GIT_SSH_COMMAND: `ssh ${sshArgs.slice(0, -1).join(' ')}` }
  for (let i = 0; i < count; i++) {
    writeFileSync(path.join(repo, 'train.py'), `print(${i})\n`)
    const t0 = Date.now()
    const id = lab(repo, env, 'submit', '-m', `e${i}`, '--run', `date +%s%3N > ${stamps}/$LAB_EXPERIMENT`).trim()
    await until(() => stamped(path.join(stamps, id)))
    toRunning.push(Number(readFileSync(path.join(stamps, id), 'utf8')) - t0)
    sshTrue.push(timeRun('ssh', [...sshArgs, 'true']))
    const commit = JSON.parse(lab(repo, env, 'show', id, '--json')).commit
    push.push(timeRun('git', ['push', '-q', `ssh://root@127.0.0.1:${host.port}${bare}`, `${commit}:refs/heads/e${i}`], { cwd: repo, env: gitSsh }))
  }
  console.log(`\n1. submit -> job running on a warm host (median of ${count})`)
  console.log(`  git lab submit -> job's first instruction   ${ms(median(toRunning))}`)
  console.log(`  ssh host true                               ${ms(median(sshTrue))}   (${ratio(median(toRunning), median(sshTrue))})`)
  console.log(`  git push of the same commit over ssh        ${ms(median(push))}   (${ratio(median(toRunning), median(push))})`)

  // 2. 20 jobs at once
  const t20 = performance.now()
  const ids = []
  for (let i = 0; i < 20; i++) ids.push(lab(repo, env, 'submit', '-m', `p${i}`, '--no-code', '--run', `date +%s%3N > ${stamps}/$LAB_EXPERIMENT; sleep 2`).trim())
  const submitted = performance.now()
  const allStarted = await until(() => ids.every(id => stamped(path.join(stamps, id))))
  const starts = ids.map(id => Number(readFileSync(path.join(stamps, id), 'utf8')))
  const sessions = () => execFileSync('sh', ['-c', `ps -o pid= --ppid $(cat ${path.join(ws, 'sshd', 'sshd.pid')}) | wc -l`]).toString().trim()
  const conns = sessions()
  console.log('\n2. 20 jobs (sleep 2) queued at once on one host')
  console.log(`  20 submits                                  ${ms(submitted - t20)}`)
  console.log(`  last submit -> all 20 running               ${ms(allStarted - submitted)}   (first to last start: ${ms(Math.max(...starts) - Math.min(...starts))})`)
  console.log(`  connections to the host meanwhile           ${conns}`)
  await until(() => ids.every(id => log.includes(`${id}: succeeded`)))

  // 3. streaming
  const job = `i=0; while [ $i -lt ${lines} ]; do i=$((i+1)); echo "line $i of the output of a training run"; ` +
    `[ $((i % 4)) = 0 ] && echo "{\\"step\\": $i, \\"loss\\": 0.5}" >> "$LAB_METRICS"; done; date +%s%3N > ${stamps}/$LAB_EXPERIMENT.end`
  // (the same loop, timed alone on the host, to subtract the job's own time)
  const alone = timeRun('sh', ['-c', job.replace(/\$LAB_METRICS/g, `${ws}/alone.metrics`).replace(`${stamps}/$LAB_EXPERIMENT.end`, '/dev/null')], { env: { ...env, LAB_EXPERIMENT: 'x' }, cwd: ws })
  const s0 = performance.now()
  const big = lab(repo, env, 'submit', '-m', 'stream', '--no-code', '--run', job).trim()
  await until(() => log.includes(`${big}: succeeded`), 600_000)
  const total = performance.now() - s0
  const shown = JSON.parse(lab(repo, env, 'show', big, '--json'))
  const points = shown.series.loss.count
  // `ssh host cat FILE` of the same journal (the output the job wrote, kept for the comparison)
  const outFile = path.join(ws, 'journal.out')
  writeFileSync(outFile, execFileSync(BIN, ['logs', big], { cwd: repo, env, maxBuffer: 1 << 30 }))
  const cat = median([0, 1, 2].map(() => timeRun('ssh', [...sshArgs, `cat ${outFile}`])))
  console.log(`\n3. streaming: ${int(lines)} lines (${(shown.output_bytes / 1e6).toFixed(1)} MB) and ${int(points)} points`)
  console.log(`  the job alone, no ssh                        ${ms(alone)}`)
  console.log(`  submit -> its end recorded                   ${ms(total)}: ${int(lines / (total / 1000))} lines/s, ${int(points / (total / 1000))} points/s into refs`)
  console.log(`  ssh host cat FILE of the same output         ${ms(cat)}: ${int(lines / (cat / 1000))} lines/s`)
  worker.kill('SIGTERM')
  host.stop()
  emit('ssh', {
    goals: [],
    submit_to_running_ms: median(toRunning), ssh_true_ms: median(sshTrue), git_push_ms: median(push),
    twenty_all_running_ms: allStarted - submitted, connections: Number(conns),
    stream_lines_per_s: lines / (total / 1000), stream_points_per_s: points / (total / 1000), ssh_cat_ms: cat, job_alone_ms: alone,
  })
  void warm
}

if (isMain(import.meta.url)) await main()
