// What `-h`, `git lab help` and the man page say: read from the command table, so the three never drift apart.
import type { CAC, Command } from 'cac'
import type { VerbTables } from './argv.ts'

export interface OptionDoc { flags: string; text: string }
export interface UsageDoc { usage: string; text: string }
export interface CommandDoc { name: string; text: string; usages: UsageDoc[]; options: OptionDoc[]; examples: string[] }

export const HELP_OPTION: OptionDoc = { flags: '-h, --help', text: "Show this help ('git lab --help': the manual)" }

function optionDoc(o: Command['options'][number]): OptionDoc {
  // A --no-X switch is off unless given: cac's default (true) is the value of X, not something to show.
  const shown = o.config.default !== undefined && !o.negated ? ` (default: ${o.config.default})` : ''
  return { flags: o.rawName, text: o.description + shown }
}

export function commandDoc(c: Command, verbs: VerbTables): CommandDoc {
  const table = verbs[c.name]
  const usages = table
    ? Object.entries(table).map(([v, s]) => ({ usage: `git lab ${c.name} ${v} ${s.args}`.trimEnd(), text: s.help }))
    : [{ usage: `git lab ${c.rawName}${c.options.length ? ' [options]' : ''}`, text: c.description }]
  const examples = c.examples.map(e => typeof e === 'function' ? e('git lab') : e)
  return { name: c.name, text: c.description, usages, options: [...c.options.map(optionDoc), HELP_OPTION], examples }
}

export function allDocs(cli: CAC, verbs: VerbTables): CommandDoc[] {
  return cli.commands.map(c => commandDoc(c, verbs))
}

/** Two columns, the second aligned (at most 32 wide for the first, longer ones get a line of their own). */
function columns(rows: Array<[string, string]>, indent = '  '): string {
  const w = Math.min(32, Math.max(...rows.map(([a]) => a.length)))
  return rows.map(([a, b]) => a.length > w ? `${indent}${a}\n${indent}${' '.repeat(w + 2)}${b}\n` : `${indent}${a.padEnd(w)}  ${b}\n`).join('')
}

export function commandHelp(d: CommandDoc): string {
  let t = d.usages.length > 1
    ? `usage: git lab ${d.name} <verb> [<args>] [options]\n\n${d.text}\n\nVerbs:\n${columns(d.usages.map(u => [u.usage.replace(/^git lab \S+ /, ''), u.text]))}`
    : `usage: ${d.usages[0].usage}\n\n${d.text}\n`
  t += `\nOptions:\n${columns(d.options.map(o => [o.flags, o.text]))}`
  if (d.examples.length) t += `\nExamples:\n${d.examples.map(e => `  ${e}\n`).join('')}`
  return t
}

export function overview(docs: CommandDoc[], version: string): string {
  const rows: Array<[string, string]> = []
  for (const d of docs) {
    if (d.usages.length > 1) for (const u of d.usages) rows.push([u.usage.replace(/^git lab /, ''), u.text])
    else rows.push([d.usages[0].usage.replace(/^git lab /, '').replace(/ \[options\]$/, ''), d.text])
  }
  return `usage: git lab <command> [<args>] [options]\n\n` +
    `git lab ${version}: ideas, experiments and messages of AI research, recorded in git under refs/lab/*.\n\n` +
    `Commands:\n${columns(rows)}\n` +
    `'git lab help <command>' or 'git lab <command> -h' shows a command's options; 'git lab --help' the manual.\n` +
    'Exit codes: 0 ok, 1 error, 2 usage error (nothing was written), 70 internal error.\n'
}
