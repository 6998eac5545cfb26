// One job a worker follows: what it has reported and has under way, the run spec it is started with, and what its end
// record is made of (read from the host once it exited).
import type { Lab } from '../lab/lab.ts'
import type { ClaimPosition } from '../lab/claims.ts'
import { paramEnv, paramsFile } from '../lab/params.ts'
import { artifactsDraft, type ArtifactFile, type StatusReport } from '../lab/runs.ts'
import type { Draft } from '../store/op.ts'
import type { Experiment } from '../store/state.ts'
import type { Backend, JobPoll, JobSpec, Placement } from './backend.ts'
import { finalMetrics, outcome } from './rules.ts'
import { maskArtifact } from './secrets.ts'
import type { Sealer } from './sealer.ts'

export interface Active {
  spec: JobSpec
  journal: Sealer
  reported: 'none' | 'claimed' | 'setting_up' | 'running'
  stopping: 'cancelled' | 'timed_out' | 'lost' | null
  /** why the worker stopped a job whose claim it lost */
  lostWhy: string | null
  /** this process recorded the attempt's `claimed` (so the fold's runner must name this worker, not only this writer) */
  claimedHere: boolean
  stopped: Promise<void> | null
  /** its start (claimed, and running or setting_up) is being recorded: the loop goes on meanwhile */
  starting: Promise<void> | null
  /** the job has exited and its end is being recorded (in the background: its slot is free meanwhile) */
  ending: Promise<void> | null
  gpus: string[]
  busy: boolean
  /** where its claim stands, renewed while the job runs (null: not known, e.g. re-attached without a claim) */
  claim: ClaimPosition | null
  renewedAt: number
}

/** A job as the records show it: reported as far as its runner's records go. */
export function newActive(spec: JobSpec, e: Experiment, journal: Sealer): Active {
  const runner = e.runners[spec.attempt]
  const reported = !runner ? 'none' : e.status === 'running' ? 'running' : e.status === 'setting_up' ? 'setting_up' : 'claimed'
  return {
    spec, journal, reported, stopping: null, stopped: null, starting: null, ending: null,
    lostWhy: null, claimedHere: false, gpus: spec.gpus, busy: false, claim: null, renewedAt: Date.now(),
  }
}

/** What a backend needs to run the experiment's attempt where it was placed. gpusKnown: the host has GPUs to hand out. */
export function jobSpec(e: Experiment, where: Placement, o: { keep: boolean; graceMs: number; gpusKnown: boolean }): JobSpec {
  const gpus = where.gpus
  return {
    ...(where.host ? { host: where.host } : {}),
    id: e.id, attempt: e.attempt, commit: e.commit, run: e.run, setup: e.setup, gpus, timeout: e.timeout, keep: o.keep,
    graceMs: o.graceMs,
    params: paramsFile(e.params),
    env: {
      LAB_EXPERIMENT: e.id, LAB_ATTEMPT: String(e.attempt), LAB_IDEA: e.idea ?? '', ...paramEnv(e.params),
      ...(o.gpusKnown || gpus.length ? { CUDA_VISIBLE_DEVICES: gpus.join(',') } : {}),
    },
  }
}

export interface EndFound { size: number; tail: Buffer; files: ArtifactFile[] }

/**
 * What the end record takes from the host, read while the job's start may still be being written (the job has
 * exited: its journals and output folder change no more): the output's size and last 64 KiB, the artifacts (masked
 * as the output is), the metrics journal's last lines.
 */
export async function gatherEnd(backend: Backend, a: Active, secrets: Buffer[]): Promise<EndFound> {
  const { spec } = a
  const [size, files] = await Promise.all([
    backend.size(spec, 'output'),
    backend.collect(spec).catch(() => []).then(fs => fs.map(f => maskArtifact(f, secrets))),
    a.journal.ingest(true),
  ])
  return { size, tail: await backend.read(spec, 'output', Math.max(0, size - 65536), 65536), files }
}

/** How the job ended (its last output line may carry final metrics) and its artifacts' record; files it cannot hold. */
export function endRecord(lab: Lab, a: Active, e: Experiment, poll: JobPoll, got: EndFound, maxOutput: number):
  { end: StatusReport & { output_dropped: number }; arts: Draft | null; unrecorded: Array<{ path: string; reason: string }> } {
  const end = { ...outcome(a.stopping, a.spec.timeout, e, poll, finalMetrics(got.tail), a.lostWhy), output_dropped: Math.max(0, got.size - maxOutput) }
  // Small artifacts go into git: the same secrets as in the output were masked in them (gatherEnd).
  const { draft: arts, unrecorded } = artifactsDraft(lab, a.spec.id, a.spec.attempt, got.files)
  return { end, arts, unrecorded }
}

