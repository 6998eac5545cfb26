// The git-lab(1) man page, written at build time from the command table (the declarations -h prints), so that
// `git lab --help` (git runs `man git-lab`) and `man git-lab` say what the CLI does.
import { allDocs, type CommandDoc } from './help.ts'
import { buildCli, VERBS, VERSION } from './main.ts'

/** Text for roff: backslashes and hyphens escaped, no line may start a request. */
export function roff(text: string): string {
  const t = text.replace(/\\/g, '\\e').replace(/-/g, '\\-').replace(/→/g, '\\(->').replace(/'/g, '\\(aq')
  return t.split('\n').map(l => /^[.']/.test(l) ? `\\&${l}` : l).join('\n')
}

const bold = (s: string) => `\\fB${roff(s)}\\fR`
/** '-m, --message <text>' -> the flags in bold, the value's name in italics. */
const flags = (s: string) => s.split(/,\s*/).map(part => {
  const [, name, value] = /^(\S+)(?:\s+<([^>]+)>)?/.exec(part.trim())!
  return `\\fB${roff(name)}\\fR${value ? ` \\fI${roff(value)}\\fR` : ''}`
}).join(', ')

const PROSE = {
  description: [
    'git lab records AI research next to the code: ideas that fork into a DAG, experiments (a snapshot of the working ' +
    'tree, the command to run, a lifecycle, output, metrics and artifacts, notes) and messages between the people and ' +
    'coding agents doing the work. Everything is stored as git objects under refs/lab/*, so any ordinary git remote ' +
    'is the shared database: plain git push and git fetch sync it, it works offline, and nothing else needs hosting.',
    'Ids are 12 hex characters; any unique prefix works. Every read command takes --json (stable snake_case shapes, ' +
    'described in the README). A value with spaces, such as the command given to --run, is one argument: quote it.',
  ],
  exit: [
    ['0', 'success'],
    ['1', 'an error, told in one line on stderr (fsck: problems found)'],
    ['2', 'a usage error: a missing, unknown or invalid option, argument or value; nothing was written'],
    ['70', 'an internal error (please report it)'],
    ['other', "git lab run exits with its experiment's outcome: the job's exit code, 124 timed out, 130 cancelled"],
  ],
  env: [
    ['LAB_AGENT, LAB_ROLE', 'the agent and role this process speaks for (also git config lab.agent, lab.role)'],
    ['GIT_AUTHOR_NAME, GIT_AUTHOR_EMAIL', 'the author recorded on every operation (else user.name, user.email)'],
    ['LAB_EXPERIMENT, LAB_ATTEMPT, LAB_IDEA, LAB_METRICS, LAB_OUTPUT, CUDA_VISIBLE_DEVICES', 'set for a job: see the README'],
  ],
  config: [
    ['lab.writer', "this clone's writer id (git lab init)"],
    ['lab.remote', 'the lab remote git lab sync uses'],
    ['lab.gpus', "this host's GPUs for workers: all, a count (4), indices (0,2,3) or GPU UUIDs; default: nvidia-smi -L"],
    ['lab.trust', 'writer ids or author emails whose queued work workers here run'],
  ],
}

export function manPage(docs: CommandDoc[], version: string): string {
  const L: string[] = []
  L.push(`.TH GIT\\-LAB 1 "" "git\\-lab ${roff(version)}" "Git Lab Manual"`, '.SH NAME', 'git\\-lab \\- record, run and compare AI research experiments in git')
  L.push('.SH SYNOPSIS', '.B git lab', '.I command', '.RI [ args ]', '.RI [ options ]')
  L.push('.SH DESCRIPTION', ...PROSE.description.flatMap(p => ['.PP', roff(p)]))
  L.push('.SH COMMANDS')
  for (const d of docs) {
    for (const u of d.usages) L.push('.TP', bold(u.usage), roff(u.text))
    const opts = d.options.filter(o => o.flags !== '-h, --help')
    if (opts.length) {
      L.push('.RS', '.PP', 'Options:')
      for (const o of opts) L.push('.TP', flags(o.flags), roff(o.text))
      L.push('.RE')
    }
    if (d.examples.length) L.push('.RS', '.PP', 'Example:', '.nf', ...d.examples.map(e => roff(e)), '.fi', '.RE')
  }
  L.push('.SH OPTIONS', '.TP', flags('-h, --help'), roff("Show a command's options (git lab help COMMAND does the same)."))
  L.push('.TP', flags('-v, --version'), roff('Print the version.'))
  L.push('.SH "EXIT STATUS"', ...PROSE.exit.flatMap(([k, v]) => ['.TP', bold(k), roff(v)]))
  L.push('.SH ENVIRONMENT', ...PROSE.env.flatMap(([k, v]) => ['.TP', bold(k), roff(v)]))
  L.push('.SH CONFIGURATION', ...PROSE.config.flatMap(([k, v]) => ['.TP', bold(k), roff(v)]))
  L.push('.SH FILES', '.TP', bold('refs/lab/*'), roff("the lab's records (pushed and fetched)"), '.TP', bold('.git/lab/'),
    roff('local state, never pushed: the index, journals of running jobs, locks (git lab fsck --rebuild rebuilds it)'))
  L.push('.SH "SEE ALSO"', bold('git') + '(1), ' + bold('git-push') + '(1), ' + bold('git-fetch') + '(1)')
  return L.join('\n') + '\n'
}

/** The page for this build: what scripts/man.mjs writes to dist/man/man1/git-lab.1. */
export function manual(): string {
  const quiet = { out() {}, err() {}, jobOut() {}, jobErr() {}, isTTY: false }
  const cli = buildCli({ cwd: '.', env: {}, now: () => new Date(0), io: quiet }, () => undefined)
  return manPage(allDocs(cli, VERBS), VERSION)
}
