// Reads a command line as git's parse-options does, before cac sees it: options checked as typed, an option's value
// taken as given, missing and extra arguments refused. Every command gets these checks from its declaration alone.
import type { CAC, Command } from 'cac'
import { UsageError } from '../errors.ts'

/** A noun's verb (idea new, msg send): cac matches only the first word, so a verb's arguments are declared here. */
export interface VerbSpec { args: string; help: string }
export type VerbTables = Record<string, Record<string, VerbSpec>>

export interface Prepared {
  /** the words for cac: every value and argument shielded, options as declared */
  argv: string[]
  command: Command | null
  verb: string | null
  help: boolean
  version: boolean
}

// The option parser (mri) turns values that look like numbers into numbers ('' -> 0, '1e3' -> 1000) and reads a
// value that starts with '-' as options. Values are marked before parsing and unmarked in the actions.
const SHIELD = '\u0001'
const shielded = (s: string) => SHIELD + s

export function unshield(v: unknown): unknown {
  if (typeof v === 'string') return v.startsWith(SHIELD) ? v.slice(1) : v
  if (Array.isArray(v)) return v.map(unshield)
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unshield(x)]))
  return v
}

interface Arg { value: string; required: boolean; variadic: boolean }
/** variadic arguments that take words starting with '-' (tag changes), or every word as it is (a hook's arguments) */
const DASH_ARGS = new Set(['changes'])
const RAW_ARGS = new Set(['args'])
/** "<id> [...changes]" -> its arguments, as cac reads a command's brackets. */
export function parseArgs(spec: string): Arg[] {
  return [...spec.matchAll(/([<[])(\.\.\.)?([^>\]]+)[>\]]/g)].map(m => ({ value: m[3], required: m[1] === '<', variadic: !!m[2] }))
}

interface Opt { flag: string; value: string | null; negated: boolean }
/** '-m, --message <text>' -> its spellings as typed, with the value's placeholder ('text') or null for a switch. */
function optionsOf(command: Command | null): Map<string, Opt> {
  const map = new Map<string, Opt>()
  const add = (rawName: string) => {
    // An optional value ('--color [when]') would take the next word or not depending on what it looks like: unlike git.
    if (rawName.includes('[')) throw new Error(`option ${rawName}: declare a value as <name>, or a switch`)
    const value = /<([^>]+)>/.exec(rawName)?.[1] ?? null
    const flags = rawName.split(',').map(s => s.trim().split(/\s/)[0])
    for (const f of flags) map.set(f, { flag: flags[flags.length - 1], value, negated: f.startsWith('--no-') })
  }
  for (const o of command?.options ?? []) add(o.rawName)
  add('-h, --help')
  if (!command) add('-v, --version')
  return map
}

/** Quoted for a shell as a suggestion to copy (never run). */
const quoted = (s: string) => /^[\w ./=:,+@%-]*$/.test(s) ? `"${s}"` : `'${s.replace(/'/g, `'\\''`)}'`

export function prepare(argv: string[], cli: CAC, verbs: VerbTables): Prepared {
  const first = argv[0]
  const command = first === undefined || first.startsWith('-') ? null : cli.commands.find(c => c.isMatched(first)) ?? null
  if (first !== undefined && !first.startsWith('-') && !command) throw new UsageError(`unknown command ${JSON.stringify(first)}: see 'git lab -h'`)
  const noun = command ? verbs[command.name] : undefined
  const opts = optionsOf(command)
  const usage = () => `git lab ${command ? command.name : ''}`.trim()
  const see = () => `see '${usage()} -h'`
  const out: string[] = command ? [first] : []
  const positional: string[] = []
  let help = false
  let version = false
  // After the value of an option that takes a whole command (--run <cmd>): the words that were meant to be part of it.
  let cmdTail: { flag: string; value: string; at: number } | null = null
  let argSpec: Arg[] = command ? command.args : []
  const max = () => argSpec.some(a => a.variadic) ? Infinity : argSpec.length
  // Where a variadic argument named in `names` has begun: `tag ID -draft`, `hook NAME ARGS...` (what git passes).
  const within = (names: Set<string>) => {
    const v = argSpec.findIndex(a => a.variadic && names.has(a.value))
    return v >= 0 && positional.length >= v
  }

  const unexpected = (word: string, what: string): never => {
    if (cmdTail) {
      const rest = argv.slice(cmdTail.at + 1)
      const end = rest.findIndex(w => opts.has(w.split('=')[0]))
      const fix = `${cmdTail.flag} ${quoted([cmdTail.value, ...(end < 0 ? rest : rest.slice(0, end))].join(' '))}`
      // An unknown option after the command may be a typo of ours rather than a word of the command: say both.
      if (what === 'unknown option') throw new UsageError(`unknown option ${JSON.stringify(word)} (if it belongs to the command, quote the whole command: ${fix})`)
      throw new UsageError(`${what} ${JSON.stringify(word)}: ${cmdTail.flag} takes the whole command as one argument: quote it: ${fix}`)
    }
    if (what === 'unknown option') throw new UsageError(`unknown option ${JSON.stringify(word)} (${see()})`)
    const spec = noun && positional.length ? `${command!.name} ${positional[0]} ${verbArgs()}`.trimEnd() : command!.rawName
    throw new UsageError(max() === 0
      ? `unexpected argument ${JSON.stringify(word)}: ${usage()} takes no arguments (quote values with spaces)`
      : `unexpected argument ${JSON.stringify(word)} (usage: git lab ${spec}; quote text with spaces)`)
  }
  const verbArgs = () => noun?.[positional[0]]?.args ?? ''
  const addPositional = (word: string) => {
    if (positional.length >= max() && !help) unexpected(word, 'unexpected argument')
    positional.push(word)
    out.push(shielded(word))
    if (noun && positional.length === 1) {
      const v = noun[word]
      if (!v && !help) throw new UsageError(`git lab ${command!.name}: unknown verb ${JSON.stringify(word)}: ${Object.keys(noun).join(', ')}`)
      // the verb's own arguments follow it
      argSpec = [argSpec[0], ...parseArgs(v?.args ?? '[...rest]')]
    }
  }

  for (let i = command ? 1 : 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--' || within(RAW_ARGS)) { for (const w of argv.slice(a === '--' ? i + 1 : i)) addPositional(w); break }
    const isLong = a.startsWith('--')
    const isShort = !isLong && a.startsWith('-') && a.length > 1 && !/^-\d/.test(a) && !within(DASH_ARGS)
    if (!isLong && !isShort) {
      addPositional(a)
      continue
    }
    // Each short flag of a group (-fh); a value after a short flag is the rest of the word (-mtext) or the next word.
    const given = isLong ? [a.split('=')[0]] : [...a.slice(1)].map(c => `-${c}`)
    for (let j = 0; j < given.length; j++) {
      const flag = given[j]
      const o = opts.get(flag) ?? (flag.startsWith('--no-') ? negatable(opts.get(`--${flag.slice(5)}`)) : undefined)
      if (!o) unexpected(flag, 'unknown option')
      if (o!.flag === '--help') { help = true; continue }
      if (o!.flag === '--version') { version = true; continue }
      cmdTail = null
      const inline = isLong ? (a.includes('=') ? a.slice(a.indexOf('=') + 1) : undefined) : (j + 1 < given.length ? a.slice(j + 2) : undefined)
      if (o!.value === null) {
        if (isLong && inline !== undefined) throw new UsageError(`option ${flag} takes no value (${see()})`)
        out.push(flag)
        continue
      }
      const value = inline ?? argv[++i]
      if (value === undefined) throw new UsageError(`option ${o!.flag} needs a value: ${o!.flag} <${o!.value}> (${see()})`)
      out.push(flag, shielded(value))
      if (o!.value === 'cmd') cmdTail = { flag: o!.flag, value, at: i }
      break
    }
  }
  if (!help && !version && command) {
    const missing = argSpec.slice(positional.length).find(a => a.required)
    if (noun && !positional.length) throw new UsageError(`git lab ${command.name}: give a verb: ${Object.keys(noun).join(', ')} (see 'git lab ${command.name} -h')`)
    if (missing) throw new UsageError(`missing <${missing.value}> (usage: ${usage()} ${noun ? `${positional[0]} ${verbArgs()}` : command.rawName.replace(/^\S+\s*/, '')})`.replace(/ +\)/, ')'))
  }
  return { argv: out, command, verb: noun ? positional[0] ?? null : null, help, version }
}

/** --no-X of a switch X turns it off (as in git); a value option has no --no- form unless declared. */
function negatable(o: Opt | undefined): Opt | undefined {
  return o && o.value === null && !o.negated ? o : undefined
}
