// experiment.queue: a new experiment (code snapshot + run spec), waiting to run.
import type { OpKind } from './kind.ts'
import { checkFields, entity, int, list, sha, tag, text, str, strs } from './check.ts'
import { dict } from '../safe-json.ts'
import { checkParams } from '../params.ts'

// (made once: a first build validates thousands of these)
const SCHEMA = {
  message: text(16384), run: text(16384), setup: text(16384, true), commit: sha(true), base: sha(true),
  idea: entity(true), priority: int(-1_000_000, 1_000_000, true), tags: list(tag, 64), depends_on: list(entity(), 256),
  gpus: int(0, 1024, true), timeout: int(1, 10 * 365 * 86400, true), params: checkParams, sweep: entity(true),
  host: entity(true), host_tag: (v: unknown) => v === null || v === undefined ? null : tag(v),
}

export const experimentQueue: OpKind = {
  type: 'experiment.queue',
  validate: p => checkFields(p, SCHEMA),
  apply(s, op) {
    if (s.experiments[op.entity]) return `experiment ${op.entity} already exists`
    const p = op.payload
    s.experiments[op.entity] = {
      id: op.entity, status: 'queued', message: str(p.message), run: str(p.run),
      setup: typeof p.setup === 'string' ? p.setup : null,
      commit: typeof p.commit === 'string' ? p.commit : null, base: typeof p.base === 'string' ? p.base : null,
      idea: typeof p.idea === 'string' ? p.idea : null, priority: typeof p.priority === 'number' ? p.priority : 0,
      tags: [...new Set(strs(p.tags))].sort(), depends_on: [...new Set(strs(p.depends_on))],
      gpus: typeof p.gpus === 'number' ? p.gpus : 0, timeout: typeof p.timeout === 'number' ? p.timeout : null,
      params: params(p.params), sweep: typeof p.sweep === 'string' ? p.sweep : null,
      host: typeof p.host === 'string' ? p.host : null, host_tag: typeof p.host_tag === 'string' ? p.host_tag : null,
      author: op.author, writer: op.writer, created_at: op.time, started_at: null, finished_at: null,
      exit_code: null, reason: null, attempt: 1, metrics: dict(), final_metrics: null, series: dict(), metrics_skipped: 0,
      output_bytes: 0, output_dropped: 0, chunks: [], artifacts: [], runners: dict(), notes: [], updated_at: op.time,
    }
    return null
  },
}

/** The validated payload's params copied into a map without prototype (names are another writer's choice). */
function params(v: unknown): Record<string, string> {
  const d = dict<string>()
  if (v && typeof v === 'object') for (const k of Object.keys(v)) { const x = (v as Record<string, unknown>)[k]; if (typeof x === 'string') d[k] = x }
  return d
}
