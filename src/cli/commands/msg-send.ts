// git lab msg send --to WHO "text"
import type { Ctx } from '../io.ts'
import { json } from '../io.ts'
import { withLab, text } from '../open.ts'
import { sendMessage } from '../../lab/messages.ts'
import { messageJson } from '../../lab/json.ts'
import { UsageError } from '../../errors.ts'

export async function run(ctx: Ctx, args: string[], o: Record<string, unknown>) {
  const to = text(o.to)
  if (!to) throw new UsageError('usage: git lab msg send --to WHO "text" (WHO: a writer id, agent, role, or all)')
  const m = await withLab(ctx, lab => sendMessage(lab, to, args[0]))
  if (o.json) return json(ctx.io, messageJson(m))
  ctx.io.out(m.id + '\n')
}
