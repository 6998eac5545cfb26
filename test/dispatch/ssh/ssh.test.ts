// The SSH backend against real OpenSSH servers on 127.0.0.1: a submit runs on a host and its output, metrics,
// artifacts and exit code reach the refs and another clone; placement by GPUs over two hosts.
import t from 'tap'
import path from 'node:path'
import { existsSync, readdirSync } from 'node:fs'
import { makeRepo, lab, labJson, remoteAndOrigin } from '../../helpers.ts'
import { fakeHost, HAVE_SSHD } from './sshd.ts'

if (!HAVE_SSHD) { t.fail('no /usr/sbin/sshd: .ci/run installs openssh-server'); process.exit(1) }

const JOB = [
  'echo "start $LAB_EXPERIMENT gpus=${CUDA_VISIBLE_DEVICES-unset}"',
  'for i in 1 2 3; do echo "{\\"step\\": $i, \\"loss\\": 0.$i}" >> "$LAB_METRICS"; echo line $i; done',
  'mkdir -p "$LAB_OUTPUT/plots" && echo small > "$LAB_OUTPUT/plots/a.txt"',
  'cat train.py',
  'exit 3',
].join('; ')

t.test('a submit runs on a host: output, metrics, artifacts and exit code reach the refs and another clone', async t => {
  const { remote, origin: r } = remoteAndOrigin(t)
  await lab(r, ['init'])
  const h = await fakeHost(t, { home: r.home, gpus: 2 })
  const wd = path.join(h.dir, "work dir $(touch pwned) 'q'")
  const add = await labJson(r, ['host', 'add', 'gpu-a', `127.0.0.1:${h.port}`, '--gpus', 'auto', '--workdir', wd, '--tag', 'a100'])
  t.match(add, { name: 'gpu-a', address: '127.0.0.1', port: h.port, gpus: null, workdir: wd, tags: ['a100'] })
  const hosts = await labJson(r, ['hosts'])
  t.match(hosts, [{ name: 'gpu-a', reachable: true, gpus: 2, jobs_running: 0 }])
  const id = (await labJson(r, ['submit', '-m', 'on a host', '--run', JOB, '--gpus', '1', '--host', 'gpu-a'])).id
  const local = await lab(r, ['worker', '--once'])
  t.match(local.err, /pinned to host gpu-a/, 'a worker without hosts leaves a pinned experiment alone')
  const w = await lab(r, ['worker', '--once', '--host', 'gpu-a'])
  t.equal(w.code, 0, w.err)
  t.match(w.err, new RegExp(`${id}: started \\(attempt 1 on gpu-a, GPUs gpu-a:0\\)`))
  const e = await labJson(r, ['show', id])
  t.match(e, { status: 'failed', exit_code: 3, host: 'gpu-a', metrics: { loss: 0.3 } })
  const logs = await lab(r, ['logs', id])
  t.match(logs.out, new RegExp(`start ${id} gpus=0\\n`), 'CUDA_VISIBLE_DEVICES is the host\'s own index')
  t.match(logs.out, /line 1\nline 2\nline 3\nprint\("loss", 1.0\)/, 'output in order, the code checked out on the host')
  t.match(e.artifacts, [{ path: 'plots/a.txt', size: 6 }])
  t.notOk(existsSync(path.join(h.dir, 'pwned')), 'the workdir reached the shell quoted')
  t.equal(readdirSync(path.join(wd, 'runs')).length, 0, 'the run folder is removed on the host')
  await lab(r, ['sync'])
  const other = makeRepo(t, { clone: remote.dir })
  await lab(other, ['init'])
  const seen = await labJson(other, ['show', id])
  t.match(seen, { status: 'failed', exit_code: 3 })
  t.match((await lab(other, ['logs', id])).out, /line 3/)
  t.match(await labJson(other, ['hosts', '--offline']), [{ name: 'gpu-a', port: h.port }], 'host records travel with sync')
})
