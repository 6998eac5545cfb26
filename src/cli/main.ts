// The `git lab` command table. It only declares: each action lazy-loads src/cli/commands/<noun>-<verb>.ts. Arguments
// and options are checked from these declarations (argv.ts), and -h, `git lab help` and the man page print them.
// This is the one place that exits the process.
import { cac, type CAC } from 'cac'
import { LabError, UsageError } from '../errors.ts'
import { terminalIO, type Ctx, type Streams } from './io.ts'
import { prepare, unshield, type VerbSpec, type VerbTables } from './argv.ts'
import { allDocs, commandDoc, commandHelp, overview } from './help.ts'

declare const __VERSION__: string
export const VERSION = typeof __VERSION__ === 'string' ? __VERSION__ : '0.0.0-dev'

type Module = { run(ctx: Ctx, args: string[], opts: Record<string, unknown>): Promise<number | void> }
type Loader = () => Promise<Module>
type Verbs = Record<string, VerbSpec & { load: Loader }>

// Nouns with verbs: cac matches only the first word, so each verb declares its arguments here (checked as a
// command's are, and shown by -h and the man page).
const IDEA: Verbs = {
  new: { args: '<text>', help: 'A new idea (--parent ID, --tag T); prints its id', load: () => import('./commands/idea-new.ts') },
  list: { args: '', help: 'Ideas (--status S, --tag T)', load: () => import('./commands/idea-list.ts') },
  show: { args: '<id>', help: 'One idea: parents, children, experiments, notes', load: () => import('./commands/idea-show.ts') },
  conclude: { args: '<id> <conclusion>', help: 'Conclude it (a conclusion is required)', load: () => import('./commands/idea-resolve.ts') },
  abandon: { args: '<id> <reason>', help: 'Abandon it (a reason is required)', load: () => import('./commands/idea-resolve.ts') },
  reopen: { args: '<id>', help: 'Open it again', load: () => import('./commands/idea-resolve.ts') },
  note: { args: '<id> <text>', help: 'Add a note', load: () => import('./commands/idea-note.ts') },
  link: { args: '<id>', help: 'Add parents (--parent P, repeatable); cycles are refused', load: () => import('./commands/idea-link.ts') },
  tag: { args: '<id> [...changes]', help: 'Add (+T or --tag T) or remove (-T) tags', load: () => import('./commands/idea-tag.ts') },
}
const MSG: Verbs = {
  send: { args: '<text>', help: 'Send a message (--to WHO: a writer id, agent, role, or all)', load: () => import('./commands/msg-send.ts') },
  list: { args: '', help: 'Messages to me and the ones I sent (--unread, --all)', load: () => import('./commands/msg-list.ts') },
  read: { args: '[...ids]', help: 'Mark the given messages, or all unread ones, read', load: () => import('./commands/msg-read.ts') },
}
const hostCmd = () => import('./commands/host.ts')
const HOST: Verbs = {
  add: { args: '<name> <target>', help: 'Add (or change) an SSH host: TARGET is [user@]host[:port] (--gpus N|auto, --workdir DIR, --jobs N, --tag T)', load: hostCmd },
  remove: { args: '<name>', help: 'Remove a host from the lab', load: hostCmd },
  check: { args: '<name>', help: 'Check each step of using a host: resolve, TCP, host key, login, git, sh, workdir, disk, nvidia-smi', load: hostCmd },
  trust: { args: '<name>', help: "Add the host's key to ~/.ssh/known_hosts after showing its SHA256 fingerprint (--fingerprint F: only that key)", load: hostCmd },
}
export const VERBS: VerbTables = { idea: IDEA, msg: MSG, host: HOST }

export function buildCli(ctx: Ctx, done: (p: Promise<number | void>) => void) {
  const cli = cac('git lab')
  const act = (load: Loader, pre: (...a: unknown[]) => string[] = () => []) => (...raw: unknown[]) => {
    const a = raw.map(unshield)
    const opts = a[a.length - 1] as Record<string, unknown>
    done(load().then(m => m.run(ctx, pre(...a.slice(0, -1)), opts)))
  }
  const flat = (...a: unknown[]) => a.flat().filter((x): x is string | number => x !== undefined).map(String)
  // idea modules get the verb as their first argument (one module serves conclude, abandon and reopen)
  const verbAct = (table: Verbs, withVerb: boolean) => (...raw: unknown[]) => {
    const [verb, args, opts] = raw.map(unshield) as [string, string[], Record<string, unknown>]
    done(table[verb].load().then(m => m.run(ctx, withVerb ? [verb, ...flat(args)] : flat(args), opts)))
  }

  cli.command('init', 'Set up git lab in this repository (writer id, fetch refspec, hooks); idempotent')
    .option('--remote <name>', 'Remote to sync lab records with (default: origin, or the only remote)')
    .option('--objective <metric>', 'The metric the lab optimizes (with --minimize or --maximize)')
    .option('--minimize', 'Lower is better').option('--maximize', 'Higher is better')
    .option('--no-fetch', 'Do not fetch lab records from the remote now').option('--json', 'JSON output')
    .example('git lab init --objective val_loss --minimize')
    .action(act(() => import('./commands/init.ts')))

  cli.command('idea [verb] [...args]', 'Ideas: what to try and what was learned, a DAG of parents and children')
    .option('--parent <id>', 'Parent idea (repeatable; idea new, idea link)')
    .option('--tag <tag>', 'Tag (repeatable; idea new) or filter (idea list)')
    .option('--status <status>', 'Filter idea list: open, concluded, abandoned')
    .option('--json', 'JSON output')
    .example('git lab idea new "wider MLP" --parent 3fa9 --tag arch')
    .example('git lab idea conclude 3fa9 "width helps up to 4x, then overfits"')
    .action(verbAct(IDEA, true))

  const submitOpts = (c: ReturnType<typeof cli.command>) => c
    .option('-m, --message <text>', 'What this experiment tries').option('--run <cmd>', 'Command to run')
    .option('--setup <cmd>', 'Command to run first').option('--idea <id>', 'Idea it belongs to')
    .option('--from <ref>', 'Base the snapshot on this experiment or git revision instead of HEAD')
    .option('--priority <n>', 'Higher runs first (default 0)').option('--tag <tag>', 'Tag (repeatable)')
    .option('--gpus <n>', 'How many GPUs it needs (default 0)').option('--depends-on <id>', 'Run after this experiment succeeds (repeatable)')
    .option('--timeout <duration>', 'Stop it after e.g. 30m, 2h').option('--no-code', 'Record no code snapshot')
    .option('--include <path>', 'Snapshot this untracked file (or folder) even if it looks like a secret (repeatable)')
    .option('--host <name>', 'Run it on this SSH host only (git lab hosts)').option('--host-tag <tag>', 'Run it on an SSH host with this tag')
    .option('--param <name=value>', 'A param for the job ($LAB_PARAMS, LAB_PARAM_NAME; repeatable); V1,V2,... queues a sweep (\\, for a comma)')

  submitOpts(cli.command('submit', 'Snapshot the working tree (untouched) and queue an experiment'))
    .option('--json', 'Print the experiment as JSON')
    .example('git lab submit -m "lr 3e-4" --run "python train.py --lr 3e-4" --tag sweep')
    .example('git lab submit -m "lr x wd" --run "python train.py" --param lr=1e-3,3e-4,1e-4 --param wd=0,0.1')
    .action(act(() => import('./commands/submit.ts')))

  submitOpts(cli.command('run', 'Submit and run an experiment here now, streaming its output; exits with its exit code'))
    .option('--keep', 'Keep its worktree and journals under .git/lab/runs').option('--grace <duration>', 'Ctrl-C: SIGKILL this long after SIGTERM (default 10s)')
    .option('--json', 'Stream output to stderr and print the experiment as JSON at the end')
    .example('git lab run -m "smoke test" --run "python train.py --steps 100"')
    .action(act(() => import('./commands/run.ts')))

  cli.command('worker', 'Run queued experiments of this lab until stopped (Ctrl-C leaves running jobs running)')
    .option('--once', 'Exit when nothing is left that this worker can run').option('--jobs <n>', 'Experiments at once (default 1)')
    .option('--gpus <list>', 'GPUs to use: all, a count (4), indices (0,2,3) or UUIDs (GPU-...); default: lab.gpus, else nvidia-smi -L')
    .option('--keep', 'Keep worktrees and journals under .git/lab/runs').option('--grace <duration>', 'SIGKILL this long after SIGTERM on cancel (default 10s)')
    .option('--sync-every <duration>', 'Sync with the lab remote this often (default 15s; 0: never)')
    .option('--lease <duration>', 'A claim lapses this long after its last renewal (default 2m)')
    .option('--host <name>', 'Dispatch to this SSH host instead of running here (repeatable; all: every host of the lab)')
    .option('--retry-lost <n>', 'Queue a job lost with its host (unreachable past lab.hostTimeout, restarted) again, up to attempt N')
    .example('git lab worker --jobs 4').example('git lab worker --host gpu1 --host gpu2').example('git lab worker --once')
    .action(act(() => import('./commands/worker.ts')))

  cli.command('host [verb] [...args]', 'SSH hosts of the lab: where workers dispatch experiments (credentials stay in ~/.ssh)')
    .option('--gpus <n>', 'host add: GPUs it offers (a count, or auto: nvidia-smi -L there)').option('--workdir <dir>', 'host add: where runs go there (default ~/.git-lab)')
    .option('--jobs <n>', 'host add: jobs at once (default: one per GPU, at least one)').option('--tag <tag>', 'host add: tag (repeatable; submit --host-tag)')
    .option('--fingerprint <sha256>', 'host trust: trust only a key with this fingerprint').option('--json', 'JSON output')
    .example('git lab host add gpu1 ann@gpu1.example.com --gpus auto --tag a100').example('git lab host trust gpu1').example('git lab host check gpu1')
    .action(verbAct(HOST, true))
  cli.command('hosts', 'SSH hosts of the lab: reachable or not, GPUs, jobs running, free disk').option('--offline', 'Do not connect: the records only')
    .option('--json', 'JSON output')
    .action(act(() => import('./commands/hosts.ts')))

  cli.command('logs <id>', 'Output of an experiment (stdout and stderr), from refs and the live journal')
    .option('-f, --follow', 'Keep printing new output until it ends').option('--tail <n>', 'Only the last N lines')
    .option('--grep <regexp>', 'Only lines matching').option('--attempt <n>', 'Attempt (default: the latest)')
    .example('git lab logs -f 3fa9').example('git lab logs 3fa9 --grep "val_loss" --tail 5')
    .action(act(() => import('./commands/logs.ts'), flat))
  cli.command('metrics <id>', 'Every metric series of an experiment with all its points (step, value, time)')
    .option('--json', 'JSON output').option('--csv', 'CSV output: series,step,value,time')
    .option('--series <name>', 'Only this series (repeatable)').option('--attempt <n>', 'Attempt (default: the latest)')
    .example('git lab metrics 3fa9 --csv > 3fa9.csv')
    .action(act(() => import('./commands/metrics.ts'), flat))
  cli.command('artifacts <id> [...paths]', "An experiment's artifacts: where each is (git or a host), or, given PATHs or -o, fetch them")
    .option('-o, --output <dir>', 'Write them under this folder at their paths (default: the current one)')
    .option('--attempt <n>', 'Attempt (default: the latest)').option('--force', 'Overwrite files that exist')
    .option('--json', 'JSON output')
    .example('git lab artifacts 3fa9').example('git lab artifacts 3fa9 -o results/3fa9')
    .example('git lab artifacts 3fa9 ckpt/model.pt plots/ --attempt 2 --force')
    .action(act(() => import('./commands/artifacts.ts'), flat))
  cli.command('compare <id> [...ids]', 'Params, code and summary metrics of experiments side by side, and which is best')
    .option('--metric <name>', 'Rank by this metric instead of the objective').option('--minimize', 'With --metric: lower is better')
    .option('--maximize', 'With --metric: higher is better').option('--json', 'JSON output')
    .example('git lab compare 3fa9 8b2d c01e').example('git lab compare 3fa9 8b2d --metric val_acc --maximize')
    .action(act(() => import('./commands/compare.ts'), flat))
  cli.command('retry <id>', 'Queue a finished experiment again as its next attempt').option('--json', 'JSON output')
    .action(act(() => import('./commands/retry.ts'), flat))

  cli.command('log', 'Experiments, newest first (→ marks the one whose code HEAD is at)')
    .option('--limit <n>', 'How many (0: all)', { default: 30 }).option('--idea <id>', 'Only this idea')
    .option('--status <status>', 'Only this status').option('--tag <tag>', 'Only this tag').option('--json', 'JSON output')
    .option('--where <expr>', 'Only where a param or final metric compares: lr<0.01, opt=adam (= != < <= > >=; repeatable: all hold)')
    .option('--columns <names>', 'Add columns of params or final metrics: lr,wd,loss')
    .example('git lab log --where "lr<=1e-3" --where "loss<0.3" --columns lr,wd,loss')
    .action(act(() => import('./commands/log.ts')))

  cli.command('show <id>', 'Everything known about one experiment').option('--json', 'JSON output')
    .action(act(() => import('./commands/show.ts'), flat))
  cli.command('diff <id>', 'The code change of an experiment against what it was based on').option('--stat', 'Summary only')
    .option('--json', 'JSON output: id, base, commit, patch (or stat)')
    .action(act(() => import('./commands/diff.ts'), flat))
  cli.command('checkout <id>', "Put the worktree at an experiment's code (detached HEAD)")
    .option('--force', 'Discard local changes to tracked files').option('--json', 'JSON output')
    .action(act(() => import('./commands/checkout.ts'), flat))
  cli.command('cancel <id>', 'Cancel a queued or running experiment').option('--reason <text>', 'Why')
    .option('--grace <duration>', 'A job running here with no worker: SIGKILL this long after SIGTERM (default 10s)').option('--json', 'JSON output')
    .action(act(() => import('./commands/cancel.ts'), flat))
  cli.command('tag <id> [...changes]', 'Add (+T) or remove (-T) tags of an experiment').option('--json', 'JSON output')
    .example('git lab tag 3fa9 +baseline -draft')
    .action(act(() => import('./commands/tag.ts'), flat))
  cli.command('note <id> <text>', 'Add a note to an experiment').option('--json', 'JSON output')
    .action(act(() => import('./commands/note.ts'), flat))

  cli.command('msg [verb] [...args]', 'Messages between the people and agents of the lab')
    .option('--to <who>', 'A writer id, agent, role, or all').option('--unread', 'Only unread messages to me')
    .option('--all', 'Every message, not only mine').option('--json', 'JSON output')
    .example('git lab msg send --to reviewer "run 3fa9 beats baseline, please check"')
    .action(verbAct(MSG, false))

  cli.command('status', 'Writer, remote, experiments by status, what is not pushed').option('--json', 'JSON output')
    .action(act(() => import('./commands/status.ts')))
  cli.command('sync [remote]', 'Fetch every lab record from the remote, push this clone\'s, refresh').option('--json', 'JSON output')
    .action(act(() => import('./commands/sync.ts'), flat))
  cli.command('fsck', 'Check every writer\'s log; report what was skipped and why')
    .option('--rebuild', 'Also rebuild the local index from the refs').option('--json', 'JSON output')
    .action(act(() => import('./commands/fsck.ts')))
  cli.command('ui', 'A local web viewer of the lab: experiments table, metric charts, idea DAG, live (Ctrl-C stops it)')
    .option('--port <n>', 'Port to listen on (default: any free one)').option('--host <addr>', 'Address to bind (default 127.0.0.1; elsewhere every request needs the token)')
    .option('--open', 'Open the page in the default browser').option('--no-token', 'No token for writes (loopback only)')
    .option('--export <dir>', 'Write a static snapshot of the pages and data to DIR (opens without a server)')
    .example('git lab ui --port 8080').example('git lab ui --export lab-site')
    .action(act(() => import('./commands/ui.ts')))
  cli.command('hook <name> [...args]', 'Run by the installed git hooks (internal)')
    .action(act(() => import('./commands/hook.ts'), flat))

  cli.command('help [command] [verb]', "A command's help, as 'git lab COMMAND -h' prints it ('git lab --help': the manual)")
    .action((...raw: unknown[]) => done(Promise.resolve(help(ctx, cli, raw.map(unshield)[0] as string | undefined))))
  return cli
}

function help(ctx: Ctx, cli: CAC, name: string | undefined): void {
  if (name === undefined) return ctx.io.out(overview(allDocs(cli, VERBS), VERSION))
  const c = cli.commands.find(x => x.isMatched(name))
  if (!c) throw new UsageError(`unknown command ${JSON.stringify(name)}: see 'git lab -h'`)
  ctx.io.out(commandHelp(commandDoc(c, VERBS)))
}

/** Runs one command. Everything it prints goes through terminalIO: text from other writers never reaches a terminal live. */
export async function main(argv: string[], raw: Omit<Ctx, 'io'> & { io: Streams }): Promise<number> {
  const ctx: Ctx = { ...raw, io: terminalIO(raw.io) }
  let pending: Promise<number | void> | null = null
  try {
    const cli = buildCli(ctx, p => { pending = p })
    const p = prepare(argv, cli, VERBS)
    if (p.version) { ctx.io.out(`git lab version ${VERSION}\n`); return 0 }
    if (p.help || !p.command) { help(ctx, cli, p.command?.name); return 0 }
    // cac parses the arguments once per command it knows (~2 ms for all of them): only the one prepare matched (help
    // looks the others up)
    if (p.command.name !== 'help') cli.commands = [p.command]
    cli.parse(['node', 'git-lab', ...p.argv], { run: false })
    await cli.runMatchedCommand()
    return (await pending) ?? 0
  } catch (e) {
    return report(e, ctx)
  }
}

function report(e: unknown, ctx: Ctx): number {
  if (e instanceof LabError) {
    ctx.io.err(`git lab: ${e.message}\n`)
    return e.exitCode
  }
  if (e instanceof Error && e.name === 'CACError') {
    ctx.io.err(`git lab: ${e.message.replace(/`/g, "'")} (see 'git lab -h')\n`)
    return 2
  }
  ctx.io.err(`git lab: internal error, please report: ${(e as Error)?.stack ?? String(e)}\n`)
  return 70
}
