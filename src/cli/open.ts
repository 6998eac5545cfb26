// Opens the lab for one command and closes its batch processes after.
import { Lab } from '../lab/lab.ts'
import { UsageError } from '../errors.ts'
import type { Ctx } from './io.ts'

export async function withLab<T>(ctx: Ctx, fn: (lab: Lab) => Promise<T>): Promise<T> {
  const lab = await Lab.open({ cwd: ctx.cwd, env: ctx.env, now: ctx.now })
  try { return await fn(lab) } finally {
    lab.close()
    // A writer whose log this version cannot read is skipped, never fatal: say so once per command.
    for (const [w, x] of Object.entries(lab.store.current?.ignored ?? lab.store.files.last?.ignored ?? {})) {
      ctx.io.err(`git lab: warning: writer ${w} is skipped: ${x.reason}\n`)
    }
  }
}

/** Repeatable options arrive as a value or an array; numbers stay strings where text is meant. */
export const many = (v: unknown): string[] => v === undefined || v === true ? [] : (Array.isArray(v) ? v : [v]).map(String)
export const text = (v: unknown): string | undefined => v === undefined || v === true ? undefined : Array.isArray(v) ? String(v[v.length - 1]) : String(v)

/** An integer option, at least `min` when given (so `--limit -1` is refused, not read as "all"). */
export function int(name: string, v: unknown, min = -Infinity): number | undefined {
  if (v === undefined) return undefined
  const n = typeof v === 'number' ? v : /^\s*-?\d+\s*$/.test(String(v)) ? Number(String(v)) : NaN
  if (!Number.isSafeInteger(n)) throw new UsageError(`--${name} expects an integer, got ${JSON.stringify(String(v))}`)
  if (n < min) throw new UsageError(`--${name} must be ${min} or more, got ${n}`)
  return n
}

/** Calls fn on Ctrl-C, SIGTERM or SIGHUP (a closed terminal), the n-th time with n, until the returned function is called. */
export function onInterrupt(fn: (count: number) => void): () => void {
  let count = 0
  const h = () => fn(++count)
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const
  for (const s of signals) process.on(s, h)
  return () => { for (const s of signals) process.off(s, h) }
}

export function duration(name: string, v: unknown): number | undefined {
  const t = text(v)
  if (t === undefined) return undefined
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(t.trim())
  if (!m) throw new UsageError(`--${name} expects a duration like 500ms, 10s or 2m, got ${JSON.stringify(t)}`)
  return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000)
}
