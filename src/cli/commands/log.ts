// git lab log [--limit N] [--idea ID] [--status S] [--tag T] [--where EXPR]... [--columns A,B]
import type { Ctx } from '../io.ts'
import { withLab, text, int, many } from '../open.ts'
import { headCommit } from '../../lab/experiments.ts'
import { listing } from '../../lab/listing.ts'
import { parseWhere } from '../../lab/where.ts'
import { labTrust, untrustedReason } from '../../lab/trust.ts'
import { age, oneLine, table } from '../format.ts'
import { UsageError } from '../../errors.ts'

const num = (v: number) => String(Number(v.toPrecision(6)))

/** `--columns lr,wd --columns loss` -> [lr, wd, loss]: names of params or final metrics. */
export function parseColumns(v: unknown): string[] {
  const names = many(v).flatMap(c => c.split(',')).map(c => c.trim())
  if (names.some(c => !c)) throw new UsageError('--columns: give names separated by commas, e.g. --columns lr,wd,loss')
  return [...new Set(names)]
}

export async function run(ctx: Ctx, _args: string[], o: Record<string, unknown>) {
  const limit = int('limit', o.limit, 0) ?? 30
  const where = many(o.where).map(parseWhere)
  const columns = parseColumns(o.columns)
  const { list, head, trust } = await withLab(ctx, async lab => {
    const [list, head] = await Promise.all([
      listing(lab, { limit, idea: text(o.idea), status: text(o.status), tag: text(o.tag), where }), headCommit(lab),
    ])
    return { list, head, trust: labTrust(lab) }
  })
  const atHead = (i: number) => !!head && list.commit(i) === head
  // --columns only shapes the table: every --json row already holds all params and metrics.
  if (o.json) {
    if (!ctx.io.isTTY) {
      const whole = list.array(head)
      if (whole) return ctx.io.outBytes ? ctx.io.outBytes(whole) : ctx.io.out(whole.toString('utf8'))
    }
    const rows = Array.from({ length: list.length }, (_, i) => list.text(i, atHead(i)))
    if (!ctx.io.isTTY) return ctx.io.out(`[${rows.join(',')}]\n`)
    return ctx.io.out(JSON.stringify(rows.map(r => JSON.parse(r)), null, 2) + '\n')
  }
  if (!list.length) {
    if (where.length) return ctx.io.out('No experiments match.\n')
    return ctx.io.out("No experiments yet: 'git lab submit -m \"...\" --run \"...\"'\n")
  }
  const now = ctx.now()
  ctx.io.out(table(Array.from({ length: list.length }, (_, i) => {
    const e = list.get(i)
    // This clone's workers leave it queued (lab.trust); 'git lab show' says why.
    const status = e.status === 'queued' && untrustedReason(trust, e) ? 'queued (untrusted)' : e.status
    const cells = columns.length ? columnCells(list.values(i), columns) : []
    return [atHead(i) ? '→' : ' ', e.id, status, age(e.created_at, now), e.idea ?? '-', ...cells, oneLine(e.message) + (e.tags.length ? ` [${e.tags.join(' ')}]` : '')]
  }), [' ', 'ID', 'STATUS', 'CREATED', 'IDEA', ...columns, 'MESSAGE']))
}

/** A param as given, else a final metric, else '-'. */
function columnCells(v: { params: Record<string, string>; metrics: Record<string, number> }, columns: string[]): string[] {
  return columns.map(c => Object.hasOwn(v.params, c) ? oneLine(v.params[c], 40) : Object.hasOwn(v.metrics, c) ? num(v.metrics[c]) : '-')
}
