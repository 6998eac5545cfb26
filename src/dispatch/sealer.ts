// One job's journals as the worker seals them: what is sealed into refs, what is read and pending, what was shown.
// Offsets are journal bytes, so a re-attached worker continues exactly where the sealed chunks end.
import type { Lab } from '../lab/lab.ts'
import { chunkDraft, record } from '../lab/runs.ts'
import { MetricBatch } from '../store/chunks.ts'
import type { Draft } from '../store/op.ts'
import type { Experiment } from '../store/state.ts'
import type { Backend, JobSpec } from './backend.ts'
import { CHUNK_BYTES } from './rules.ts'
import { maskSecrets } from './secrets.ts'

export class Sealer {
  outSealed = 0
  metSealed = 0
  /** metrics journal bytes read into `pending` (complete lines only), each point timed when it was read */
  metRead = 0
  pending: MetricBatch
  /** output bytes handed to the onOutput callback */
  shown = 0
  lastSeal = Date.now()

  constructor(private readonly lab: Lab, private readonly backend: Backend, readonly spec: JobSpec, e: Experiment,
    private readonly secrets: Buffer[], private readonly maxOutput: number) {
    for (const c of e.chunks) {
      if (c.attempt !== spec.attempt) continue
      if (c.output) this.outSealed = Math.max(this.outSealed, c.output.to)
      if (c.metrics) this.metSealed = Math.max(this.metSealed, c.metrics.to)
    }
    this.metRead = this.metSealed
    this.shown = this.outSealed
    this.pending = new MetricBatch(new Map(Object.entries(e.series).map(([k, s]) => [k, s.count])))
  }

  /** More than a chunk's worth waits in a journal: seal now rather than at the next interval. */
  async backlog(): Promise<boolean> {
    const [out, met] = await Promise.all([this.backend.size(this.spec, 'output'), this.backend.size(this.spec, 'metrics')])
    return Math.min(out, this.maxOutput) - this.outSealed >= CHUNK_BYTES || met - this.metSealed >= CHUNK_BYTES
  }

  /** Reads new complete metrics lines (all of them when final) into the pending batch, up to a chunk's worth. */
  async ingest(final: boolean): Promise<void> {
    for (;;) {
      const room = CHUNK_BYTES - (this.metRead - this.metSealed)
      if (room <= 0) return
      const data = await this.backend.read(this.spec, 'metrics', this.metRead, room)
      if (data.length === 0) return
      let use = data.lastIndexOf(0x0a) + 1
      // The end of a finished journal may lack its newline; a line longer than a whole chunk is cut (and is malformed).
      if (final && data.length < room) use = data.length
      else if (use === 0 && this.metRead === this.metSealed && data.length === room) use = data.length
      if (use === 0) return
      const text = data.subarray(0, use).toString('utf8')
      const now = Date.now()
      let start = 0
      while (start < text.length) {
        const nl = text.indexOf('\n', start)
        const end = nl < 0 ? text.length : nl
        this.pending.add(text.slice(start, end), now)
        start = end + 1
      }
      this.metRead += use
      if (use < data.length) return
    }
  }

  /** Hands new output to `onOutput` (git lab run streams it). */
  async show(onOutput: ((id: string, data: Buffer) => void) | undefined): Promise<void> {
    if (!onOutput) return
    for (;;) {
      const data = await this.backend.read(this.spec, 'output', this.shown, CHUNK_BYTES)
      if (!data.length) return
      this.shown += data.length
      onOutput(this.spec.id, data)
    }
  }

  /** Seals the output journal to its last complete line (all of it when final) and the pending metrics, in one write. */
  async seal(final: boolean, extra: Draft[] = [], summary = 'output'): Promise<void> {
    const { spec } = this
    const room = Math.min(CHUNK_BYTES, this.maxOutput - this.outSealed)
    let out = room > 0 ? await this.backend.read(spec, 'output', this.outSealed, room) : Buffer.alloc(0)
    // Sealed at a line end (so a secret is never split between chunks), except the very end of a finished job's
    // output and a line longer than a whole chunk.
    if (!final || out.length >= CHUNK_BYTES) {
      const nl = out.lastIndexOf(0x0a) + 1
      out = nl > 0 || out.length < CHUNK_BYTES ? out.subarray(0, nl) : out
    }
    const batch = this.pending
    const draft = chunkDraft(this.lab, spec.id, spec.attempt,
      out.length ? { data: maskSecrets(Buffer.from(out), this.secrets), from: this.outSealed } : null,
      this.metRead > this.metSealed ? { batch, from: this.metSealed, to: this.metRead } : null)
    if (draft || extra.length) await record(this.lab, spec.id, [draft, ...extra], summary)
    this.outSealed += out.length
    this.metSealed = this.metRead
    this.pending = new MetricBatch(batch.counts)
    this.lastSeal = Date.now()
  }

  /** After the job ended: seals whole chunks until at most one chunk is left for the final write. */
  async drain(): Promise<void> {
    for (;;) {
      await this.ingest(true)
      const out = Math.min(await this.backend.size(this.spec, 'output'), this.maxOutput)
      const met = await this.backend.size(this.spec, 'metrics')
      if (out - this.outSealed <= CHUNK_BYTES && met - this.metSealed <= CHUNK_BYTES) return
      await this.seal(true)
    }
  }
}
