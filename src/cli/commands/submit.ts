// git lab submit -m "text" --run "CMD" [...]
import type { Ctx, IO } from '../io.ts'
import { json } from '../io.ts'
import { withLab, many, text, int } from '../open.ts'
import { submit, type SubmitOptions } from '../../lab/experiments.ts'
import { parseParams } from '../../lab/params.ts'
import { experimentJson } from '../../lab/json.ts'
import { UsageError } from '../../errors.ts'

/** The options submit and run share, checked. */
export function submitOptions(args: string[], o: Record<string, unknown>): SubmitOptions {
  if (args.length) throw new UsageError(`unexpected argument ${JSON.stringify(args[0])}: quote the message and the command`)
  if (o.message === undefined || o.message === true) throw new UsageError('missing -m "message": say what this experiment tries')
  if (o.run === undefined || o.run === true) throw new UsageError('missing --run "command"')
  return {
    message: text(o.message)!, run: text(o.run)!, setup: text(o.setup), idea: text(o.idea), from: text(o.from),
    priority: int('priority', o.priority), gpus: int('gpus', o.gpus), tags: many(o.tag), dependsOn: many(o.dependsOn),
    noCode: o.code === false, timeout: text(o.timeout), include: many(o.include), params: parseParams(many(o.param)),
    host: text(o.host), hostTag: text(o.hostTag),
  }
}

/** One line on stderr naming what the snapshot left out (also with --json, whose stdout stays the experiment). */
export function reportLeftOut(io: IO, paths: string[]): void {
  if (!paths.length) return
  const shown = paths.length > 20 ? `${paths.slice(0, 20).join(', ')} and ${paths.length - 20} more` : paths.join(', ')
  io.err(`git lab: left out of the snapshot (look like secrets): ${shown}; snapshot one anyway with --include PATH\n`)
}

/** Prints the experiment id (a sweep: one id a line, in the sweep's order); --json the experiment (a sweep: a list). */
export async function run(ctx: Ctx, args: string[], o: Record<string, unknown>) {
  const { experiments, sweep, leftOut } = await withLab(ctx, lab => submit(lab, submitOptions(args, o)))
  reportLeftOut(ctx.io, leftOut)
  if (o.json) return json(ctx.io, sweep ? experiments.map(experimentJson) : experimentJson(experiments[0]))
  ctx.io.out(experiments.map(e => e.id + '\n').join(''))
}
