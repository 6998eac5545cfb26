// Params as users give them (`--param name=v1,v2`, a hook's `Lab-Param:` trailer) and as jobs get them (env, file).
import { InvalidError } from '../errors.ts'
import { MAX_PARAMS, badParamName, badParamValue, checkParams, paramEnvName, typedParams } from '../store/params.ts'

/** The most experiments one sweep queues: a typo such as a 100-value list times another one is refused, not queued. */
export const MAX_SWEEP = 1000

/** Param name -> its values, in the order given: one value each is one experiment, lists make a sweep. */
export type ParamSpec = Record<string, string[]>

/**
 * Parses `name=value` items: a value with commas is a list (a sweep); `\,` is a comma inside a value and `\\` a
 * backslash (any other backslash is itself). Spaces around each value are dropped (`lr=1e-3, 3e-4` is two numbers,
 * not a number and the text " 3e-4"). `what` names the source in errors (`--param`, `Lab-Param:`).
 */
export function parseParams(items: string[], what = '--param'): ParamSpec {
  const spec: ParamSpec = Object.create(null)
  for (const item of items) {
    const eq = item.indexOf('=')
    if (eq < 0) throw new InvalidError(`${what} ${JSON.stringify(item)}: give NAME=VALUE (a sweep: NAME=V1,V2,...)`)
    const name = item.slice(0, eq)
    const badName = badParamName(name)
    if (badName) throw new InvalidError(`${what} ${JSON.stringify(item)}: ${JSON.stringify(name)} is ${badName}`)
    if (spec[name]) throw new InvalidError(`${what} ${name} is given twice: list several values in one, NAME=V1,V2`)
    spec[name] = splitValues(item.slice(eq + 1), `${what} ${name}`)
  }
  return checkSpec(spec, what)
}

/** A spec built by a caller (name -> a value or a list of values), checked as parseParams checks its own. */
export function paramSpec(given: Record<string, string | number | Array<string | number>>, what = 'params'): ParamSpec {
  const spec: ParamSpec = Object.create(null)
  for (const [name, v] of Object.entries(given)) {
    const badName = badParamName(name)
    if (badName) throw new InvalidError(`${what}: ${JSON.stringify(name)} is ${badName}`)
    const values = (Array.isArray(v) ? v : [v]).map(String)
    if (!values.length) throw new InvalidError(`${what} ${name}: no values`)
    values.forEach(x => checkValue(x, `${what} ${name}`))
    if (new Set(values).size !== values.length) throw new InvalidError(`${what} ${name}: a value is listed twice`)
    spec[name] = values
  }
  return checkSpec(spec, what)
}

function splitValues(text: string, what: string): string[] {
  const values: string[] = []
  let cur = ''
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '\\' && (text[i + 1] === ',' || text[i + 1] === '\\')) cur += text[++i]
    else if (c === ',') { values.push(cur.trim()); cur = '' } else cur += c
  }
  values.push(cur.trim())
  if (values.length > 1 && values.some(v => v === '')) throw new InvalidError(`${what}: an empty value in the list ${JSON.stringify(text)} (a comma in a value: \\,)`)
  for (const v of values) checkValue(v, what)
  if (new Set(values).size !== values.length) throw new InvalidError(`${what}: a value is listed twice in ${JSON.stringify(text)}`)
  return values
}

function checkValue(v: string, what: string): void {
  const bad = badParamValue(v)
  if (bad) throw new InvalidError(`${what}: the value ${JSON.stringify(v.slice(0, 40))} ${bad}`)
}

function checkSpec(spec: ParamSpec, what: string): ParamSpec {
  const names = Object.keys(spec)
  if (names.length > MAX_PARAMS) throw new InvalidError(`${what}: more than ${MAX_PARAMS} params`)
  // Names that only differ in case or in _.- reach the job as one variable: refused here as readers refuse them.
  const one = Object.fromEntries(names.map(n => [n, spec[n][0]]))
  const bad = checkParams(one)
  if (bad) throw new InvalidError(`${what}: ${bad}`)
  const n = sweepSize(spec)
  if (n > MAX_SWEEP) throw new InvalidError(`${what}: the sweep would queue ${n} experiments; at most ${MAX_SWEEP} at once`)
  return spec
}

/** How many experiments a spec makes: the product of its list lengths. */
export const sweepSize = (spec: ParamSpec) => Object.values(spec).reduce((n, v) => n * v.length, 1)

/** Every combination, the first param varying slowest (as nested loops in the order given). */
export function expandSweep(spec: ParamSpec): Array<Record<string, string>> {
  let out: Array<Record<string, string>> = [{}]
  for (const [name, values] of Object.entries(spec)) out = out.flatMap(p => values.map(v => ({ ...p, [name]: v })))
  return out
}

/** The job's LAB_PARAM_<NAME> variables: each value's text as given. */
export function paramEnv(params: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {}
  for (const k of Object.keys(params)) env[paramEnvName(k)] = params[k]
  return env
}

/** The file $LAB_PARAMS names, in the job's folder. */
export const PARAMS_FILE = 'params.json'

/** The worker's environment without LAB_PARAM_* of its own (a worker started inside a job): a job sees only its params. */
export function withoutParams(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {}
  for (const k of Object.keys(env)) if (!k.startsWith('LAB_PARAM_') && k !== 'LAB_PARAMS') out[k] = env[k]
  return out
}

/** The text of the $LAB_PARAMS file: the typed params, one JSON object. */
export const paramsFile = (params: Record<string, string>) => JSON.stringify(typedParams(params)) + '\n'
