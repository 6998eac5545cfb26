// What an SSH job has written past its sealed chunks, read from its host while it runs (`git lab logs -f`): a long
// run is sealed every 30 s, and a worker that is gone seals nothing, while the host's journal holds every line as it
// is written. Masked as the sealer masks it, and cut where the sealer could cut, so what is shown is what the refs
// will hold, byte for byte.
import type { Lab } from '../../lab/lab.ts'
import type { Experiment, Host } from '../../store/state.ts'
import type { JobSpec } from '../backend.ts'
import { maskSecrets, sealCut, sealRules } from '../secrets.ts'
import { SshBackend } from './backend.ts'

export class HostTail {
  private readonly secrets: Buffer[]
  private readonly maxOutput: number

  private constructor(private readonly backend: SshBackend, private readonly job: JobSpec, lab: Lab) {
    ;({ secrets: this.secrets, maxOutput: this.maxOutput } = sealRules(lab))
  }

  /**
   * A tail of attempt `attempt` of `e` when this clone runs it on one of its SSH hosts (its runner's writer is this
   * clone's, the host is in the lab's records); null otherwise.
   */
  static open(lab: Lab, e: Experiment, attempt: number, hosts: Record<string, Host>): HostTail | null {
    const runner = e.runners[attempt]
    const host = runner?.host ? hosts[runner.host] : undefined
    if (!host || runner.writer !== lab.identity.writer) return null
    const job = { id: e.id, attempt, host: host.name } as JobSpec
    return new HostTail(new SshBackend(lab, host), job, lab)
  }

  /** not before this time after a read failed (the sealed chunks go on meanwhile) */
  private retryAt = 0

  /** Complete lines from byte `from` on (within lab.maxOutput); nothing when the host cannot be read now. */
  async read(from: number): Promise<Buffer> {
    if (from >= this.maxOutput || Date.now() < this.retryAt) return Buffer.alloc(0)
    const data = await this.backend.read(this.job, 'output', from, this.maxOutput - from).catch(() => {
      this.retryAt = Date.now() + 10_000
      return Buffer.alloc(0)
    })
    return maskSecrets(data.subarray(0, sealCut(data, this.secrets)), this.secrets)
  }

  close(): void { this.backend.close() }
}
