// The GPUs of this host: `lab.gpus` config ("4" or "0,2,3") when set, else `nvidia-smi -L`, else none.
import { execFile } from 'node:child_process'
import { InvalidError } from '../errors.ts'

/** "4" -> 0..3; "0,2,3" -> those ids; "3," -> GPU 3 only; "" or "none" -> none. */
export function parseGpus(text: string): string[] {
  const t = text.trim()
  if (t === '' || t === 'none' || t === '0') return []
  if (/^\d+$/.test(t)) return Array.from({ length: Math.min(Number(t), 1024) }, (_, i) => String(i))
  // "3," names GPU 3 alone (a lone number is a count)
  const ids = t.split(',').map(s => s.trim()).filter(Boolean)
  if (ids.some(id => !/^[A-Za-z0-9_-]{1,64}$/.test(id))) throw new InvalidError(`invalid GPU list ${JSON.stringify(text)}: give a count (4) or ids (0,2,3; one id as 3,)`)
  return [...new Set(ids)]
}

/** Lines like "GPU 0: NVIDIA A100 (UUID: GPU-...)" -> ["0", ...]. */
export function parseNvidiaSmi(out: string): string[] {
  return [...out.matchAll(/^GPU (\d+):/gm)].map(m => m[1])
}

export function detectGpus(configured: string | null): Promise<string[]> {
  if (configured !== null) return Promise.resolve(parseGpus(configured))
  return new Promise(resolve => {
    execFile('nvidia-smi', ['-L'], { timeout: 10_000 }, (err, out) => resolve(err ? [] : parseNvidiaSmi(String(out))))
  })
}
