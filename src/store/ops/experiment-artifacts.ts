// experiment.artifacts: files the job left in $LAB_OUTPUT; small ones are blobs beside the operation, large ones
// stay on the host and are recorded by path, size and hash.
import type { OpKind } from './kind.ts'
import { checkFields, int, list, sha, text, type Check } from './check.ts'

/** Files one record may list. */
export const MAX_ARTIFACTS = 10_000

/** Why one artifact entry cannot be recorded (null: it can). */
export const checkArtifact: Check = v => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not an object'
  const a = v as Record<string, unknown>
  return checkFields(a, { path: text(1024), size: int(0, 2 ** 50), sha256: text(64), blob: sha(true), location: text(4096, true) }) ??
    (/^\/|(^|\/)\.\.(\/|$)|\0/.test(a.path as string) ? 'path leaves the output folder' : null)
}

export const experimentArtifacts: OpKind = {
  type: 'experiment.artifacts',
  validate: p => checkFields(p, { attempt: int(1, 1_000_000), files: list(checkArtifact, MAX_ARTIFACTS, false) }),
  apply(s, op) {
    const e = s.experiments[op.entity]
    if (!e) return `unknown experiment ${op.entity}`
    const attempt = op.payload.attempt as number
    const runner = e.runners[attempt]
    if (!runner || runner.writer !== op.writer) return `only the runner of attempt ${attempt} records its artifacts`
    for (const f of op.payload.files as Array<Record<string, unknown>>) {
      e.artifacts.push({ attempt, path: String(f.path), size: f.size as number, sha256: String(f.sha256), blob: typeof f.blob === 'string' ? f.blob : null,
        location: typeof f.blob !== 'string' && typeof f.location === 'string' ? f.location : null })
    }
    e.updated_at = op.time
    return null
  },
}
