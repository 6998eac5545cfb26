// git lab log [--limit N] [--idea ID] [--status S] [--tag T]
import type { Ctx } from '../io.ts'
import { json } from '../io.ts'
import { withLab, text, int } from '../open.ts'
import { listExperiments, headCommit } from '../../lab/experiments.ts'
import { experimentJson } from '../../lab/json.ts'
import { age, oneLine, table } from '../format.ts'

export async function run(ctx: Ctx, _args: string[], o: Record<string, unknown>) {
  const limit = int('limit', o.limit) ?? 30
  const r = await withLab(ctx, async lab => {
    const [list, head] = await Promise.all([
      listExperiments(lab, { limit, idea: text(o.idea), status: text(o.status), tag: text(o.tag) }), headCommit(lab),
    ])
    return { list, head }
  })
  if (o.json) {
    return json(ctx.io, r.list.map(e => {
      const j: ReturnType<typeof experimentJson> & { at_head?: boolean } = experimentJson(e)
      j.at_head = !!r.head && e.commit === r.head
      return j
    }))
  }
  if (!r.list.length) return ctx.io.out("No experiments yet: 'git lab submit -m \"...\" --run \"...\"'\n")
  const now = ctx.now()
  ctx.io.out(table(r.list.map(e => [
    e.commit && e.commit === r.head ? '→' : ' ', e.id, e.status, age(e.created_at, now), e.idea ?? '-',
    oneLine(e.message) + (e.tags.length ? ` [${e.tags.join(' ')}]` : ''),
  ]), [' ', 'ID', 'STATUS', 'CREATED', 'IDEA', 'MESSAGE']))
}
