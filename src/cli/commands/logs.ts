// git lab logs ID [-f] [--tail N] [--grep RE] [--attempt N]
import type { Ctx } from '../io.ts'
import { withLab, int, text } from '../open.ts'
import { getExperiment } from '../../lab/experiments.ts'
import { readOutput } from '../../lab/journal.ts'
import { fetchLab } from '../../lab/sync.ts'
import { TERMINAL } from '../../store/state.ts'
import { UsageError } from '../../errors.ts'

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

export async function run(ctx: Ctx, args: string[], o: Record<string, unknown>) {
  const tail = int('tail', o.tail)
  if (tail !== undefined && tail < 0) throw new UsageError('--tail must be 0 or more')
  const pattern = text(o.grep)
  let re: RegExp | null = null
  try { re = pattern === undefined ? null : new RegExp(pattern) } catch (e) { throw new UsageError(`--grep: ${(e as Error).message}`) }
  const follow = !!o.follow
  await withLab(ctx, async lab => {
    let e = await getExperiment(lab, args[0])
    const attempt = int('attempt', o.attempt) ?? e.attempt
    if (attempt < 1 || attempt > e.attempt) throw new UsageError(`${e.id} has attempts 1 to ${e.attempt}`)
    let r = await readOutput(lab, e, attempt)
    let lines = r.data.toString('utf8').split('\n')
    // The last piece is a line still being written (or '' after a final newline): held back while following.
    let partial = lines.pop() ?? ''
    if (re) lines = lines.filter(l => re!.test(l))
    if (tail !== undefined) lines = tail === 0 ? [] : lines.slice(-tail)
    ctx.io.jobOut(lines.map(l => l + '\n').join(''))
    const dropped = () => { if (e.attempt === attempt && e.output_dropped) ctx.io.err(`git lab: ${e.output_dropped} more bytes of output were not recorded (over lab.maxOutput)\n`) }
    if (!follow) { if (partial && (!re || re.test(partial))) ctx.io.jobOut(partial + '\n'); return dropped() }
    let pos = r.end - Buffer.byteLength(partial)
    let lastFetch = Date.now()
    for (;;) {
      const ended = (x: typeof e) => x.attempt > attempt || (TERMINAL.has(x.status) && !r.live)
      if (ended(e)) break
      await sleep(250)
      // Not running in this clone: its chunks arrive by fetching the lab remote.
      if (!r.live && lab.remote && Date.now() - lastFetch > 5000) { lastFetch = Date.now(); await fetchLab(lab).catch(() => undefined) }
      e = await getExperiment(lab, e.id)
      r = await readOutput(lab, e, attempt, pos)
      const got = r.data.toString('utf8').split('\n')
      partial = got.pop() ?? ''
      const complete = got.filter(l => !re || re.test(l))
      if (complete.length) ctx.io.jobOut(complete.map(l => l + '\n').join(''))
      pos = r.end - Buffer.byteLength(partial)
    }
    if (partial && (!re || re.test(partial))) ctx.io.jobOut(partial + '\n')
    dropped()
  })
}
