// The one interface the worker drives hosts through: local is the first backend; ssh and slurm fit the same calls.
import type { ArtifactFile } from '../lab/runs.ts'
import type { Experiment } from '../store/state.ts'

/** Everything a backend needs to run one attempt. */
export interface JobSpec {
  id: string
  attempt: number
  /** the code snapshot to check out (null: run in an empty folder) */
  commit: string | null
  run: string
  setup: string | null
  /** LAB_EXPERIMENT, LAB_IDEA, LAB_PARAM_*, CUDA_VISIBLE_DEVICES, ...: the backend adds LAB_METRICS, LAB_OUTPUT, LAB_PARAMS */
  env: Record<string, string>
  /** the text of the $LAB_PARAMS file (JSON), which the backend writes where the job runs (absent: `{}`) */
  params?: string
  gpus: string[]
  timeout: number | null
  /** SIGTERM to SIGKILL, for what the job leaves running when it ends (default 10 s) */
  graceMs?: number
  /** keep the worktree and journals after the run */
  keep: boolean
  /** the SSH host it runs on (absent: this machine) */
  host?: string
}

export type Stream = 'output' | 'metrics'

export interface JobPoll {
  /** setting_up: running --setup; running: the run command; exited: the supervisor wrote how it ended;
   *  vanished: the job's process is gone without an exit record (host restarted, supervisor killed) */
  phase: 'starting' | 'setting_up' | 'running' | 'exited' | 'vanished'
  /** the run command's exit code (128+N: killed by signal N) */
  exitCode: number | null
  /** true when --setup failed (exitCode is its code and the run command never started) */
  setupFailed: boolean
  /** when the job started, ms since the epoch */
  startedAt: number
  /** vanished: why, when the backend knows (host unreachable past lab.hostTimeout, host restarted) */
  reason?: string
}

/** Where a job goes: the GPUs it gets (ids as gpus() lists them) and, for a backend of several hosts, which one. */
export interface Placement { gpus: string[]; host?: string }

export interface Backend {
  readonly name: string
  /** GPU ids this host offers */
  gpus(): Promise<string[]>
  /** checks out the code where the job will run; BusyError if anything of this attempt is alive there already */
  prepare(job: JobSpec): Promise<void>
  /**
   * starts the job under its supervisor, detached from the worker: it outlives a killed worker. When the job ends,
   * everything it started ends too (SIGTERM, SIGKILL after graceMs), before the end is recorded on the host.
   */
  start(job: JobSpec): Promise<void>
  /** jobs this backend holds that no live worker is attached to (to re-attach after a restart) */
  orphans(): Promise<JobSpec[]>
  /** whether the backend has any trace of this attempt (prepared, running or finished but not cleaned up) */
  holds(job: { id: string; attempt: number }): Promise<boolean>
  /** claims the right to follow a job (one worker per job); false if another live worker follows it */
  attach(job: JobSpec): Promise<boolean>
  /** bytes [offset, offset+max) of a journal: what was read before is never needed again */
  read(job: JobSpec, stream: Stream, offset: number, max: number): Promise<Buffer>
  /** current size of a journal */
  size(job: JobSpec, stream: Stream): Promise<number>
  poll(job: JobSpec): Promise<JobPoll>
  /** SIGTERM to the job's whole process tree, SIGKILL after graceMs; resolves when all of it is gone */
  cancel(job: JobSpec, graceMs: number): Promise<void>
  /** the files the job left in $LAB_OUTPUT (contents only for small ones) */
  collect(job: JobSpec): Promise<ArtifactFile[]>
  /** ends what is left of the job's tree, removes the worktree and journals (kept when job.keep), lets go of the job;
   *  never while the job runs or another live worker follows it */
  cleanup(job: JobSpec): Promise<void>
  /** resolves when something about the job may have changed (its process ended); optional low-latency hint */
  changed?(job: JobSpec): Promise<void>
  /** why this backend can never run an experiment (e.g. pinned to a host it does not serve), or null. Absent: only
   *  experiments not pinned to an SSH host */
  fits?(e: Experiment): string | null
  /** where a job of this experiment goes now, given the free GPUs and where the jobs running (or being started) are;
   *  null: nowhere yet. Absent: the first free GPUs, on this machine */
  place?(e: Experiment, free: string[], running: Array<Pick<JobSpec, 'host'>>): Promise<Placement | null>
  /** how many jobs it runs at once unless the worker is told (a backend of hosts: the sum of their slots) */
  readonly totalSlots?: number
  /** lets go of connections, so the process can exit */
  close?(): void
}
