// Small validators for operation payloads: each returns an error string or null.
import { ENTITY_RE } from '../op.ts'

export type Check = (v: unknown) => string | null
export const MAX_TEXT = 64 * 1024

export const text = (max = MAX_TEXT, optional = false): Check => v =>
  v === null || v === undefined ? (optional ? null : 'missing') :
  typeof v !== 'string' ? 'not a string' : v.length > max ? `longer than ${max}` : null

export const int = (min: number, max: number, optional = false): Check => v =>
  v === null || v === undefined ? (optional ? null : 'missing') :
  !Number.isSafeInteger(v) || (v as number) < min || (v as number) > max ? `not an integer in ${min}..${max}` : null

export const entity = (optional = false): Check => v =>
  v === null || v === undefined ? (optional ? null : 'missing') :
  typeof v === 'string' && ENTITY_RE.test(v) ? null : 'not an id'

export const sha = (optional = false): Check => v =>
  v === null || v === undefined ? (optional ? null : 'missing') :
  typeof v === 'string' && /^([0-9a-f]{40}|[0-9a-f]{64})$/.test(v) ? null : 'not an object id'

export const TAG_RE = /^[A-Za-z0-9][A-Za-z0-9_.:=\-/]{0,63}$/
export const tag: Check = v => typeof v === 'string' && TAG_RE.test(v) ? null : 'not a tag'

export const list = (item: Check, max = 256, optional = true): Check => v => {
  if (v === null || v === undefined) return optional ? null : 'missing'
  if (!Array.isArray(v)) return 'not a list'
  if (v.length > max) return `more than ${max} items`
  for (const x of v) { const e = item(x); if (e) return e }
  return null
}

export const oneOf = (values: readonly string[], optional = false): Check => v =>
  v === null || v === undefined ? (optional ? null : 'missing') :
  typeof v === 'string' && values.includes(v) ? null : `not one of ${values.join(', ')}`

/** Validates payload fields against a schema; unknown fields are allowed (newer writers may add some). */
export function checkFields(p: Record<string, unknown>, schema: Record<string, Check>): string | null {
  for (const k of Object.keys(schema)) {
    const e = schema[k](p[k])
    if (e) return `${k}: ${e}`
  }
  return null
}

export const str = (v: unknown, fallback = ''): string => typeof v === 'string' ? v : fallback
export const strs = (v: unknown): string[] => Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []

/** An object of finite numbers keyed by short names (metrics). */
export const numbers = (max: number, optional = false): Check => v => {
  if (v === null || v === undefined) return optional ? null : 'missing'
  if (typeof v !== 'object' || Array.isArray(v)) return 'not an object'
  const entries = Object.entries(v as Record<string, unknown>)
  if (entries.length > max) return `more than ${max} entries`
  for (const [k, x] of entries) if (k.length > 200 || typeof x !== 'number' || !Number.isFinite(x)) return `${JSON.stringify(k).slice(0, 60)} is not a finite number`
  return null
}
