// Which git queries a command line is sure to start with: the launcher starts them before it loads the bundle
// (src/git/early.ts). Only what the command asks first thing, with the same arguments: a query not taken costs one
// short process; a command not listed here starts nothing early.
import { HEAD_ARGS, configArgs, refsArgs, repoArgs, untrackedArgs } from '../git/queries.ts'
import { PATHSPEC_VARS, startEarly, type EarlyQuery } from '../git/early.ts'
import { CONFIG_KEYS } from './remotes.ts'
import { WRITER_REF_PATTERNS } from '../store/layout.ts'
import { SECRET_GLOBS } from './secret-files.ts'

/** Commands that open the lab and read its state at once. */
const READERS = new Set(['submit', 'run', 'status', 'log', 'show', 'cancel', 'note', 'tag', 'diff', 'checkout', 'compare', 'logs',
  'metrics', 'retry', 'artifacts', 'idea', 'msg', 'fsck', 'worker', 'hosts'])
/** Hooks that read the lab's refs (the others only open it). */
const SUMMARY_HOOKS = new Set(['post-checkout', 'post-merge', 'post-rewrite'])

export function earlyQueries(argv: string[]): EarlyQuery[] {
  const [command, sub] = argv
  // (help prints without a repository; `--` or an option first is for the full parser to read)
  if (!command || argv.some(a => a === '-h' || a === '--help')) return []
  const open = [{ args: repoArgs(true) }, { args: configArgs(CONFIG_KEYS) }]
  const refs = { args: refsArgs(WRITER_REF_PATTERNS) }
  if (command === 'hook') return SUMMARY_HOOKS.has(sub) ? [...open, refs] : [...open]
  if (!READERS.has(command)) return []
  // A submit snapshots the working tree: first the untracked files that look like secrets (more when config adds some).
  const snapshot = (command === 'submit' || command === 'run') && !argv.includes('--no-code')
  // (and HEAD with its tree: a snapshot equal to it is HEAD itself; log marks the experiment checked out)
  const submit = command === 'submit' || command === 'run' || command === 'log' ? [{ args: HEAD_ARGS }] : []
  // (in the order a submit needs them: they run one after another; the snapshot waits for the secret scan)
  return [...open, ...(snapshot ? [{ args: untrackedArgs(SECRET_GLOBS), unset: PATHSPEC_VARS }] : []), refs, ...submit]
}

/** Starts what `argv` begins with (the launcher, before it loads the bundle). */
export function prefetch(argv: string[], cwd: string, env: NodeJS.ProcessEnv): void {
  startEarly(earlyQueries(argv), cwd, env)
}
