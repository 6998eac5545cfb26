// Comparing experiments: their params and code side by side, summary metrics, and which is best by the objective.
import type { Lab } from './lab.ts'
import { resolveId } from './ids.ts'
import { InvalidError, NotFoundError } from '../errors.ts'
import type { Experiment, Objective } from '../store/state.ts'
import { dict } from '../store/safe-json.ts'

export type Direction = 'minimize' | 'maximize'

/** A metric's direction when the lab's objective does not name it: by the usual names, else unknown. */
export function guessDirection(metric: string): Direction | null {
  const m = metric.toLowerCase()
  if (/(loss|err|error|perplexity|ppl|wer|cer|mse|mae|rmse|nll|regret|latency|time)$/.test(m) || /loss/.test(m)) return 'minimize'
  if (/(acc|accuracy|f1|auc|auroc|precision|recall|bleu|rouge\w*|score|reward|return|map|iou|dice|r2)$/.test(m)) return 'maximize'
  return null
}

/** last: the final value (show's FINAL); min, max, count: the logged series (null, 0 without one) */
export interface MetricCell { last: number; min: number | null; max: number | null; best: number | null; count: number }
export interface CodeChange { vs: string | null; files: number; insertions: number; deletions: number }

export interface Comparison {
  objective: Objective | null
  experiments: Experiment[]
  code: Record<string, CodeChange | null>
  /** every param name any of them has, in the order first given */
  params: string[]
  /** metric -> experiment id -> summary (null: that experiment has no such metric) */
  metrics: Record<string, Record<string, MetricCell | null>>
  directions: Record<string, Direction | null>
  best: { metric: string; direction: Direction; id: string; value: number } | null
}

export function parseShortstat(text: string): { files: number; insertions: number; deletions: number } {
  const n = (re: RegExp) => Number(re.exec(text)?.[1] ?? 0)
  return { files: n(/(\d+) files? changed/), insertions: n(/(\d+) insertions?/), deletions: n(/(\d+) deletions?/) }
}

export async function compareExperiments(lab: Lab, ids: string[], o: { metric?: string; direction?: Direction } = {}): Promise<Comparison> {
  if (ids.length < 2) throw new InvalidError('compare needs at least two experiments')
  const s = await lab.state()
  const resolved = ids.map(id => resolveId('experiment', s.experiments, id))
  const twice = resolved.findIndex((id, i) => resolved.indexOf(id) !== i)
  if (twice >= 0) throw new InvalidError(`experiment ${resolved[twice]} is given twice (${JSON.stringify(ids[resolved.indexOf(resolved[twice])])} and ${JSON.stringify(ids[twice])}): compare different experiments`)
  const exps = resolved.map(id => s.experiments[id])
  const objective: Objective | null = o.metric ? { metric: o.metric, direction: o.direction ?? guessDirection(o.metric) ?? 'minimize' } : s.config.objective
  // Code: each experiment against the first (the first against what it was based on).
  const first = exps[0]
  const code: Record<string, CodeChange | null> = {}
  await Promise.all(exps.map(async (e, i) => {
    const from = i === 0 ? e.base : first.commit
    if (!e.commit || (i > 0 && !from)) { code[e.id] = null; return }
    const stat = from === e.commit ? '' : await lab.repo.shortstat(from, e.commit)
    code[e.id] = { vs: i === 0 ? null : first.id, ...parseShortstat(stat) }
  }))
  const params = [...new Set(exps.flatMap(e => Object.keys(e.params)))]
  const names = [...new Set(exps.flatMap(e => [...Object.keys(e.metrics), ...Object.keys(e.series)]))].sort()
  const directions = dict<Direction | null>()
  const metrics: Comparison['metrics'] = dict()
  for (const m of names) {
    const dir = objective?.metric === m ? objective.direction : guessDirection(m)
    directions[m] = dir
    metrics[m] = dict()
    for (const e of exps) {
      const sr = e.series[m]
      const fin = e.metrics[m]
      if (!sr && fin === undefined) { metrics[m][e.id] = null; continue }
      const last = fin ?? sr.last
      // As show: min, max and count describe the series the job logged (none for a metric only its final line gives);
      // best is the best value it reported, the final one included.
      const reported = sr ? [sr.min, sr.max, last] : [last]
      const best = dir === 'minimize' ? Math.min(...reported) : dir === 'maximize' ? Math.max(...reported) : null
      metrics[m][e.id] = { last, min: sr ? sr.min : null, max: sr ? sr.max : null, best, count: sr ? sr.count : 0 }
    }
  }
  // A metric asked for by name that none of them has is a mistake to report, not an empty ranking.
  if (o.metric && !names.includes(o.metric)) {
    throw new NotFoundError(`none of these experiments has a metric ${JSON.stringify(o.metric)}${names.length ? ` (they have: ${names.join(', ')})` : ''}`)
  }
  let best: Comparison['best'] = null
  if (objective) {
    for (const e of exps) {
      const v = e.metrics[objective.metric]
      if (v === undefined) continue
      if (!best || (objective.direction === 'minimize' ? v < best.value : v > best.value)) best = { metric: objective.metric, direction: objective.direction, id: e.id, value: v }
    }
  }
  return { objective, experiments: exps, code, params, metrics, directions, best }
}
