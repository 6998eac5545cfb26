// One job's journals as the worker seals them: what is sealed into refs, what is read and pending, what was shown.
// Offsets are journal bytes, so a re-attached worker continues exactly where the sealed chunks end.
import type { Lab } from '../lab/lab.ts'
import { chunkDraft, record } from '../lab/runs.ts'
import { MetricBatch } from '../store/chunks.ts'
import type { Draft } from '../store/op.ts'
import type { Experiment } from '../store/state.ts'
import type { Backend, JobSpec } from './backend.ts'
import { CHUNK_BYTES } from './rules.ts'
import { maskSecrets, sealCut } from './secrets.ts'

/** Bytes of the metrics journal re-read before each read: a job that rewrote the file shows there. */
const FINGERPRINT = 256

export class Sealer {
  outSealed = 0
  /**
   * Metrics offsets count the stream of what was read from the journal, segment after segment: they equal file
   * offsets until the job truncates or rewrites the file; then its new contents are read from 0 and continue the
   * stream at `metBase` (recorded in each chunk as `base`), so chunk ranges never overlap and nothing read is lost.
   */
  metSealed = 0
  /** metrics stream bytes read into `pending` (complete lines only), each point timed when it was read */
  metRead = 0
  /** where the journal's current contents start in the metrics stream */
  metBase = 0
  pending: MetricBatch
  /** output bytes handed to the onOutput callback */
  shown = 0
  lastSeal = Date.now()
  /** the last bytes read from the metrics journal: still there, unless the job rewrote the file */
  private metTail = Buffer.alloc(0)
  /** rewrites found since the last sealed metrics */
  private metRewrites = 0

  constructor(private readonly lab: Lab, private readonly backend: Backend, readonly spec: JobSpec, e: Experiment,
    private readonly secrets: Buffer[], private readonly maxOutput: number, private readonly log?: (line: string) => void) {
    for (const c of e.chunks) {
      if (c.attempt !== spec.attempt) continue
      if (c.output) this.outSealed = Math.max(this.outSealed, c.output.to)
      if (c.metrics && c.metrics.to >= this.metSealed) { this.metSealed = c.metrics.to; this.metBase = c.metrics.base ?? 0 }
    }
    this.metRead = this.metSealed
    this.shown = this.outSealed
    this.pending = new MetricBatch(new Map(Object.entries(e.series).map(([k, s]) => [k, s.count])))
  }

  /** Metrics bytes not yet sealed: read and pending, plus what the journal holds past the read position. */
  private metUnsealed(size: number): number {
    return this.metRead - this.metSealed + Math.max(0, size - (this.metRead - this.metBase))
  }

  /** More than a chunk's worth waits in a journal: seal now rather than at the next interval. */
  async backlog(): Promise<boolean> {
    const [out, met] = await Promise.all([this.backend.size(this.spec, 'output'), this.backend.size(this.spec, 'metrics')])
    return Math.min(out, this.maxOutput) - this.outSealed >= CHUNK_BYTES || this.metUnsealed(met) >= CHUNK_BYTES
  }

  /** Reads new complete metrics lines (all of them when final) into the pending batch, up to a chunk's worth. */
  async ingest(final: boolean): Promise<void> {
    for (;;) {
      const room = CHUNK_BYTES - (this.metRead - this.metSealed)
      if (room <= 0) return
      const at = this.metRead - this.metBase
      // The bytes before the read position are read again: shorter or different means the job truncated or
      // rewrote the file (`>` instead of `>>`). A re-attached worker knows none of them: it checks the length only.
      const look = at === 0 ? 0 : Math.max(1, this.metTail.length)
      const got = await this.backend.read(this.spec, 'metrics', at - look, room + look)
      if (got.length < look || !got.subarray(look - this.metTail.length, look).equals(this.metTail)) { this.restart(at); continue }
      const data = got.subarray(look)
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
      const tail = Buffer.concat([this.metTail, data.subarray(Math.max(0, use - FINGERPRINT), use)])
      this.metTail = tail.subarray(Math.max(0, tail.length - FINGERPRINT))
      if (use < data.length) return
    }
  }

  /** The job truncated or rewrote its metrics journal: read it again from its start as the stream's next segment. */
  private restart(at: number): void {
    this.metBase = this.metRead
    this.metTail = Buffer.alloc(0)
    this.metRewrites++
    this.log?.(`${this.spec.id}: $LAB_METRICS was truncated or rewritten (it no longer holds the ${at} bytes read so far): ` +
      'reading it again from its start; the points read before are kept')
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
    // Sealed at a line end, \n or a progress bar's \r (masking is per chunk: never where a secret could be cut in
    // two), except the very end of a finished job's output and a chunk's worth without a line end.
    if (!final || out.length >= CHUNK_BYTES) {
      const cut = sealCut(out, this.secrets)
      out = cut > 0 || out.length < CHUNK_BYTES ? out.subarray(0, cut) : out
    }
    const batch = this.pending
    const metrics = this.metRead > this.metSealed
    const draft = chunkDraft(this.lab, spec.id, spec.attempt,
      out.length ? { data: maskSecrets(Buffer.from(out), this.secrets), from: this.outSealed } : null,
      metrics ? { batch, from: this.metSealed, to: this.metRead, base: this.metBase, rewrites: this.metRewrites } : null)
    if (draft || extra.length) await record(this.lab, spec.id, [draft, ...extra], summary)
    this.outSealed += out.length
    this.metSealed = this.metRead
    if (metrics) this.metRewrites = 0
    this.pending = new MetricBatch(batch.counts)
    this.lastSeal = Date.now()
  }

  /** After the job ended: seals whole chunks until at most one chunk is left for the final write. */
  async drain(): Promise<void> {
    for (;;) {
      await this.ingest(true)
      const out = Math.min(await this.backend.size(this.spec, 'output'), this.maxOutput)
      const met = await this.backend.size(this.spec, 'metrics')
      if (out - this.outSealed <= CHUNK_BYTES && this.metUnsealed(met) <= CHUNK_BYTES) return
      await this.seal(true)
    }
  }
}
