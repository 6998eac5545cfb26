// git lab metrics ID [--json | --csv] [--attempt N] [--series NAME]
import type { Ctx } from '../io.ts'
import { json } from '../io.ts'
import { withLab, int, many } from '../open.ts'
import { getExperiment } from '../../lab/experiments.ts'
import { readMetrics } from '../../lab/journal.ts'
import { metricsJson } from '../../lab/json.ts'
import { table } from '../format.ts'
import { NotFoundError, UsageError } from '../../errors.ts'

const csvField = (s: string) => /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s

export async function run(ctx: Ctx, args: string[], o: Record<string, unknown>) {
  if (o.json && o.csv) throw new UsageError('give --json or --csv, not both')
  const { e, attempt, m } = await withLab(ctx, async lab => {
    const e = await getExperiment(lab, args[0])
    const attempt = int('attempt', o.attempt) ?? e.attempt
    if (attempt < 1 || attempt > e.attempt) throw new NotFoundError(`${e.id} has attempts 1 to ${e.attempt}`)
    return { e, attempt, m: await readMetrics(lab, e, attempt) }
  })
  const only = many(o.series)
  const names = Object.keys(m.series).filter(k => !only.length || only.includes(k)).sort()
  if (only.length && !names.length) throw new NotFoundError(`${e.id} has no series ${only.map(s => JSON.stringify(s)).join(', ')} (it has: ${Object.keys(m.series).sort().join(', ') || 'none'})`)
  if (o.json) return json(ctx.io, metricsJson(e.id, attempt, m.skipped, names.map(k => [k, m.series[k]]), m.rewrites))
  if (o.csv) {
    const rows = ['series,step,value,time\n']
    for (const k of names) {
      const s = m.series[k]
      const name = csvField(k)
      for (let i = 0; i < s.value.length; i++) rows.push(`${name},${s.step[i]},${s.value[i]},${new Date(s.time[i]).toISOString()}\n`)
    }
    return ctx.io.out(rows.join(''))
  }
  if (!names.length) return ctx.io.out(`${e.id} has no metrics yet${m.skipped ? ` (${m.skipped} malformed lines skipped)` : ''}: a job appends JSON lines like {"step": 1, "loss": 0.5} to $LAB_METRICS\n`)
  let out = ''
  for (const k of names) {
    const s = m.series[k]
    out += `${k} (${s.value.length} point${s.value.length === 1 ? '' : 's'})\n`
    out += table(s.value.map((v, i) => ['  ' + String(s.step[i]), String(v), new Date(s.time[i]).toISOString()]), ['  STEP', 'VALUE', 'TIME'])
  }
  if (m.skipped) out += `(${m.skipped} malformed line${m.skipped === 1 ? '' : 's'} in $LAB_METRICS skipped)\n`
  if (m.rewrites) out += `($LAB_METRICS was truncated or rewritten ${m.rewrites === 1 ? 'once' : `${m.rewrites} times`} while the job ran: each time read again from its start; append with >> to keep it whole)\n`
  ctx.io.out(out)
}
