// Secrets: values of the worker's environment that must never enter refs. Output and small artifacts are masked
// before they are recorded.
import { createHash } from 'node:crypto'
import type { ArtifactFile } from '../lab/runs.ts'
import { lineCut } from '../lab/journal.ts'
import type { Lab } from '../lab/lab.ts'
import { MAX_OUTPUT, parseBytes } from './rules.ts'

/** Names whose values are treated as secret without being listed (HF_TOKEN, WANDB_API_KEY, AWS_SECRET_ACCESS_KEY, ...). */
export const SECRET_NAME = /(TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL|AUTH)/i
/** Shorter values are not masked: masking "1" or "true" everywhere would garble the log and protect nothing. */
export const MIN_SECRET_LENGTH = 6

/** The secret values of an environment: names matching SECRET_NAME, plus the names listed (config lab.secret). */
export function secretValues(env: NodeJS.ProcessEnv, listed: string[] = []): Buffer[] {
  const names = new Set(listed)
  const values = new Set<string>()
  for (const [k, v] of Object.entries(env)) {
    if (v && v.length >= MIN_SECRET_LENGTH && (names.has(k) || SECRET_NAME.test(k))) values.add(v)
  }
  return [...values].sort((a, b) => b.length - a.length).map(v => Buffer.from(v, 'utf8'))
}

/** A copy of data with every occurrence of a secret replaced by as many '*' (offsets into the journal stay true). */
export function maskSecrets(data: Buffer, secrets: Buffer[]): Buffer {
  if (!secrets.length) return data
  let out: Buffer | null = null
  for (const s of secrets) {
    let i = (out ?? data).indexOf(s)
    while (i >= 0) {
      out ??= Buffer.from(data)
      out.fill(0x2a, i, i + s.length)
      i = out.indexOf(s, i + s.length)
    }
  }
  return out ?? data
}

/**
 * Where a chunk of output may end (0: nowhere yet): its last line end (`lineCut`: after a \n, or before a progress
 * bar's \r) that cuts no possible occurrence of a secret in two, since each chunk is masked on its own. Only a
 * secret holding a \n or \r can straddle a line end. Bytes outside `data` (sealed before, or not yet written)
 * count as matching, so a cut is only taken where what is known rules a split out.
 */
export function sealCut(data: Buffer, secrets: Buffer[]): number {
  const risky = secrets.filter(s => s.includes(0x0a) || s.includes(0x0d))
  let cut = lineCut(data)
  while (cut > 0 && risky.some(s => mayStraddle(data, cut, s))) cut = lineCut(data, cut - 1)
  return cut
}

/** Whether `secret` could occur across position `cut` of `data`, given the bytes of data that are known. */
function mayStraddle(data: Buffer, cut: number, secret: Buffer): boolean {
  for (let k = 1; k < secret.length; k++) {
    let fits = true
    for (let j = Math.max(0, k - cut); j < secret.length && cut - k + j < data.length; j++) {
      if (data[cut - k + j] !== secret[j]) { fits = false; break }
    }
    if (fits) return true
  }
  return false
}

/** An artifact whose contents go into git, with secrets masked (its hash is of what is recorded). */
export function maskArtifact(f: ArtifactFile, secrets: Buffer[]): ArtifactFile {
  if (!f.data) return f
  const data = maskSecrets(f.data, secrets)
  return data === f.data ? f : { ...f, data, sha256: createHash('sha256').update(data).digest('hex') }
}

/**
 * What a job's output is sealed with in this lab: the secrets masked (lab.secret and the secret-looking variables of
 * this process's environment) and the output kept at most (lab.maxOutput). The worker seals by them, and `logs -f`
 * shows a host's lines by them.
 */
export function sealRules(lab: Lab): { secrets: Buffer[]; maxOutput: number } {
  return { secrets: secretValues(lab.env, lab.config.get('lab.secret') ?? []), maxOutput: parseBytes(lab.get('lab.maxoutput') ?? '') ?? MAX_OUTPUT }
}
