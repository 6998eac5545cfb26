// git lab hook NAME [ARGS]: what the installed git hooks run. pre-push may fail (its sh wrapper says so and lets the
// push go on); every other hook prints at most one line and exits 0, so no git command fails because of git lab.
import type { Ctx } from '../io.ts'
import { withLab } from '../open.ts'
import { Lab } from '../../lab/lab.ts'
import { LabError, UsageError } from '../../errors.ts'

type Hook = (lab: Lab, args: string[], env: NodeJS.ProcessEnv) => Promise<string | null | void>
// Loaded lazily: post-checkout runs on every checkout, and needs none of what post-commit's submit pulls in.
const HOOKS: Record<string, () => Promise<Hook>> = {
  'post-commit': async () => (await import('../../lab/hook-run.ts')).hookPostCommit,
  'prepare-commit-msg': async () => { const m = await import('../../lab/hook-trailer.ts'); return (lab, a) => m.hookTrailer(lab, 'prepare-commit-msg', a[0]) },
  'commit-msg': async () => { const m = await import('../../lab/hook-trailer.ts'); return (lab, a) => m.hookTrailer(lab, 'commit-msg', a[0]) },
  'post-checkout': summary('post-checkout'),
  'post-merge': summary('post-merge'),
  'post-rewrite': summary('post-rewrite'),
}

function summary(name: string): () => Promise<Hook> {
  return async () => { const m = await import('../../lab/hook-summary.ts'); return (lab, _a, env) => m.hookSummary(lab, name, env) }
}

export async function run(ctx: Ctx, args: string[]) {
  const [name, ...rest] = args
  if (name === 'pre-push') {
    const { hookPrePush } = await import('../../lab/sync.ts')
    return void await withLab(ctx, lab => hookPrePush(lab, rest[0]))
  }
  const load = Object.hasOwn(HOOKS, name ?? '') ? HOOKS[name] : null
  if (!load) throw new UsageError(`unknown hook ${JSON.stringify(name)}: one of pre-push, ${Object.keys(HOOKS).join(', ')}`)
  // Not withLab: its warnings (a writer skipped, ...) would add lines to every git command; `git lab status` has them.
  let lab: Lab | null = null
  try {
    const [hook, opened] = await Promise.all([load(), Lab.open({ cwd: ctx.cwd, env: ctx.env, now: ctx.now })])
    lab = opened
    const line = await hook(lab, rest, ctx.env)
    if (line) ctx.io.err(`git lab: ${line}\n`)
  } catch (e) {
    const why = e instanceof LabError ? e.message : `${(e as Error)?.message ?? e} (please report)`
    ctx.io.err(`git lab: ${name}: ${why.split('\n')[0]}\n`)
  } finally {
    lab?.close()
  }
  return 0
}
