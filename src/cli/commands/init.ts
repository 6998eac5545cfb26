// git lab init
import type { Ctx } from '../io.ts'
import { json } from '../io.ts'
import { withLab, text } from '../open.ts'
import { init } from '../../lab/setup.ts'
import type { HooksResult } from '../../lab/hooks.ts'
import { UsageError } from '../../errors.ts'

export async function run(ctx: Ctx, _args: string[], o: Record<string, unknown>) {
  if (o.minimize && o.maximize) throw new UsageError('give one of --minimize and --maximize')
  const direction = o.minimize ? 'minimize' : o.maximize ? 'maximize' : undefined
  const r = await withLab(ctx, lab => init(lab, { remote: text(o.remote), objective: text(o.objective), direction, fetch: o.fetch !== false }))
  if (o.json) return json(ctx.io, r)
  ctx.io.out(`${r.created ? 'Initialized' : 'Reinitialized'} git lab: writer ${r.writer}\n`)
  ctx.io.out(r.remote ? `Lab records sync with remote '${r.remote}' (plain git push/fetch carry them)\n` : "No remote yet: run 'git lab init --remote NAME' once you add one\n")
  if (typeof r.fetched === 'string') ctx.io.err(`git lab: warning: could not fetch lab records from '${r.remote}' (${r.fetched}); try 'git lab sync' later\n`)
  printHooks(ctx, r)
  if (r.objective) ctx.io.out(`Objective: ${r.objective.direction} ${r.objective.metric}\n`)
}

/** What each hook does, for the lines a hooks folder in the work tree needs added by hand. */
const PURPOSE: Record<string, string> = {
  'pre-push': 'For a plain git push to carry lab records',
  'post-commit': 'For a Lab-Run: trailer to queue an experiment of its commit',
  'prepare-commit-msg': "For a commit on top of 'git lab checkout ID' to get a Lab-Experiment: trailer (-m, -F)",
  'commit-msg': "For a commit on top of 'git lab checkout ID' to get a Lab-Experiment: trailer (editor)",
  'post-checkout': 'For a line on what changed in the lab after a checkout',
  'post-merge': 'For a line on what changed in the lab after a git pull that merges',
  'post-rewrite': 'For a line on what changed in the lab after a git pull --rebase',
}

function printHooks(ctx: Ctx, r: HooksResult) {
  const off = r.hooks_off.length ? ` (switched off by lab.hook.<name>: ${r.hooks_off.join(', ')})` : ''
  if (!r.hook_lines.length) {
    ctx.io.out(`Hooks in ${r.hooks_dir}: ${r.hooks.join(', ')}${r.chained.length ? ` (existing ${r.chained.join(', ')} kept, chained)` : ''}${off}\n`)
    return
  }
  const present = r.hook_lines.filter(l => l.present)
  const missing = r.hook_lines.filter(l => !l.present)
  if (present.length) ctx.io.out(`Hooks: ${present.map(l => l.file).join(', ')} already call${present.length === 1 ? 's' : ''} git lab (core.hooksPath is in the work tree: git lab leaves it alone)${off}\n`)
  if (!missing.length) return
  ctx.io.out(`Hooks: ${present.length ? 'the others are' : 'none'} installed: core.hooksPath is in the work tree, and git lab changes no file there.${present.length ? '' : off}\n`)
  for (const l of missing) ctx.io.out(`${PURPOSE[l.hook] ?? `For its ${l.hook} hook`}, add this line at the end of ${l.file}:\n  ${l.line}\n`)
}
