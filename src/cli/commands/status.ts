// git lab status
import type { Ctx } from '../io.ts'
import { json } from '../io.ts'
import { withLab } from '../open.ts'
import { status } from '../../lab/sync.ts'

export async function run(ctx: Ctx, _args: string[], o: Record<string, unknown>) {
  const s = await withLab(ctx, lab => status(lab))
  if (o.json) return json(ctx.io, s)
  const counts = Object.entries(s.counts).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(', ')
  let t = s.writer ? `writer:      ${s.writer}${s.agent ? ` (agent ${s.agent})` : ''}${s.role ? ` role ${s.role}` : ''}\n` : "not initialized: run 'git lab init'\n"
  t += `remote:      ${s.remote ?? '(none)'}\n`
  if (s.objective) t += `objective:   ${s.objective.direction} ${s.objective.metric}\n`
  t += `experiments: ${s.experiments}${counts ? ` (${counts})` : ''}\nideas:       ${s.ideas}\nwriters:     ${s.writers}\n`
  if (s.unread_messages) t += `messages:    ${s.unread_messages} unread ('git lab msg list --unread')\n`
  if (s.unpushed_ops !== null) t += `unpushed:    ${s.unpushed_ops ? `${s.unpushed_ops} operations ('git push' or 'git lab sync')` : 'nothing'}\n`
  if (s.problems) t += `problems:    ${s.problems} skipped records ('git lab fsck')\n`
  ctx.io.out(t)
}
