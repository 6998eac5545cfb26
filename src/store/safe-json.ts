// JSON from other writers, bounded before it is parsed: a record nested 100,000 deep parses, but then overflows the
// stack of whoever serializes or walks it. Objects that hold names chosen by others have no prototype.

/** No record of this format nests deeper than a few levels; newer fields get room, attackers don't. */
export const MAX_JSON_DEPTH = 32

/** How deep arrays and objects nest in JSON text (strings skipped), stopping early once past `limit`. */
export function jsonDepth(text: string, limit = Infinity): number {
  let depth = 0
  let max = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++ // backslash: skip the escaped character
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max && (max = depth) > limit) return max
    } else if (c === 0x5d || c === 0x7d) depth--
  }
  return max
}

/**
 * How many `{` and `[` the text holds (in strings too), counting up to limit + 1: no text nests deeper than that, so
 * a record with few of them (most hold a handful) needs no scan character by character.
 */
export function openers(text: string, limit = Infinity): number {
  let n = 0
  for (const c of ['{', '[']) {
    for (let i = text.indexOf(c); i >= 0; i = text.indexOf(c, i + 1)) if (++n > limit) return n
  }
  return n
}

export class JsonLimitError extends Error {}

/** JSON.parse for hostile text: refuses text longer than maxChars or nested deeper than maxDepth. */
export function parseBounded(text: string, maxChars: number, maxDepth = MAX_JSON_DEPTH): unknown {
  if (text.length > maxChars) throw new JsonLimitError(`longer than ${maxChars} characters`)
  if (openers(text, maxDepth) > maxDepth && jsonDepth(text, maxDepth) > maxDepth) throw new JsonLimitError(`nested deeper than ${maxDepth} levels`)
  return JSON.parse(text)
}

/** An empty map for names others choose: `constructor`, `__proto__` or `toString` are ordinary keys in it. */
export const dict = <T>(): Record<string, T> => Object.create(null) as Record<string, T>

/** A parsed object made a map without prototype, in place (no copy: a state holds tens of thousands of them). */
export function unproto<T>(o: Record<string, T>): Record<string, T>
export function unproto<T>(o: Record<string, T> | null | undefined): Record<string, T> | null
export function unproto<T>(o: Record<string, T> | null | undefined): Record<string, T> | null {
  if (!o || typeof o !== 'object') return dict<T>()
  Object.setPrototypeOf(o, null)
  return o
}

/** A copy of a plain object as a map without prototype. */
export function toDict<T>(o: Record<string, T> | null | undefined): Record<string, T> {
  const d = dict<T>()
  if (o) for (const k of Object.keys(o)) d[k] = o[k]
  return d
}
