// The local backend: a detached worktree per attempt under .git/lab/runs/<id>.<attempt>/, and a small shell
// supervisor in its own session that writes its pid, the phase, and how the job ended, next to the journals.
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { chmod, lstat, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { Lab } from '../lab/lab.ts'
import type { ArtifactFile } from '../lab/runs.ts'
import { DONE_FILE, METRICS_FILE, OUTPUT_FILE, artifactsDir, fileSize, readRange, runDir, runsDir } from '../lab/journal.ts'
import type { Backend, JobPoll, JobSpec, Stream } from './backend.ts'
import { alive, commandLine, jobProcesses, same, self, signalAll, startedAt } from './proc.ts'
import { supervisorArgs } from './supervisor.ts'
import { BusyError } from '../errors.ts'
import { detectGpus } from './gpus.ts'
import { PARAMS_FILE, withoutParams } from '../lab/params.ts'

/** Small files in $LAB_OUTPUT become blobs; larger ones are recorded by size and hash only. */
export const ARTIFACT_INLINE_BYTES = 1024 * 1024
const ARTIFACT_INLINE_TOTAL = 16 * 1024 * 1024
const MAX_ARTIFACTS = 1000

/** job.json. tag: in LAB_JOB_TAG of every process of the job, to find its tree (src/dispatch/supervisor.ts). */
interface JobFile { spec: JobSpec; created: number; tag?: string }

/** How long what a job leaves running gets between SIGTERM and SIGKILL when nothing else is said. */
const DEFAULT_GRACE_MS = 10_000
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

// Journals and artifacts hold whatever a job printed or wrote, secrets included: owner only, whatever the umask
// (mkdir and open apply it; chmod does not).
const PRIVATE_DIR = 0o700
const PRIVATE_FILE = 0o600

async function privateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR })
  await chmod(dir, PRIVATE_DIR)
}

/** Folders (and their journals) made by a version that left them readable by others: tightened once per process. */
async function tightenOld(root: string, files: string[]): Promise<void> {
  const names = await readdir(root).catch(() => null)
  if (!names) return
  await chmod(root, PRIVATE_DIR).catch(() => undefined)
  await Promise.all(names.map(async n => {
    const d = path.join(root, n)
    if (!(await lstat(d).catch(() => null))?.isDirectory()) return
    await chmod(d, PRIVATE_DIR).catch(() => undefined)
    await Promise.all(files.map(f => chmod(path.join(d, f), PRIVATE_FILE).catch(() => undefined)))
  }))
}

export class LocalBackend implements Backend {
  readonly name = 'local'
  private readonly exits = new Map<string, Promise<void>>()
  /** runs whose output folder holds files too large for git: kept under .git/lab/artifacts after cleanup */
  private readonly keepOutput = new Set<string>()

  constructor(readonly lab: Lab, private readonly gpuOverride: string[] | null = null) {}

  private dir(job: { id: string; attempt: number }) { return runDir(this.lab, job.id, job.attempt) }
  private tightened: Promise<void> | null = null
  private key(job: { id: string; attempt: number }) { return `${job.id}.${job.attempt}` }

  async gpus(): Promise<string[]> {
    return this.gpuOverride ?? detectGpus(this.lab.get('lab.gpus'))
  }

  async prepare(job: JobSpec): Promise<void> {
    const d = this.dir(job)
    // A run folder whose job is alive is never removed or reused, whoever asks (a second claimer of the attempt, a
    // worker taking over from one killed between starting a job and recording it).
    const [busy, there] = await Promise.all([this.busy(job), lstat(d).then(() => true, () => false)])
    if (busy) throw new BusyError(`a job of ${job.id} (attempt ${job.attempt}) is still running here: ${d}`)
    // A half-prepared or dead run of this attempt is started over: moved aside first, so of two preparers one wins.
    if (there) {
      if (await lstat(path.join(d, 'work', '.git')).catch(() => null)) await this.lab.repo.worktreeRemove(path.join(d, 'work')).catch(() => undefined)
      const aside = `${d}.stale-${randomBytes(4).toString('hex')}`
      await rename(d, aside).then(() => rm(aside, { recursive: true, force: true }), () => undefined)
    }
    this.jobFiles.delete(this.key(job))
    this.tightened ??= Promise.all([
      tightenOld(runsDir(this.lab), [OUTPUT_FILE, METRICS_FILE]),
      tightenOld(path.dirname(artifactsDir(this.lab, job.id, job.attempt)), []),
    ]).then(() => privateDir(runsDir(this.lab)))
    await this.tightened
    for (let i = 0; ; i++) {
      try {
        await mkdir(d, { mode: PRIVATE_DIR })
        break
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code
        if (code === 'EEXIST') throw new BusyError(`another process is preparing ${job.id} (attempt ${job.attempt}) here: ${d}`)
        // (the runs folder, made once per process, was removed meanwhile)
        if (code !== 'ENOENT' || i > 0) throw e
        await privateDir(runsDir(this.lab))
      }
    }
    // The folder is this preparer's now: the checkout (the slow part, a git process) runs while the journals, the
    // lock and job.json are written.
    const checkout = job.commit ? this.lab.repo.worktreeAdd(path.join(d, 'work'), job.commit) : mkdir(path.join(d, 'work'))
    const files = (async () => {
      await Promise.all([chmod(d, PRIVATE_DIR), privateDir(path.join(d, 'out')), ...[OUTPUT_FILE, METRICS_FILE, PARAMS_FILE].map(async f => {
        await writeFile(path.join(d, f), f === PARAMS_FILE ? job.params ?? '{}\n' : '', { mode: PRIVATE_FILE })
        await chmod(path.join(d, f), PRIVATE_FILE)
      })])
      if (!(await this.lock(job))) throw new BusyError(`another worker holds ${job.id} (attempt ${job.attempt}) here: ${d}`)
      const file: JobFile = { spec: job, created: Date.now(), tag: randomBytes(8).toString('hex') }
      await writeFile(path.join(d, 'job.json'), JSON.stringify(file) + '\n')
      this.jobFiles.set(this.key(job), file)
    })()
    const [co, fi] = await Promise.allSettled([checkout, files])
    if (fi.status === 'rejected') throw fi.reason
    if (co.status === 'rejected') throw co.reason
  }

  async start(job: JobSpec): Promise<void> {
    const d = this.dir(job)
    const tag = (await this.jobFile(job))?.tag ?? randomBytes(8).toString('hex')
    // The user's environment without git's repository variables (from `git --git-dir=X lab run`, a hook, an alias):
    // the job's git works on the job's own worktree, never on the user's checkout.
    const user = withoutParams(this.lab.env)
    for (const k of await this.lab.repo.localEnvVars()) delete user[k]
    const env: NodeJS.ProcessEnv = {
      // Python buffers a redirected stdout: without this, a training script's progress reaches the log in 8 KiB steps.
      PYTHONUNBUFFERED: '1',
      ...user, ...job.env, LAB_METRICS: path.join(d, METRICS_FILE), LAB_OUTPUT: path.join(d, 'out'),
      LAB_PARAMS: path.join(d, PARAMS_FILE),
    }
    // detached: setsid(), so the job is its own session and process group and outlives the worker
    const args = supervisorArgs(d, job.setup ?? '', job.run, tag, job.graceMs ?? DEFAULT_GRACE_MS)
    const child = spawn('sh', args, { cwd: d, env, detached: true, stdio: 'ignore' })
    this.exits.set(this.key(job), new Promise(resolve => { child.on('exit', () => resolve()); child.on('error', () => resolve()) }))
    child.unref()
  }

  changed(job: JobSpec): Promise<void> {
    return this.exits.get(this.key(job)) ?? new Promise(() => { /* not our child: the worker polls */ })
  }

  async orphans(): Promise<JobSpec[]> {
    const names = await readdir(runsDir(this.lab)).catch(() => [] as string[])
    const out: JobSpec[] = []
    for (const n of names) {
      const d = path.join(runsDir(this.lab), n)
      const job = await readFile(path.join(d, 'job.json'), 'utf8').then(t => JSON.parse(t) as JobFile, () => null)
      if (!job || await fileSize(path.join(d, DONE_FILE)) > 0) continue
      if (await this.lockHolder(job.spec)) continue
      out.push(job.spec)
    }
    return out
  }

  attach(job: JobSpec): Promise<boolean> { return this.lock(job) }

  async holds(job: { id: string; attempt: number }): Promise<boolean> {
    return (await fileSize(path.join(this.dir(job), 'job.json'))) > 0
  }

  /** One live worker follows a job: an exclusive lock file naming it by pid and start time; a dead holder's is broken. */
  private async lock(job: JobSpec): Promise<boolean> {
    const file = path.join(this.dir(job), 'lock')
    const me = JSON.stringify(self()) + '\n'
    for (let i = 0; i < 3; i++) {
      try {
        await writeFile(file, me, { flag: 'wx' })
        return true
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
      }
      const holder = await this.lockHolder(job)
      if (holder) return holder === 'me'
      // Stale: move it aside under a unique name; of two workers breaking it, only one rename finds it.
      const aside = `${file}.stale-${process.pid}`
      try { await rename(file, aside) } catch { continue }
      await rm(aside, { force: true })
    }
    return false
  }

  /**
   * Stops a job of this clone that no live worker follows (its worker was killed): SIGTERM, SIGKILL after graceMs.
   * Its supervisor records the exit; the next worker re-attaches and records the end. False if a worker follows it.
   */
  async stopUnattended(job: { id: string; attempt: number }, graceMs: number): Promise<boolean> {
    const spec = job as JobSpec
    if (!(await this.holds(job)) || (await this.lockHolder(spec)) === 'other') return false
    await this.cancel(spec, graceMs)
    return true
  }

  private async lockHolder(job: JobSpec): Promise<'me' | 'other' | null> {
    const text = await readFile(path.join(this.dir(job), 'lock'), 'utf8').catch(() => null)
    if (text === null) return null
    try {
      const who = JSON.parse(text) as { pid: number; start: number | null }
      if (who.pid === process.pid) return 'me'
      return same(who) ? 'other' : null
    } catch { return null }
  }

  async read(job: JobSpec, stream: Stream, offset: number, max: number): Promise<Buffer> {
    return readRange(path.join(this.dir(job), stream === 'output' ? OUTPUT_FILE : METRICS_FILE), offset, Infinity, max)
  }

  size(job: JobSpec, stream: Stream): Promise<number> {
    return fileSize(path.join(this.dir(job), stream === 'output' ? OUTPUT_FILE : METRICS_FILE))
  }

  private readonly jobFiles = new Map<string, JobFile>()
  /** job.json, read once per job. */
  private async jobFile(job: { id: string; attempt: number }): Promise<JobFile | null> {
    const k = this.key(job)
    if (!this.jobFiles.has(k)) {
      const f = await readFile(path.join(this.dir(job), 'job.json'), 'utf8').then(t => JSON.parse(t) as JobFile, () => null)
      if (!f || typeof f.created !== 'number') return null
      this.jobFiles.set(k, f)
    }
    return this.jobFiles.get(k)!
  }
  /** When the job was prepared. */
  private async created(job: JobSpec): Promise<number | null> { return (await this.jobFile(job))?.created ?? null }

  /** The job's processes now (its supervisor excluded): src/dispatch/supervisor.ts says what counts. */
  private async tree(job: { id: string; attempt: number }, supervisor: number | null): Promise<number[]> {
    const tag = (await this.jobFile(job))?.tag ?? null
    return supervisor === null && !tag ? [] : jobProcesses(supervisor, tag)
  }

  /** Whether anything of the attempt is alive here: a worker following it, its supervisor, or any process of its tree. */
  private async busy(job: JobSpec): Promise<boolean> {
    this.jobFiles.delete(this.key(job))
    const [holder, pid] = await Promise.all([this.lockHolder(job), this.pid(job)])
    return holder === 'other' || pid !== null || (await this.tree(job, null)).length > 0
  }

  private async pid(job: JobSpec): Promise<number | null> {
    const d = this.dir(job)
    // (The supervisor writes its files in place, one short write each, no rename: a file is only taken once its
    // line is complete.)
    const pid = Number(/^(\d+)\n/.exec(await readFile(path.join(d, 'pid'), 'utf8').catch(() => ''))?.[1])
    // The pid is ours only while it is a supervisor of this very run dir that started after the job was prepared.
    if (!pid || !alive(pid) || !commandLine(pid).includes(`git-lab-supervisor ${d} `)) return null
    const created = await this.created(job)
    const started = startedAt(pid)
    if (created !== null && started !== null && started < created - 2000) return null
    return pid
  }

  async poll(job: JobSpec): Promise<JobPoll> {
    const d = this.dir(job)
    const created = (await this.created(job)) ?? Date.now()
    const exited = async (): Promise<JobPoll | null> => {
      const text = await readFile(path.join(d, 'exit'), 'utf8').catch(() => null)
      const m = text ? /^(setup|run) (\d+)\n/.exec(text) : null
      return m ? { phase: 'exited', exitCode: Number(m[2]), setupFailed: m[1] === 'setup', startedAt: created } : null
    }
    const done = await exited()
    if (done) return done
    const pid = await this.pid(job)
    if (pid !== null) {
      const phase = (await readFile(path.join(d, 'phase'), 'utf8').catch(() => '')).trim()
      return { phase: phase === 'running' ? 'running' : phase === 'setting_up' ? 'setting_up' : 'starting', exitCode: null, setupFailed: false, startedAt: created }
    }
    // It may have written its exit record between the two reads.
    const late = await exited()
    if (late) return late
    const hasPid = await fileSize(path.join(d, 'pid')) > 0
    const phase = hasPid || Date.now() - created > 30_000 ? 'vanished' : 'starting'
    return { phase, exitCode: null, setupFailed: false, startedAt: created }
  }

  /**
   * Asks the supervisor to stop the job: the grace goes to `stop`, SIGTERM to the process group (the job gets it at
   * once; the supervisor traps it, gives the rest of the tree SIGTERM and everything SIGKILL after the grace, then
   * writes `exit`). Resolves once `exit` is written and the tree is gone. A supervisor that is gone (killed) or does
   * not finish within the grace and a margin is replaced from here: SIGTERM, the grace, SIGKILL to whatever is left.
   */
  async cancel(job: JobSpec, graceMs: number): Promise<void> {
    const d = this.dir(job)
    const grace = Math.max(0, Math.round(graceMs))
    const pid = await this.pid(job)
    if (pid !== null) {
      await writeFile(path.join(d, 'stop.tmp'), `${grace}\n`).then(() => rename(path.join(d, 'stop.tmp'), path.join(d, 'stop'))).catch(() => undefined)
      try { process.kill(-pid, 'SIGTERM') } catch { /* gone */ }
      const until = Date.now() + grace + 5000
      while (Date.now() < until) {
        const exited = await fileSize(path.join(d, 'exit')) > 0
        if ((exited || !alive(pid)) && (await this.tree(job, alive(pid) ? pid : null)).length === 0) return
        await sleep(50)
      }
      // Still the same supervisor (checked again: its pid could have been reused), stuck: its group goes at once.
      const still = await this.pid(job)
      if (still !== null) { try { process.kill(-still, 'SIGKILL') } catch { /* gone */ } }
    }
    await this.end(job, pid === null ? grace : 0)
  }

  /** Ends what is left of the job's tree from here (its supervisor is gone): SIGTERM, SIGKILL after graceMs. */
  private async end(job: JobSpec, graceMs: number): Promise<void> {
    let left = await this.tree(job, null)
    if (!left.length) return
    signalAll(left, 'SIGTERM')
    const until = Date.now() + graceMs
    while (left.length && Date.now() < until) { await sleep(50); left = await this.tree(job, null) }
    for (let i = 0; i < 100 && left.length; i++) {
      signalAll(left, 'SIGKILL')
      await sleep(20)
      left = await this.tree(job, null)
    }
  }

  async collect(job: JobSpec): Promise<ArtifactFile[]> {
    const root = path.join(this.dir(job), 'out')
    const files: ArtifactFile[] = []
    let inline = 0
    const walk = async (rel: string): Promise<void> => {
      const names = (await readdir(path.join(root, rel)).catch(() => [] as string[])).sort()
      for (const n of names) {
        if (files.length >= MAX_ARTIFACTS) return
        const r = rel ? `${rel}/${n}` : n
        const st = await lstat(path.join(root, r)).catch(() => null)
        // Regular files only: a symlink could point at a secret outside the output folder.
        if (st?.isDirectory()) await walk(r)
        else if (st?.isFile()) {
          const small = st.size <= ARTIFACT_INLINE_BYTES && inline + st.size <= ARTIFACT_INLINE_TOTAL
          const data = small ? await readFile(path.join(root, r)) : null
          if (data) inline += data.length
          if (!data) this.keepOutput.add(this.key(job))
          files.push({
            path: r, size: st.size, data, location: data ? undefined : path.join(job.keep ? root : artifactsDir(this.lab, job.id, job.attempt), r),
            sha256: data ? createHash('sha256').update(data).digest('hex') : await sha256File(path.join(root, r)),
          })
        }
      }
    }
    await walk('')
    return files
  }

  async cleanup(job: JobSpec): Promise<void> {
    const d = this.dir(job)
    // Only the worker following the job cleans up, and never while the job runs.
    if ((await this.lockHolder(job)) === 'other') return
    if ((await this.pid(job)) !== null && !(await fileSize(path.join(d, 'exit')))) throw new BusyError(`${job.id} (attempt ${job.attempt}) is still running here`)
    // Its supervisor wrote `exit` after ending the tree; one that vanished (killed) may have left processes behind.
    await this.end(job, 1000)
    this.jobFiles.delete(this.key(job))
    if (job.keep) {
      await writeFile(path.join(d, DONE_FILE), new Date().toISOString() + '\n')
      await rm(path.join(d, 'lock'), { force: true })
      return
    }
    if (this.keepOutput.delete(this.key(job))) {
      // Large artifacts stay on this host, out of git: the record names where.
      const keep = artifactsDir(this.lab, job.id, job.attempt)
      await privateDir(path.dirname(keep))
      await rm(keep, { recursive: true, force: true })
      await rename(path.join(d, 'out'), keep)
    }
    if (job.commit) await this.lab.repo.worktreeRemove(path.join(d, 'work')).catch(() => undefined)
    await rm(d, { recursive: true, force: true })
    this.exits.delete(this.key(job))
  }
}

function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256')
    createReadStream(file).on('data', b => h.update(b)).on('end', () => resolve(h.digest('hex'))).on('error', reject)
  })
}
