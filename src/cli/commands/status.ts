// git lab status
import type { Ctx } from '../io.ts'
import { json } from '../io.ts'
import { withLab } from '../open.ts'
import { status } from '../../lab/sync.ts'
import { labTrust, untrustedQueued } from '../../lab/trust.ts'
import { count } from '../format.ts'

export async function run(ctx: Ctx, _args: string[], o: Record<string, unknown>) {
  const s = await withLab(ctx, async lab => {
    const s = await status(lab)
    // status() has just refreshed the index: count from it rather than listing the refs again.
    const index = lab.store.current ?? await lab.index()
    const trust = labTrust(lab)
    // (only with lab.trust set are the queued experiments read: their writers and authors decide)
    const open = trust.restricted ? index.live.open.get().map(id => index.state.experiments[id]).filter(e => !!e) : []
    return { ...s, untrusted_queued: untrustedQueued(trust, open) }
  })
  if (o.json) return json(ctx.io, s)
  const counts = Object.entries(s.counts).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(', ')
  let t = s.writer ? `writer:      ${s.writer}${s.agent ? ` (agent ${s.agent})` : ''}${s.role ? ` role ${s.role}` : ''}\n` : "not initialized: run 'git lab init'\n"
  t += `remote:      ${s.remote ?? '(none)'}\n`
  if (s.objective) t += `objective:   ${s.objective.direction} ${s.objective.metric}\n`
  t += `experiments: ${s.experiments}${counts ? ` (${counts})` : ''}\n`
  if (s.untrusted_queued) t += `untrusted:   ${s.untrusted_queued} queued that this clone's workers leave alone (lab.trust; 'git lab log')\n`
  t += `ideas:       ${s.ideas}\nwriters:     ${s.writers}\n`
  if (s.unread_messages) t += `messages:    ${s.unread_messages} unread ('git lab msg list --unread')\n`
  if (s.unpushed_ops !== null) t += `unpushed:    ${s.unpushed_ops ? `${count(s.unpushed_ops, 'operation')} ('git push' or 'git lab sync')` : 'nothing'}\n`
  if (s.problems) t += `problems:    ${s.problems} (records left out or not read: 'git lab fsck' lists them)\n`
  for (const p of s.writer_problems) t += `             ${p}\n`
  ctx.io.out(t)
}
