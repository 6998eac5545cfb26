// git lab log [--limit N] [--idea ID] [--status S] [--tag T]
import type { Ctx } from '../io.ts'
import { withLab, text, int } from '../open.ts'
import { headCommit } from '../../lab/experiments.ts'
import { listing } from '../../lab/listing.ts'
import { labTrust, untrustedReason } from '../../lab/trust.ts'
import { age, oneLine, table } from '../format.ts'

export async function run(ctx: Ctx, _args: string[], o: Record<string, unknown>) {
  const limit = int('limit', o.limit) ?? 30
  const { list, head, trust } = await withLab(ctx, async lab => {
    const [list, head] = await Promise.all([
      listing(lab, { limit, idea: text(o.idea), status: text(o.status), tag: text(o.tag) }), headCommit(lab),
    ])
    return { list, head, trust: labTrust(lab) }
  })
  const atHead = (i: number) => !!head && list.commit(i) === head
  if (o.json) {
    if (!ctx.io.isTTY) {
      const whole = list.array(head)
      if (whole) return ctx.io.outBytes ? ctx.io.outBytes(whole) : ctx.io.out(whole.toString('utf8'))
    }
    const rows = Array.from({ length: list.length }, (_, i) => list.text(i, atHead(i)))
    if (!ctx.io.isTTY) return ctx.io.out(`[${rows.join(',')}]\n`)
    return ctx.io.out(JSON.stringify(rows.map(r => JSON.parse(r)), null, 2) + '\n')
  }
  if (!list.length) return ctx.io.out("No experiments yet: 'git lab submit -m \"...\" --run \"...\"'\n")
  const now = ctx.now()
  ctx.io.out(table(Array.from({ length: list.length }, (_, i) => {
    const e = list.get(i)
    // This clone's workers leave it queued (lab.trust); 'git lab show' says why.
    const status = e.status === 'queued' && untrustedReason(trust, e) ? 'queued (untrusted)' : e.status
    return [atHead(i) ? '→' : ' ', e.id, status, age(e.created_at, now), e.idea ?? '-', oneLine(e.message) + (e.tags.length ? ` [${e.tags.join(' ')}]` : '')]
  }), [' ', 'ID', 'STATUS', 'CREATED', 'IDEA', 'MESSAGE']))
}
