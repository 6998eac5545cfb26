// An experiment's params as records hold them: name -> the value's text as given. Pure; shared by the op kind
// (validation at write and read), the fold, the --json shapes and the worker's job environment.

/** Letters, digits, `_`, `.`, `-`; not starting with a digit, so every name makes a valid environment variable. */
export const PARAM_NAME_RE = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/
export const MAX_PARAMS = 100
export const MAX_PARAM_VALUE = 1024
// C0 controls and DEL: a value reaches an environment variable (NUL cannot) and a table cell (a newline breaks it).
const CONTROL = /[\x00-\x1f\x7f]/

/** The variable a param reaches the job as: `lr` -> LAB_PARAM_LR, `opt.beta-1` -> LAB_PARAM_OPT_BETA_1. */
export const paramEnvName = (name: string) => 'LAB_PARAM_' + envKey(name)
// (checked for every experiment of every writer on a rebuild: the regex only runs for names that need it)
const envKey = (name: string) => { const u = name.toUpperCase(); return /^[A-Z0-9_]*$/.test(u) ? u : u.replace(/[^A-Z0-9]/g, '_') }

// A decimal number as people write one: 3, -0.5, .5, 1e-3, +2E6. Not hex, Infinity, NaN, '1_000' or ' 3'.
const NUMBER_RE = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/

/** A value's typed form ($LAB_PARAMS, --json, --where): a finite decimal number as a number, anything else as text. */
export function paramValue(text: string): number | string {
  const c = text.charCodeAt(0)
  // (most text values are ruled out by their first character, without the regex: this runs for every row of log)
  if (!((c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46) || !NUMBER_RE.test(text)) return text
  const n = Number(text)
  return Number.isFinite(n) ? n : text
}

/** The typed map as a fresh plain object in the order given (`__proto__` defined, not assigned: it stays a key). */
export function typedParams(params: Record<string, string>): Record<string, number | string> {
  const out: Record<string, number | string> = {}
  for (const k of Object.keys(params)) {
    if (k === '__proto__') Object.defineProperty(out, k, { value: paramValue(params[k]), enumerable: true, writable: true, configurable: true })
    else out[k] = paramValue(params[k])
  }
  return out
}

/** Why a name is not a param name, or null. */
export function badParamName(name: string): string | null {
  return PARAM_NAME_RE.test(name) ? null : 'not a param name (a letter or _, then letters, digits and _.-, at most 64)'
}

/** Why a value cannot be a param value, or null. */
export function badParamValue(value: string): string | null {
  if (value.length > MAX_PARAM_VALUE) return `longer than ${MAX_PARAM_VALUE} characters`
  if (CONTROL.test(value)) return 'holds a control character'
  return null
}

/** Why a payload's `params` is invalid, or null: an object of at most MAX_PARAMS names to strings, one variable each. */
export function checkParams(v: unknown): string | null {
  if (v === null || v === undefined) return null
  if (typeof v !== 'object' || Array.isArray(v)) return 'not an object'
  const names = Object.keys(v)
  if (names.length > MAX_PARAMS) return `more than ${MAX_PARAMS} params`
  const env = names.length > 1 ? new Map<string, string>() : null
  const shown = (k: string) => JSON.stringify(k).slice(0, 80)
  for (const k of names) {
    if (!PARAM_NAME_RE.test(k)) return `${shown(k)} is ${badParamName(k)}`
    const x = (v as Record<string, unknown>)[k]
    if (typeof x !== 'string') return `${shown(k)} is not a string`
    const bad = badParamValue(x)
    if (bad) return `${shown(k)} ${bad}`
    // Two names that reach the job as one variable (lr.x, lr_x, LR-X): the job could not tell which it got.
    if (!env) continue
    const e = envKey(k)
    if (env.has(e)) return `${shown(k)} and ${shown(env.get(e)!)} are both LAB_PARAM_${e}`
    env.set(e, k)
  }
  return null
}
