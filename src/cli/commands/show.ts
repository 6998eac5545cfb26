// git lab show ID
import type { Ctx } from '../io.ts'
import { json } from '../io.ts'
import { withLab } from '../open.ts'
import { getExperiment } from '../../lab/experiments.ts'
import { experimentJson } from '../../lab/json.ts'
import { list } from '../format.ts'

export async function run(ctx: Ctx, args: string[], o: Record<string, unknown>) {
  const e = await withLab(ctx, lab => getExperiment(lab, args[0]))
  if (o.json) return json(ctx.io, experimentJson(e))
  const rows: Array<[string, string | number | null]> = [
    ['status', e.status + (e.reason ? ` (${e.reason})` : '')], ['run', e.run], ['setup', e.setup], ['commit', e.commit],
    ['base', e.base], ['idea', e.idea], ['priority', e.priority], ['tags', list(e.tags)], ['depends on', list(e.depends_on)],
    ['gpus', e.gpus], ['timeout', e.timeout === null ? null : `${e.timeout}s`], ['attempt', e.attempt], ['author', e.author],
    ['writer', e.writer], ['created', e.created_at], ['started', e.started_at], ['finished', e.finished_at], ['exit code', e.exit_code],
  ]
  let t = `experiment ${e.id}\n${e.message}\n\n`
  t += rows.filter(([, v]) => v !== null && v !== '').map(([k, v]) => `${(k + ':').padEnd(12)}${v}\n`).join('')
  const metrics = Object.entries(e.metrics)
  if (metrics.length) t += '\nmetrics:\n' + metrics.map(([k, v]) => `  ${k} = ${v}\n`).join('')
  if (e.notes.length) t += '\nnotes:\n' + e.notes.map(n => `  ${n.time}  ${n.author}\n    ${n.text.replace(/\n/g, '\n    ')}\n`).join('')
  ctx.io.out(t)
}
