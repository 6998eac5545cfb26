// The one door from a string to a remote POSIX shell: every value of a lab record reaches it through shq().
import { InvalidError } from '../../errors.ts'

/**
 * One shell word with exactly this value: single quotes, each ' written as '\'' (inside single quotes nothing else is
 * special: no $, `, \, !, globs or line breaks). NUL cannot be passed through a shell word at all: refused.
 */
export function shq(value: string): string {
  if (value.includes('\0')) throw new InvalidError('a NUL byte cannot be passed to a remote shell')
  return `'${value.replace(/'/g, `'\\''`)}'`
}

/** A command line: `sh -c SCRIPT NAME ARG...`, every part quoted (the script is the only code; args are data). */
export function shCommand(script: string, name: string, args: string[]): string {
  return ['sh', '-c', shq(script), shq(name), ...args.map(shq)].join(' ')
}
