// git lab init
import type { Ctx } from '../io.ts'
import { json } from '../io.ts'
import { withLab, text } from '../open.ts'
import { init } from '../../lab/setup.ts'
import { UsageError } from '../../errors.ts'

export async function run(ctx: Ctx, _args: string[], o: Record<string, unknown>) {
  if (o.minimize && o.maximize) throw new UsageError('give one of --minimize and --maximize')
  const direction = o.minimize ? 'minimize' : o.maximize ? 'maximize' : undefined
  const r = await withLab(ctx, lab => init(lab, { remote: text(o.remote), objective: text(o.objective), direction, fetch: o.fetch !== false }))
  if (o.json) return json(ctx.io, r)
  ctx.io.out(`${r.created ? 'Initialized' : 'Reinitialized'} git lab: writer ${r.writer}\n`)
  ctx.io.out(r.remote ? `Lab records sync with remote '${r.remote}' (plain git push/fetch carry them)\n` : "No remote yet: run 'git lab init --remote NAME' once you add one\n")
  if (typeof r.fetched === 'string') ctx.io.err(`git lab: warning: could not fetch lab records from '${r.remote}' (${r.fetched}); try 'git lab sync' later\n`)
  if (r.hook_line === null) ctx.io.out(`Hooks in ${r.hooks_dir}: ${r.hooks.join(', ')}${r.chained.length ? ` (existing ${r.chained.join(', ')} kept, chained)` : ''}\n`)
  else if (r.hook_line_present) ctx.io.out(`Hooks: ${r.hook_file} already calls git lab (core.hooksPath is in the work tree: git lab leaves it alone)\n`)
  else {
    ctx.io.out(`Hooks: none installed: core.hooksPath is in the work tree, and git lab changes no file there.\n`)
    ctx.io.out(`For a plain git push to carry lab records, add this line at the end of ${r.hook_file}:\n  ${r.hook_line}\n`)
  }
  if (r.objective) ctx.io.out(`Objective: ${r.objective.direction} ${r.objective.metric}\n`)
}
