// git lab msg read [ID...]: marks messages read (all unread ones by default)
import type { Ctx } from '../io.ts'
import { json } from '../io.ts'
import { withLab } from '../open.ts'
import { markRead } from '../../lab/messages.ts'

export async function run(ctx: Ctx, args: string[], o: Record<string, unknown>) {
  const n = await withLab(ctx, lab => markRead(lab, args))
  if (o.json) return json(ctx.io, { marked: n })
  ctx.io.out(`${n} message${n === 1 ? '' : 's'} marked read\n`)
}
