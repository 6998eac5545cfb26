// git lab hook NAME [ARGS]: what the installed git hooks run.
import type { Ctx } from '../io.ts'
import { withLab } from '../open.ts'
import { hookPrePush } from '../../lab/sync.ts'
import { UsageError } from '../../errors.ts'

export async function run(ctx: Ctx, args: string[]) {
  if (args[0] !== 'pre-push') throw new UsageError(`unknown hook ${JSON.stringify(args[0])}`)
  await withLab(ctx, lab => hookPrePush(lab, args[1]))
}
