// git lab sync [REMOTE]
import type { Ctx } from '../io.ts'
import { json } from '../io.ts'
import { withLab } from '../open.ts'
import { sync } from '../../lab/sync.ts'
import { count } from '../format.ts'

export async function run(ctx: Ctx, args: string[], o: Record<string, unknown>) {
  const r = await withLab(ctx, lab => sync(lab, args[0]))
  if (o.json) return json(ctx.io, r)
  ctx.io.out(`synced with ${r.remote}: ${count(r.new_ops, 'new operation')} fetched, ${count(r.pushed, 'operation')} of this clone pushed (${count(r.writers, 'writer')})\n`)
}
