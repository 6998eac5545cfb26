// One contract for every Backend: the same calls and outcomes on this machine (LocalBackend) and on an SSH host
// (SshBackend against a real sshd on 127.0.0.1). What the worker relies on is what this file states.
import t, { type Test } from 'tap'
import path from 'node:path'
import { readdirSync, readFileSync } from 'node:fs'
import { makeRepo, lab, labJson } from '../helpers.ts'
import { Lab } from '../../src/lab/lab.ts'
import { LocalBackend } from '../../src/dispatch/local.ts'
import { SshBackend } from '../../src/dispatch/ssh/backend.ts'
import type { Backend, JobPoll, JobSpec } from '../../src/dispatch/backend.ts'
import { fakeHost, HAVE_SSHD } from './ssh/sshd.ts'

type Make = (t: Test) => Promise<{ lab: Lab; backend: Backend; again: () => Backend; commit: string }>

const local: Make = async t => {
  const r = makeRepo(t, { files: { 'train.py': 'print("code")\n' } })
  await lab(r, ['init'])
  const l = await Lab.open({ cwd: r.dir, env: r.env })
  t.teardown(() => l.close())
  return { lab: l, backend: new LocalBackend(l, []), again: () => new LocalBackend(l, []), commit: r.git('rev-parse', 'HEAD').trim() }
}

const ssh: Make = async t => {
  const r = makeRepo(t, { files: { 'train.py': 'print("code")\n' } })
  await lab(r, ['init'])
  const h = await fakeHost(t, { home: r.home, gpus: 2 })
  await labJson(r, ['host', 'add', 'box', `127.0.0.1:${h.port}`, '--workdir', path.join(h.dir, "w 'x' $(y)")])
  const l = await Lab.open({ cwd: r.dir, env: r.env })
  const host = (await l.state()).hosts.box
  const made: SshBackend[] = []
  const mk = () => { const b = new SshBackend(l, host); made.push(b); return b }
  t.teardown(() => { for (const b of made) b.close(); l.close() })
  return { lab: l, backend: mk(), again: mk, commit: r.git('rev-parse', 'HEAD').trim() }
}

let n = 0
const spec = (o: Partial<JobSpec> & { run: string }): JobSpec => ({
  id: `c0ffee${String(++n).padStart(6, '0')}`, attempt: 1, commit: null, setup: null, env: { LAB_EXPERIMENT: 'x' }, params: '{"lr": 0.1}\n',
  gpus: [], timeout: null, keep: false, graceMs: 500, ...o,
})

async function until(b: Backend, job: JobSpec, phases: Array<JobPoll['phase']>): Promise<JobPoll> {
  for (let i = 0; i < 600; i++) {
    const p = await b.poll(job)
    if (phases.includes(p.phase)) return p
    await new Promise(r => setTimeout(r, 50))
  }
  throw new Error(`never reached ${phases.join('/')}`)
}

function contract(name: string, make: Make) {
  t.test(`${name}: a job runs detached; journals by offset; metrics, params, artifacts; cleanup`, async t => {
    const { backend: b, commit } = await make(t)
    const job = spec({
      commit, setup: 'echo setting up',
      run: 'cat train.py; cat "$LAB_PARAMS"; echo \'{"step": 1, "loss": 2}\' >> "$LAB_METRICS"; echo note > "$LAB_OUTPUT/a.txt"; exit 7',
    })
    await b.prepare(job)
    t.ok(await b.holds(job))
    await b.start(job)
    const p = await until(b, job, ['exited'])
    t.match(p, { phase: 'exited', exitCode: 7, setupFailed: false })
    const out = 'setting up\nprint("code")\n{"lr": 0.1}\n'
    t.equal(await b.size(job, 'output'), out.length)
    t.equal((await b.read(job, 'output', 0, 1 << 20)).toString(), out)
    t.equal((await b.read(job, 'output', 11, 5)).toString(), out.slice(11, 16), 'a byte range')
    t.equal((await b.read(job, 'metrics', 0, 1 << 20)).toString(), '{"step": 1, "loss": 2}\n')
    const files = await b.collect(job)
    t.match(files, [{ path: 'a.txt', size: 5 }])
    t.equal(files[0].data?.toString(), 'note\n')
    await b.cleanup(job)
    t.notOk(await b.holds(job), 'nothing left')
  })

  t.test(`${name}: a failed setup never starts the run`, async t => {
    const { backend: b } = await make(t)
    const job = spec({ setup: 'echo no; exit 3', run: 'echo ran' })
    await b.prepare(job)
    await b.start(job)
    t.match(await until(b, job, ['exited']), { exitCode: 3, setupFailed: true })
    t.equal((await b.read(job, 'output', 0, 100)).toString(), 'no\n')
    await b.cleanup(job)
  })

  t.test(`${name}: cancel ends the whole tree; a busy attempt is not prepared again; orphans and attach`, async t => {
    const { backend: b, again } = await make(t)
    const m = 3100 + n
    const left = () => readdirSync('/proc').filter(x => /^\d+$/.test(x)).filter(x => {
      try { return [`sleep\0${m}\0`, `sleep\0${m + 1}\0`].includes(readFileSync(`/proc/${x}/cmdline`, 'utf8')) } catch { return false }
    })
    const job = spec({ run: `setsid sleep ${m} & echo up; sleep ${m + 1}` })
    await b.prepare(job)
    await b.start(job)
    await until(b, job, ['running'])
    for (let i = 0; i < 100 && readdirSync('/proc').filter(x => /^\d+$/.test(x)).filter(x => {
      try { return readFileSync(`/proc/${x}/cmdline`, 'utf8') === `sleep\0${m}\0` } catch { return false }
    }).length === 0; i++) await new Promise(r => setTimeout(r, 50))
    t.equal(left().length, 2, 'both sleeps run (one in a session of its own)')
    await t.rejects(b.prepare(job), { code: 'Busy' }, 'the attempt runs there')
    t.same((await b.orphans()).map(j => j.id).filter(id => id === job.id), [], 'followed by this process: nobody\'s orphan')
    await b.cancel(job, 300)
    const p = await until(b, job, ['exited', 'vanished'])
    t.equal(p.phase, 'exited')
    t.same(left(), [], 'no process of the job is left (it had two, one in a session of its own)')
    t.ok(await again().holds(job), 'another instance sees the attempt')
    await b.cleanup(job)
  })
}

contract('local', local)
if (HAVE_SSHD) contract('ssh', ssh)
else t.fail('no /usr/sbin/sshd: .ci/run installs openssh-server')
