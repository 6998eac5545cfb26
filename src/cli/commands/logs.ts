// git lab logs ID [-f] [--tail N] [--grep RE] [--attempt N]
import type { Ctx } from '../io.ts'
import { withLab, int, text } from '../open.ts'
import { outputPieces } from '../terminal.ts'
import { getExperiment } from '../../lab/experiments.ts'
import { endRecorded, lineCut, readOutput } from '../../lab/journal.ts'
import { fetchLab } from '../../lab/sync.ts'
import { TERMINAL, type Experiment } from '../../store/state.ts'
import { NotFoundError, UsageError } from '../../errors.ts'
import type { HostTail } from '../../dispatch/ssh/host-tail.ts'

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))
/** How long a cancelled run of another clone is followed for its runner's last chunks (its grace, a seal, a sync). */
const CANCEL_WAIT_MS = 60_000

/** Without its lone \r at the very end: a line still being redrawn is shown as it stands, then ended by \n. */
const trimCr = (b: Buffer) => b.length && b[b.length - 1] === 0x0d ? b.subarray(0, -1) : b

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
    if (attempt < 1 || attempt > e.attempt) throw new NotFoundError(`${e.id} has attempts 1 to ${e.attempt}`)
    // A progress bar's states (\r) redraw in place on a terminal; piped, each is a line.
    const show = (s: string) => { if (s) ctx.io.jobOut(s, { redraw: true }) }
    let last = 0x0a
    const emit = (b: Buffer) => { if (b.length) last = b[b.length - 1] }
    // --grep and --tail count lines as a pipe shows them: ended by \n, \r\n or a lone \r (each state of a bar).
    // `at` > 0 and a leading \r: that \r ends the line printed before.
    const pick = (b: Buffer, at: number, n?: number) => {
      let ls = b.toString('utf8').split(/\r?\n|\r/)
      if (ls[ls.length - 1] === '') ls.pop()
      if (at > 0 && b[0] === 0x0d && ls[0] === '') ls.shift()
      if (re) ls = ls.filter(l => re!.test(l))
      if (n !== undefined) ls = n === 0 ? [] : ls.slice(-n)
      show(ls.map(l => l + '\n').join(''))
    }
    const dropped = () => { if (e.attempt === attempt && e.output_dropped) ctx.io.err(`git lab: ${e.output_dropped} more bytes of output were not recorded (over lab.maxOutput)\n`) }
    let r = await readOutput(lab, e, attempt)
    if (!follow) {
      if (re || tail !== undefined) pick(r.data, 0, tail)
      else { const b = trimCr(r.data); emit(b); show(b.toString('utf8')); if (last !== 0x0a) show('\n') }
      return dropped()
    }
    // Following: complete lines first (--tail counts them), then, without --grep, every byte as it comes (a line
    // being written or redrawn shows at once: the stream never splits a UTF-8 character or an escape sequence);
    // with --grep, complete lines only. A lone \r at the end waits: it may be the start of \r\n.
    let cancelSeen: number | null = null
    let pos = lineCut(r.data)
    if (re || tail !== undefined) pick(r.data.subarray(0, pos), 0, tail)
    else { emit(r.data.subarray(0, pos)); show(r.data.subarray(0, pos).toString('utf8')) }
    const stream = re ? null : outputPieces(show)
    const take = (data: Buffer, final: boolean) => {
      if (stream) {
        const use = final ? trimCr(data) : data.subarray(0, data.length - (data[data.length - 1] === 0x0d ? 1 : 0))
        emit(use)
        stream.write(use)
        pos += use.length
      } else {
        const use = final ? data : data.subarray(0, lineCut(data))
        pick(use, pos)
        pos += use.length
      }
    }
    let done = ended(e)
    take(r.data.subarray(pos), done)
    let lastFetch = Date.now()
    let lastHost = 0
    let host: HostTail | null | undefined
    try {
      while (!done) {
        await sleep(250)
        // Not running in this clone: its chunks arrive by fetching the lab remote.
        if (!r.live && lab.remote && Date.now() - lastFetch > 5000) { lastFetch = Date.now(); await fetchLab(lab).catch(() => undefined) }
        e = await getExperiment(lab, e.id)
        r = await readOutput(lab, e, attempt, pos)
        done = ended(e)
        // Run by this clone on an SSH host: past the sealed chunks, what the journal there holds (complete lines, once a
        // second; a long run is sealed every 30 s, and a worker that is gone seals nothing).
        if (!done && !r.live && !r.data.length && e.runners[attempt]?.host && Date.now() - lastHost >= 1000) {
          lastHost = Date.now()
          if (host === undefined) {
            const { HostTail } = await import('../../dispatch/ssh/host-tail.ts')
            host = HostTail.open(lab, e, attempt, (await lab.state()).hosts)
          }
          if (host) r = { ...r, data: await host.read(pos) }
        }
        take(r.data, done)
      }
    } finally { host?.close() }
    stream?.end()
    if (stream && last !== 0x0a) show('\n')
    dropped()

    /** The attempt moved on, or its end is recorded and nothing is live here (see endRecorded). */
    function ended(x: Experiment): boolean {
      if (x.attempt > attempt) return true
      if (!TERMINAL.has(x.status) || r.live) return false
      if (endRecorded(x, attempt) || !x.runners[attempt] || x.runners[attempt].writer === lab.identity.writer) return true
      // Cancelled, its runner elsewhere has not reported the end yet: wait a while for its last chunks.
      cancelSeen ??= Date.now()
      return Date.now() - cancelSeen > CANCEL_WAIT_MS
    }
  })
}
