// git lab tag ID +T -T
import type { Ctx } from '../io.ts'
import { json } from '../io.ts'
import { withLab } from '../open.ts'
import { tagExperiment } from '../../lab/experiments.ts'
import { experimentJson } from '../../lab/json.ts'
import { UsageError } from '../../errors.ts'

/** "+a" adds, "-b" removes (main.ts shields "-b" from the option parser). */
export function splitTagChanges(changes: string[]): { add: string[]; remove: string[] } {
  const add: string[] = []
  const remove: string[] = []
  for (const raw of changes) {
    const c = raw
    if (c.startsWith('+')) add.push(c.slice(1))
    else if (c.startsWith('-')) remove.push(c.slice(1))
    else throw new UsageError(`tag change ${JSON.stringify(c)} must start with + (add) or - (remove)`)
  }
  return { add, remove }
}

export async function run(ctx: Ctx, args: string[], o: Record<string, unknown>) {
  if (args.length < 2) throw new UsageError('usage: git lab tag ID +TAG -TAG...')
  const { add, remove } = splitTagChanges(args.slice(1))
  const e = await withLab(ctx, lab => tagExperiment(lab, args[0], add, remove))
  if (o.json) return json(ctx.io, experimentJson(e))
  ctx.io.out(`${e.id} tags: ${e.tags.join(', ') || '-'}\n`)
}
