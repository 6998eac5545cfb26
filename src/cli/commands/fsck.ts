// git lab fsck [--rebuild]
import type { Ctx } from '../io.ts'
import { json } from '../io.ts'
import { withLab } from '../open.ts'
import { fsck } from '../../lab/sync.ts'
import { count } from '../format.ts'

export async function run(ctx: Ctx, _args: string[], o: Record<string, unknown>) {
  const r = await withLab(ctx, lab => fsck(lab, { rebuild: !!o.rebuild }))
  if (o.json) return json(ctx.io, r)
  let t = `${count(r.writers, 'writer')}, ${count(r.operations, 'operation')}\n`
  for (const x of r.rejected) t += `invalid: ${x.writer}/${x.seq}: ${x.reason}\n`
  for (const w of r.warnings) t += `warning: ${w}\n`
  for (const s of r.skipped) t += `skipped: ${s.op}: ${s.reason}\n`
  t += r.index_consistent ? 'index: consistent with the refs\n' : `index: was out of date${r.rebuilt ? ', rebuilt' : " (run 'git lab fsck --rebuild')"}\n`
  if (r.rebuilt && r.index_consistent) t += 'index: rebuilt\n'
  ctx.io.out(t)
  return r.rejected.length || r.warnings.length || (!r.index_consistent && !r.rebuilt) ? 1 : 0
}
