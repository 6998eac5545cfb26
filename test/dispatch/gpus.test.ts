// GPU lists for --gpus and lab.gpus: all, a count, indices, UUIDs as nvidia-smi -L prints them; nothing else.
import t from 'tap'
import { chmodSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { makeRepo, lab, labJson, labProcess, tempDir } from '../helpers.ts'
import { parseGpus, parseNvidiaSmi } from '../../src/dispatch/gpus.ts'

const UUID0 = 'GPU-5fd4e4a3-7ab9-8b1c-0b7e-2b8b0a2b6a59'
const UUID1 = 'GPU-0c1e41b0-2c3d-4f5e-8a9b-0c1d2e3f4a5b'
const MIG = 'MIG-c7384736-a75d-5afc-978f-d2f1294409fd'
const NVIDIA_SMI = `GPU 0: NVIDIA A100-SXM4-40GB (UUID: ${UUID0})\n  MIG 1g.5gb      Device  0: (UUID: ${MIG})\nGPU 1: NVIDIA A100-SXM4-40GB (UUID: ${UUID1})\n`

t.test('parseGpus: what it takes and what it refuses', async t => {
  t.equal(parseGpus('all'), 'all')
  t.same(parseGpus('2'), ['0', '1'])
  t.same(parseGpus('0'), [])
  t.same(parseGpus('none'), [])
  t.same(parseGpus('0,2,3'), ['0', '2', '3'])
  t.same(parseGpus('3,'), ['3'])
  t.same(parseGpus(`${UUID0},${UUID1.toUpperCase().replace('GPU-', 'GPU-')}`), [UUID0, UUID1.toUpperCase()])
  t.same(parseGpus(`${MIG},MIG-${UUID0}/1/0`), [MIG, `MIG-${UUID0}/1/0`])
  t.same(parseGpus('1,1,0'), ['1', '0'])
  for (const bad of ['abc', '-1', '1.5', 'all,0', '0;rm -rf /', 'GPU-1', 'GPU-5fd4e4a3', '2000', '0,1024', 'cuda:0', '$(id)', '0 1']) {
    t.throws(() => parseGpus(bad, 'git config lab.gpus'), { code: 'Invalid', exitCode: 2, message: /^invalid GPU "[^"]*" in git config lab.gpus/ }, bad)
  }
  t.same(parseNvidiaSmi(NVIDIA_SMI), ['0', '1'], 'MIG devices are not GPUs of their own')
})

/** A fake nvidia-smi first on PATH, listing two GPUs. */
function nvidiaPath(t: Parameters<typeof tempDir>[0], base: string): string {
  const dir = tempDir(t, 'lab-nvidia-')
  writeFileSync(path.join(dir, 'nvidia-smi'), `#!/bin/sh\n[ "$1" = -L ] && printf '%s' '${NVIDIA_SMI}'\n`)
  chmodSync(path.join(dir, 'nvidia-smi'), 0o755)
  return `${dir}:${base}`
}

t.test('--gpus all and lab.gpus all: what nvidia-smi -L lists; UUIDs reach the job as given', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  const env = { ...r.env, PATH: nvidiaPath(t, r.env.PATH!) }
  const job = 'echo "gpus=$CUDA_VISIBLE_DEVICES"'
  const a = (await labJson(r, ['submit', '-m', 'two', '--run', job, '--gpus', '2'])).id
  t.equal((await lab({ dir: r.dir, env }, ['worker', '--once', '--gpus', 'all'])).code, 0)
  t.equal((await lab(r, ['logs', a])).out, 'gpus=0,1\n')
  const b = (await labJson(r, ['submit', '-m', 'uuid', '--run', job, '--gpus', '1'])).id
  t.equal((await lab(r, ['worker', '--once', '--gpus', UUID1])).code, 0)
  t.equal((await lab(r, ['logs', b])).out, `gpus=${UUID1}\n`)
  // lab.gpus is read by the worker's backend, in the worker's own process
  r.git('config', 'lab.gpus', 'all')
  const c = (await labJson(r, ['submit', '-m', 'cfg', '--run', job, '--gpus', '2'])).id
  const w = await labProcess({ dir: r.dir, env }, ['worker', '--once'])
  t.equal(w.code, 0, w.err)
  t.equal((await lab(r, ['logs', c])).out, 'gpus=0,1\n')
  // all on a host without nvidia-smi: no GPUs, so a job that needs one is left for another worker
  const d = (await labJson(r, ['submit', '-m', 'none', '--run', job, '--gpus', '1'])).id
  const none = await lab(r, ['worker', '--once', '--gpus', 'all'])
  t.match(none.err, new RegExp(`${d}: needs 1 GPU; this host has 0`))
})
