// git lab compare ID ID... [--metric NAME [--minimize | --maximize]] [--json]
import type { Ctx } from '../io.ts'
import { json } from '../io.ts'
import { withLab, text } from '../open.ts'
import { compareExperiments } from '../../lab/compare.ts'
import { comparisonJson } from '../../lab/json.ts'
import { list, oneLine, table } from '../format.ts'
import { UsageError } from '../../errors.ts'

const num = (v: number | null | undefined) => v === null || v === undefined ? '-' : String(Number(v.toPrecision(6)))

export async function run(ctx: Ctx, args: string[], o: Record<string, unknown>) {
  if (args.length < 2) throw new UsageError('usage: git lab compare ID ID... (two or more experiments)')
  if (o.minimize && o.maximize) throw new UsageError('give --minimize or --maximize, not both')
  const metric = text(o.metric)
  if ((o.minimize || o.maximize) && !metric) throw new UsageError('--minimize/--maximize go with --metric NAME')
  const c = await withLab(ctx, lab => compareExperiments(lab, args, { metric, direction: o.minimize ? 'minimize' : o.maximize ? 'maximize' : undefined }))
  if (o.json) return json(ctx.io, comparisonJson(c))
  const ids = c.experiments.map(e => e.id)
  const rows: string[][] = []
  const row = (label: string, f: (i: number) => string) => rows.push([label, ...ids.map((_, i) => f(i))])
  const ex = c.experiments
  row('message', i => oneLine(ex[i].message, 30))
  row('status', i => ex[i].status + (ex[i].exit_code !== null && ex[i].status !== 'succeeded' ? ` (${ex[i].exit_code})` : ''))
  row('run', i => oneLine(ex[i].run, 30))
  row('tags', i => list(ex[i].tags))
  row('idea', i => ex[i].idea ?? '-')
  // As given (1e-3, not 0.001); '-' where an experiment has no such param.
  for (const p of c.params) row(`param ${p}`, i => Object.hasOwn(ex[i].params, p) ? oneLine(ex[i].params[p], 30) : '-')
  row('code', i => {
    const d = c.code[ids[i]]
    if (!d) return '-'
    const what = d.files ? `${d.files} file${d.files === 1 ? '' : 's'} +${d.insertions} -${d.deletions}` : 'same'
    return i === 0 ? `${what} vs base` : `${what} vs ${d.vs}`
  })
  for (const [m, cells] of Object.entries(c.metrics)) {
    const dir = c.directions[m]
    const mark = c.best?.metric === m ? ' *' : ''
    row(`${m} last${mark}`, i => num(cells[ids[i]]?.last))
    row(`${m} min`, i => num(cells[ids[i]]?.min))
    row(`${m} max`, i => num(cells[ids[i]]?.max))
    if (dir) row(`${m} best (${dir === 'minimize' ? 'min' : 'max'})`, i => num(cells[ids[i]]?.best))
  }
  let out = table(rows, ['', ...ids])
  if (c.best) out += `\nbest by ${c.best.metric} (${c.best.direction}): ${c.best.id} (${num(c.best.value)})\n`
  else if (c.objective) out += `\nnone of these has ${c.objective.metric}, the objective\n`
  else out += "\nno objective: set one with 'git lab init --objective METRIC --minimize' or pass --metric NAME\n"
  ctx.io.out(out)
}
