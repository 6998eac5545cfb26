// git lab msg list [--unread] [--all]
import type { Ctx } from '../io.ts'
import { json } from '../io.ts'
import { withLab } from '../open.ts'
import { listMessages } from '../../lab/messages.ts'
import { messageJson } from '../../lab/json.ts'
import { age } from '../format.ts'

export async function run(ctx: Ctx, args: string[], o: Record<string, unknown>) {
  const msgs = await withLab(ctx, lab => listMessages(lab, { unread: !!o.unread, all: !!o.all }))
  if (o.json) return json(ctx.io, msgs.map(messageJson))
  if (!msgs.length) return ctx.io.out(o.unread ? 'No unread messages\n' : 'No messages\n')
  const now = ctx.now()
  ctx.io.out(msgs.map(m => `${m.unread ? '*' : ' '} ${m.id}  ${age(m.created_at, now)}  ${m.from} -> ${m.to}\n    ${m.text.replace(/\n/g, '\n    ')}\n`).join(''))
}
