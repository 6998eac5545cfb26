// The GPUs of this host: `--gpus` or `lab.gpus` (all, a count, indices, UUIDs) when given, else `nvidia-smi -L`.
import { execFile } from 'node:child_process'
import { InvalidError } from '../errors.ts'

const MAX = 1024
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
// As `nvidia-smi -L` prints them, which CUDA_VISIBLE_DEVICES takes: GPU-<uuid>, MIG-<uuid>, and the older
// MIG-GPU-<uuid>/<gpu instance>/<compute instance> of drivers before 470.
const GPU_ID = new RegExp(`^(?:\\d{1,4}|GPU-${UUID}|MIG-${UUID}|MIG-GPU-${UUID}/\\d{1,3}/\\d{1,3})$`, 'i')

/**
 * "all" -> every GPU nvidia-smi lists; "4" -> 0..3; "0,2,3" -> those; "3," -> GPU 3 alone; UUIDs as nvidia-smi -L
 * prints them; "", "none" or "0" -> none. Anything else is refused, naming the value and where it came from.
 */
export function parseGpus(text: string, source = '--gpus'): string[] | 'all' {
  const t = text.trim()
  if (t === '' || t === 'none' || t === '0') return []
  if (t === 'all') return 'all'
  const bad = (id: string) => new InvalidError(`invalid GPU ${JSON.stringify(id)} in ${source}${id === t ? '' : ` ${JSON.stringify(t)}`}: ` +
    "give all, a count (4), indices (0,2,3; one index as 3,) or GPU UUIDs as 'nvidia-smi -L' prints them (GPU-..., MIG-...)")
  if (/^\d+$/.test(t)) {
    if (Number(t) > MAX) throw bad(t)
    return Array.from({ length: Number(t) }, (_, i) => String(i))
  }
  if (!t.includes(',') && !GPU_ID.test(t)) throw bad(t)
  const ids = t.split(',').map(s => s.trim()).filter(Boolean)
  for (const id of ids) if (!GPU_ID.test(id) || (/^\d+$/.test(id) && Number(id) >= MAX)) throw bad(id)
  return [...new Set(ids)]
}

/** Lines like "GPU 0: NVIDIA A100 (UUID: GPU-...)" -> ["0", ...] (MIG devices, indented, are not GPUs of their own). */
export function parseNvidiaSmi(out: string): string[] {
  return [...out.matchAll(/^GPU (\d+):/gm)].map(m => m[1])
}

function nvidiaSmi(env?: NodeJS.ProcessEnv): Promise<string[]> {
  return new Promise(resolve => {
    execFile('nvidia-smi', ['-L'], { timeout: 10_000, env }, (err, out) => resolve(err ? [] : parseNvidiaSmi(String(out))))
  })
}

/** A parsed list with "all" looked up (none on a host without nvidia-smi). */
export function resolveGpus(spec: string[] | 'all', env?: NodeJS.ProcessEnv): Promise<string[]> {
  return spec === 'all' ? nvidiaSmi(env) : Promise.resolve(spec)
}

/** This host's GPUs: the configured `lab.gpus` (checked), else what nvidia-smi lists. */
export function detectGpus(configured: string | null, env?: NodeJS.ProcessEnv): Promise<string[]> {
  if (configured === null) return nvidiaSmi(env)
  try { return resolveGpus(parseGpus(configured, 'git config lab.gpus'), env) } catch (e) { return Promise.reject(e) }
}
