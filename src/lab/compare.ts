// Comparing experiments: their params and code side by side, summary metrics, and which is best by the objective.
import type { Lab } from './lab.ts'
import { resolveId } from './ids.ts'
import { InvalidError } from '../errors.ts'
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

export interface MetricCell { last: number; min: number; max: number; best: number | null; count: number }
export interface CodeChange { vs: string | null; files: number; insertions: number; deletions: number }

export interface Comparison {
  objective: Objective | null
  experiments: Experiment[]
  code: Record<string, CodeChange | null>
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
  const exps = [...new Set(ids.map(id => resolveId('experiment', s.experiments, id)))].map(id => s.experiments[id])
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
      // min and max of the series, as show prints them; a metric given only by the final line is its own min and max
      const min = sr ? sr.min : last
      const max = sr ? sr.max : last
      metrics[m][e.id] = { last, min, max, best: dir === 'minimize' ? min : dir === 'maximize' ? max : null, count: sr?.count ?? 1 }
    }
  }
  let best: Comparison['best'] = null
  if (objective) {
    for (const e of exps) {
      const v = e.metrics[objective.metric]
      if (v === undefined) continue
      if (!best || (objective.direction === 'minimize' ? v < best.value : v > best.value)) best = { metric: objective.metric, direction: objective.direction, id: e.id, value: v }
    }
  }
  return { objective, experiments: exps, code, metrics, directions, best }
}
