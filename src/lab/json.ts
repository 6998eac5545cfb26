// The --json and HTTP shapes, declared once (snake_case, stable key order). Documented in README.md.
import type { Experiment, Idea, Message, Note } from '../store/state.ts'
import type { Series } from '../store/chunks.ts'
import type { Comparison } from './compare.ts'
import { typedParams } from '../store/params.ts'

// What a terminal acts on: C0 but \t and \n, DEL, C1, and the bidi controls that reorder a line ("Trojan Source").
// JSON.stringify escapes C0 but leaves DEL, C1 and bidi raw.
export const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g
export const uEscape = (c: string) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')
/** JSON text made safe to print: each such character (only ever inside a string) as its \uXXXX escape, same value. */
export const safeJson = (json: string) => json.replace(CONTROLS, uEscape)

const note = (n: Note) => ({ text: n.text, author: n.author, writer: n.writer, time: n.time })

export function experimentJson(e: Experiment) {
  return {
    id: e.id, status: e.status, message: e.message, run: e.run, setup: e.setup, commit: e.commit, base: e.base,
    idea: e.idea, priority: e.priority, tags: e.tags, depends_on: e.depends_on, gpus: e.gpus, timeout: e.timeout,
    params: typedParams(e.params), sweep: e.sweep, host: e.host ?? null, host_tag: e.host_tag ?? null,
    author: e.author, writer: e.writer, created_at: e.created_at, started_at: e.started_at, finished_at: e.finished_at,
    exit_code: e.exit_code, reason: e.reason, attempt: e.attempt, metrics: e.metrics, series: e.series,
    metrics_skipped: e.metrics_skipped, output_bytes: e.output_bytes, output_dropped: e.output_dropped, runner: e.runners[e.attempt] ?? null,
    artifacts: e.artifacts.filter(a => a.attempt === e.attempt).map(a => ({ path: a.path, size: a.size, sha256: a.sha256, blob: a.blob, location: a.location ?? null })),
    notes: e.notes.map(note), updated_at: e.updated_at,
  }
}

/** `show --json`: the experiment, and why this clone's workers would not run it (lab.trust), else null. Not in
 * `log --json`, whose rows are cached bytes that do not depend on this clone's config. */
export function experimentShowJson(e: Experiment, untrustedReason: string | null) {
  return { ...experimentJson(e), untrusted_reason: untrustedReason }
}

/** rewrites: how often the job truncated or rewrote its metrics file while it was read (each time read again from 0) */
export function metricsJson(id: string, attempt: number, skipped: number, series: Array<[string, Series]>, rewrites = 0) {
  return {
    id, attempt, skipped, rewrites,
    series: Object.fromEntries(series.map(([k, s]) => [k, s.value.map((v, i) => ({ step: s.step[i], value: v, time: new Date(s.time[i]).toISOString() }))])),
  }
}

export function comparisonJson(c: Comparison) {
  return {
    objective: c.objective,
    experiments: c.experiments.map(e => ({
      id: e.id, message: e.message, status: e.status, exit_code: e.exit_code, run: e.run, setup: e.setup, tags: e.tags, idea: e.idea,
      commit: e.commit, base: e.base, code: c.code[e.id], params: typedParams(e.params), metrics: e.metrics,
    })),
    metrics: Object.fromEntries(Object.entries(c.metrics).map(([m, cells]) => [m, { direction: c.directions[m], by_experiment: cells }])),
    best: c.best,
  }
}
export type ExperimentJson = ReturnType<typeof experimentJson>

export function ideaJson(i: Idea) {
  return {
    id: i.id, text: i.text, status: i.status, conclusion: i.conclusion, parents: i.parents, children: i.children,
    tags: i.tags, notes: i.notes.map(note), author: i.author, writer: i.writer, created_at: i.created_at, updated_at: i.updated_at,
  }
}

export function messageJson(m: Message & { unread?: boolean }) {
  return { id: m.id, from: m.from, to: m.to, text: m.text, author: m.author, writer: m.writer, created_at: m.created_at, read_by: m.read_by, unread: m.unread ?? false }
}
