// Reading files that a job left on an SSH host of the lab (large artifacts), for `git lab artifacts` and the viewer.
import type { Lab } from '../../lab/lab.ts'
import { StateError } from '../../errors.ts'
import { SshBackend } from './backend.ts'

/** fetchArtifacts' `remote`: a host's file as a stream, one connection per host; close() when done. */
export function hostFiles(lab: Lab): { remote: (host: string, file: string) => Promise<AsyncIterable<Buffer>>; close(): void } {
  const backends = new Map<string, SshBackend>()
  return {
    async remote(name, file) {
      const h = (await lab.state()).hosts[name]
      if (!h) throw new StateError(`the file is on host ${name}, which is not a host of this lab (any more): see 'git lab hosts'`)
      if (!backends.has(name)) backends.set(name, new SshBackend(lab, h))
      return backends.get(name)!.fetch(file)
    },
    close() { for (const b of backends.values()) b.close() },
  }
}
