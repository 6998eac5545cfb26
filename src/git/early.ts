// Git queries started before the CLI bundle is loaded. Every command begins with the same few short git processes
// (where the repository is, its config, the lab's refs), one after another behind ~10 ms of node loading the
// bundle. The launcher (src/cli/launch.ts) starts the ones a command line is sure to make at once, on the other core
// while node compiles; runGit then takes a finished answer instead of starting the same process again.
//
// An answer is only taken for the very same arguments, directory and environment, once, within EARLY_MS of the
// start, and only while this process has run no git command that may change the repository (any command not known
// to only read): then a listing of refs taken before, say, a fetch is never mistaken for one taken after it.
import { spawn } from 'node:child_process'

export interface EarlyAnswer { stdout: Buffer; stderr: string; code: number | null; error?: NodeJS.ErrnoException }

interface Early { cwd: string; env: NodeJS.ProcessEnv; started: number; runs: Map<string, Promise<EarlyAnswer>> }

/** An answer older than this is asked again: the work a command does first is done well within it. */
export const EARLY_MS = 2000
// (shared by the launcher and the bundle, which are two separate scripts in one process)
const KEY = Symbol.for('git-lab.early-git')
const slot = globalThis as unknown as Record<symbol, Early | undefined>

/** Git subcommands that never change the repository (config: only as the reads below). */
const READS = new Set(['rev-parse', 'for-each-ref', 'ls-files', 'ls-tree', 'diff-tree', 'diff', 'log', 'cat-file', 'merge-base',
  'rev-list', 'status', 'show', 'version', 'var', 'check-ref-format', 'check-ignore', 'show-ref', 'remote'])
const CONFIG_READS = new Set(['--get', '--get-all', '--get-regexp', '--list', '-l'])

/**
 * Starts each query in `cwd`, in `env` (the command's environment) or the one given with it (derived from `env`);
 * their answers wait in memory.
 */
export function startEarly(queries: Array<{ args: string[]; env?: NodeJS.ProcessEnv }>, cwd: string, env: NodeJS.ProcessEnv = process.env): void {
  const runs = new Map<string, Promise<EarlyAnswer>>()
  for (const q of queries) runs.set(JSON.stringify(q.args), run(q.args, cwd, q.env ?? env))
  slot[KEY] = { cwd, env, started: performance.now(), runs }
}

function run(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<EarlyAnswer> {
  return new Promise(resolve => {
    const out: Buffer[] = []
    let err = ''
    let child
    try {
      child = spawn('git', args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    } catch (e) {
      return resolve({ stdout: Buffer.alloc(0), stderr: '', code: null, error: e as NodeJS.ErrnoException })
    }
    child.on('error', e => resolve({ stdout: Buffer.alloc(0), stderr: '', code: null, error: e }))
    child.stdout?.on('data', (b: Buffer) => out.push(b))
    child.stderr?.on('data', (b: Buffer) => { err += b.toString('utf8') })
    child.on('close', code => resolve({ stdout: Buffer.concat(out), stderr: err, code }))
  })
}

/**
 * The early answer to `git args` in `cwd`, once; null when there is none to take. `baseEnv` is the environment the
 * caller derives its own from (the launcher derived the same for that query: see untrackedArgs' users).
 */
export function takeEarly(args: string[], cwd: string, baseEnv: NodeJS.ProcessEnv): Promise<EarlyAnswer> | null {
  const e = slot[KEY]
  if (!e || e.runs.size === 0) return null
  if (performance.now() - e.started > EARLY_MS) { dropEarly(); return null }
  if (cwd !== e.cwd || baseEnv !== e.env) return null
  const key = JSON.stringify(args)
  const answer = e.runs.get(key)
  if (answer) e.runs.delete(key)
  return answer ?? null
}

/** Forgets every answer not taken yet: the repository may have changed since they were asked. */
export function dropEarly(): void {
  const e = slot[KEY]
  if (e) e.runs.clear()
}

/** Called for every git command this process starts: one that may write makes the early answers stale. */
export function noteCommand(args: string[]): void {
  if (!slot[KEY]?.runs.size) return
  let i = 0
  while (args[i] === '-c') i += 2 // (`git -c key=value cmd ...`)
  const name = args[i]
  if (name === 'config' ? args.some(a => CONFIG_READS.has(a)) : READS.has(name)) return
  dropEarly()
}

/** The environment without settings that change how pathspecs read (their magic is spelled out where used). */
export function pathspecEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env }
  for (const k of ['GIT_LITERAL_PATHSPECS', 'GIT_GLOB_PATHSPECS', 'GIT_NOGLOB_PATHSPECS', 'GIT_ICASE_PATHSPECS']) delete out[k]
  return out
}
