// git lab idea show ID
import type { Ctx } from '../io.ts'
import { json } from '../io.ts'
import { withLab } from '../open.ts'
import { getIdea } from '../../lab/ideas.ts'
import { listExperiments } from '../../lab/experiments.ts'
import { ideaJson, experimentJson } from '../../lab/json.ts'
import { list, oneLine } from '../format.ts'

export async function run(ctx: Ctx, args: string[], o: Record<string, unknown>) {
  const r = await withLab(ctx, async lab => {
    const idea = await getIdea(lab, args[1])
    return { idea, experiments: await listExperiments(lab, { idea: idea.id }) }
  })
  if (o.json) return json(ctx.io, { ...ideaJson(r.idea), experiments: r.experiments.map(experimentJson) })
  const i = r.idea
  let t = `idea ${i.id} (${i.status})\n${i.text}\n\n`
  t += `parents:   ${list(i.parents)}\nchildren:  ${list(i.children)}\ntags:      ${list(i.tags)}\nauthor:    ${i.author}\ncreated:   ${i.created_at}\n`
  if (i.conclusion) t += `${i.status === 'abandoned' ? 'reason' : 'conclusion'}:${i.status === 'abandoned' ? '    ' : ''} ${i.conclusion}\n`
  if (r.experiments.length) t += `\nexperiments:\n` + r.experiments.map(e => `  ${e.id}  ${e.status.padEnd(10)} ${oneLine(e.message)}\n`).join('')
  if (i.notes.length) t += `\nnotes:\n` + i.notes.map(n => `  ${n.time}  ${n.author}\n    ${n.text.replace(/\n/g, '\n    ')}\n`).join('')
  ctx.io.out(t)
}
