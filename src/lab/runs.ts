// Recording a run: the lifecycle reports, sealed journal chunks and artifacts a worker writes, and retry.
import { hostname } from 'node:os'
import type { Lab } from './lab.ts'
import { getExperiment } from './experiments.ts'
import { ConflictError } from '../errors.ts'
import type { Draft } from '../store/op.ts'
import { TERMINAL, type Experiment, type Status } from '../store/state.ts'
import type { MetricBatch } from '../store/chunks.ts'
import { MAX_ARTIFACTS, checkArtifact } from '../store/ops/experiment-artifacts.ts'

export interface StatusReport {
  status: Status
  reason?: string | null
  exit_code?: number | null
  metrics?: Record<string, number> | null
  worker?: string
  host?: string
  /** output bytes past lab.maxOutput, not recorded */
  output_dropped?: number
}

export function statusDraft(id: string, attempt: number, r: StatusReport): Draft {
  const payload: Record<string, unknown> = { status: r.status, attempt }
  if (r.reason) payload.reason = r.reason.slice(0, 4096)
  if (typeof r.exit_code === 'number') payload.exit_code = Math.max(-1024, Math.min(1024, r.exit_code))
  if (r.metrics && Object.keys(r.metrics).length) payload.metrics = r.metrics
  if (r.output_dropped) payload.output_dropped = r.output_dropped
  if (r.status === 'claimed') { payload.worker = (r.worker ?? 'worker').slice(0, 200); payload.host = (r.host ?? hostname()).slice(0, 255) }
  return { type: 'experiment.status', entity: id, payload }
}

export interface OutputPart { data: Buffer; from: number }
/** base, rewrites: see MetricsChunkRef (recorded only when the job truncated or rewrote its metrics journal) */
export interface MetricsPart { batch: MetricBatch; from: number; to: number; base?: number; rewrites?: number }

/** One sealed stretch of the journals; null when there is nothing new to seal. */
export function chunkDraft(lab: Lab, id: string, attempt: number, output: OutputPart | null, metrics: MetricsPart | null): Draft | null {
  const attachments: Buffer[] = []
  const payload: Record<string, unknown> = { attempt }
  if (output && output.data.length) {
    payload.output = { blob: lab.repo.blobSha(output.data), from: output.from, to: output.from + output.data.length }
    attachments.push(output.data)
  }
  if (metrics && metrics.to > metrics.from) {
    const data = metrics.batch.encode()
    payload.metrics = {
      blob: lab.repo.blobSha(data), from: metrics.from, to: metrics.to, points: metrics.batch.points,
      skipped: metrics.batch.skipped, series: metrics.batch.summary(),
      ...(metrics.base ? { base: metrics.base } : {}), ...(metrics.rewrites ? { rewrites: metrics.rewrites } : {}),
    }
    attachments.push(data)
  }
  if (!payload.output && !payload.metrics) return null
  return { type: 'experiment.chunk', entity: id, payload, attachments }
}

/** data: the contents (small files); location: where a large file is kept on the host that ran the job */
export interface ArtifactFile { path: string; size: number; sha256: string; data: Buffer | null; location?: string }

/**
 * The record of an attempt's artifacts. A file the record cannot hold (a path over 1024 characters, ...) is left out
 * and named in `unrecorded`, so one odd file does not cost the others their record.
 */
export function artifactsDraft(lab: Lab, id: string, attempt: number, files: ArtifactFile[]):
  { draft: Draft | null; unrecorded: Array<{ path: string; reason: string }> } {
  const attachments: Buffer[] = []
  const list: Array<Record<string, unknown>> = []
  const unrecorded: Array<{ path: string; reason: string }> = []
  for (const f of files.slice(0, MAX_ARTIFACTS)) {
    const entry: Record<string, unknown> = f.data
      ? { path: f.path, size: f.size, sha256: f.sha256, blob: lab.repo.blobSha(f.data) }
      : { path: f.path, size: f.size, sha256: f.sha256, blob: null, location: f.location ?? null }
    const why = checkArtifact(entry)
    if (why) { unrecorded.push({ path: f.path, reason: why }); continue }
    if (f.data) attachments.push(f.data)
    list.push(entry)
  }
  for (const f of files.slice(MAX_ARTIFACTS)) unrecorded.push({ path: f.path, reason: `more than ${MAX_ARTIFACTS} files` })
  const draft: Draft | null = list.length ? { type: 'experiment.artifacts', entity: id, payload: { attempt, files: list }, attachments } : null
  return { draft, unrecorded }
}

/** Writes a worker's reports in one record; returns the experiment as it stands after. */
export async function record(lab: Lab, id: string, drafts: Array<Draft | null>, summary: string): Promise<Experiment> {
  const list = drafts.filter((d): d is Draft => d !== null)
  const state = list.length ? await lab.write(list, `${id}: ${summary}`) : await lab.state()
  return state.experiments[id]
}

/** Queues a finished experiment again as its next attempt (same code and run spec). */
export async function retryExperiment(lab: Lab, id: string): Promise<Experiment> {
  const e = await getExperiment(lab, id)
  if (!TERMINAL.has(e.status)) throw new ConflictError(`experiment ${e.id} is ${e.status}: only a finished experiment can be retried`)
  const next = e.attempt + 1
  const after = await record(lab, e.id, [statusDraft(e.id, next, { status: 'queued', reason: `retry by ${lab.identity.name}` })], `retry as attempt ${next}`)
  if (after.attempt !== next) throw new ConflictError(`experiment ${e.id} changed meanwhile; it is at attempt ${after.attempt} (${after.status})`)
  return after
}
