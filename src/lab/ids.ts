// Resolves ids given as unique prefixes; an ambiguous prefix is an error naming the candidates.
import { AmbiguousError, InvalidError, NotFoundError } from '../errors.ts'
import { keysWithPrefix } from '../store/entities.ts'

export function resolveId<T>(kind: string, items: Record<string, T>, given: string): string {
  const q = given.trim().toLowerCase()
  if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(q)) throw new InvalidError(`invalid ${kind} id ${JSON.stringify(given)}`)
  if (Object.hasOwn(items, q)) return q
  const hits = keysWithPrefix(items, q)
  if (hits.length === 1) return hits[0]
  if (hits.length === 0) throw new NotFoundError(`no ${kind} matches ${JSON.stringify(given)}`)
  const shown = hits.sort().slice(0, 10).join(', ')
  throw new AmbiguousError(`${kind} id ${JSON.stringify(given)} is ambiguous: ${shown}${hits.length > 10 ? `, ... (${hits.length} in all)` : ''}`, { candidates: hits })
}
