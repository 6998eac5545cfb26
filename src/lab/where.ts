// `log --where EXPR`: one comparison on a param or a final metric, kept small: NAME OP VALUE, several ANDed.
import { InvalidError } from '../errors.ts'
import { paramValue } from '../store/params.ts'

export type WhereOp = '=' | '!=' | '<' | '<=' | '>' | '>='
export interface Where { name: string; op: WhereOp; value: string; /** the value as a number, if it is one */ num: number | null }

// At the first of these characters the name ends, so a metric name like `val/loss` or `train loss` needs no quoting.
const OPS = /(<=|>=|!=|==|=|<|>)/

/** Parses one expression: `lr<0.01`, `wd = 0`, `opt=adam`, `val/loss>=0.3`. Anything else is an InvalidError (exit 2). */
export function parseWhere(expr: string): Where {
  const m = OPS.exec(expr)
  const usage = 'give NAME OP VALUE with OP one of = != < <= > >=, e.g. --where "lr<0.01"'
  if (!m) throw new InvalidError(`--where ${JSON.stringify(expr)}: no comparison: ${usage}`)
  const name = expr.slice(0, m.index).trim()
  const op = (m[1] === '==' ? '=' : m[1]) as WhereOp
  const value = expr.slice(m.index + m[1].length).trim()
  if (!name) throw new InvalidError(`--where ${JSON.stringify(expr)}: no name before ${m[1]}: ${usage}`)
  if (name.length > 200) throw new InvalidError(`--where: the name ${JSON.stringify(name.slice(0, 40))}... is longer than 200 characters`)
  if (/^[<>=!]/.test(value)) throw new InvalidError(`--where ${JSON.stringify(expr)}: one comparison per expression: ${usage}`)
  const typed = paramValue(value)
  const num = typeof typed === 'number' ? typed : null
  if (op !== '=' && op !== '!=' && num === null) throw new InvalidError(`--where ${JSON.stringify(expr)}: ${op} compares numbers, and ${JSON.stringify(value)} is not one`)
  return { name, op, value, num }
}

/**
 * Whether an experiment passes: the name is its param if it has one, else its final metric. An experiment with
 * neither never passes (not even `!=`). Numbers compare as numbers (`lr=0.001` matches `1e-3`), text as text.
 */
export function matchesWhere(w: Where, params: Record<string, string> | undefined, metrics: Record<string, number> | undefined): boolean {
  const text = params && Object.hasOwn(params, w.name) ? params[w.name] : undefined
  const got = text !== undefined ? paramValue(text) : metrics && Object.hasOwn(metrics, w.name) ? metrics[w.name] : undefined
  if (got === undefined) return false
  if (w.op === '=' || w.op === '!=') {
    const same = typeof got === 'number' && w.num !== null ? got === w.num : text !== undefined && text === w.value
    return w.op === '=' ? same : !same
  }
  if (typeof got !== 'number') return false
  const n = w.num!
  return w.op === '<' ? got < n : w.op === '<=' ? got <= n : w.op === '>' ? got > n : got >= n
}

export const matchesAll = (ws: Where[], params: Record<string, string> | undefined, metrics: Record<string, number> | undefined) =>
  ws.every(w => matchesWhere(w, params, metrics))
