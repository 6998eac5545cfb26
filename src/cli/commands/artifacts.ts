// git lab artifacts ID [PATH...] [-o DIR] [--attempt N] [--force] [--json]: list an attempt's artifacts, or fetch them.
import path from 'node:path'
import type { Ctx } from '../io.ts'
import { json } from '../io.ts'
import { withLab, int, text } from '../open.ts'
import { table } from '../format.ts'
import { getExperiment } from '../../lab/experiments.ts'
import { artifactViews, fetchArtifacts } from '../../lab/artifacts.ts'
import { NotFoundError, UsageError } from '../../errors.ts'
import { hostFiles } from '../../dispatch/ssh/host-files.ts'

export async function run(ctx: Ctx, args: string[], o: Record<string, unknown>) {
  const [id, ...paths] = args
  const out = text(o.output)
  if (out === '') throw new UsageError('-o expects a folder')
  return withLab(ctx, async lab => {
    const e = await getExperiment(lab, id)
    const attempt = int('attempt', o.attempt) ?? e.attempt
    if (attempt < 1 || attempt > e.attempt) throw new NotFoundError(`${e.id} has attempts 1 to ${e.attempt}`)
    // Listing: no PATH and no -o.
    if (!paths.length && out === undefined) {
      const views = artifactViews(e, attempt)
      if (o.json) return json(ctx.io, { id: e.id, attempt, artifacts: views })
      if (!views.length) return ctx.io.out(`${e.id} (attempt ${attempt}) has no artifacts: a job leaves files in $LAB_OUTPUT\n`)
      return ctx.io.out(table(views.map(v => [v.path, String(v.size), v.sha256.slice(0, 12),
        v.blob ? 'git' : v.location ? `${v.host ?? '?'}:${v.location}` : `${v.host ?? '?'}: (not kept)`]), ['PATH', 'SIZE', 'SHA256', 'WHERE']))
    }
    const dir = path.resolve(ctx.cwd, out ?? '.')
    const shown = (file: string) => {
      const rel = path.relative(ctx.cwd, file)
      return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file
    }
    const hosts = hostFiles(lab)
    const res = await fetchArtifacts(lab, e, attempt, { paths, dir, force: !!o.force, shown, remote: hosts.remote })
      .finally(() => hosts.close())
    if (o.json) json(ctx.io, { id: e.id, attempt, dir, files: res.written, failed: res.failed })
    else ctx.io.out(res.written.map(f => shown(f.file) + '\n').join(''))
    for (const reason of new Set(res.failed.map(f => f.reason))) ctx.io.err(`git lab: ${reason}\n`)
    return res.failed.length ? 1 : 0
  })
}
