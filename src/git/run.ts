// Spawns the system git for one command (long-lived ones: cat-file.ts, fast-import.ts; early ones: early.ts). A
// failure becomes one line that says what went wrong (git's own words, its boilerplate dropped), and a missing or too
// old git is named as such.
import { spawn } from 'node:child_process'
import { GitError } from '../errors.ts'
import { noteCommand, quote, takeEarly } from './early.ts'

/** The oldest git git lab runs on: `git fetch --no-write-fetch-head` came in 2.29 (the newest feature it uses). */
export const MIN_GIT = [2, 29] as const

export interface RunOptions {
  cwd: string
  env?: NodeJS.ProcessEnv
  input?: string | Buffer
  /** exit codes that are not errors (0 always is) */
  ok?: number[]
  /** the environment `env` was derived from (pathspecEnv): what an early answer was asked with (early.ts) */
  envFrom?: NodeJS.ProcessEnv
}

export interface RunResult { stdout: Buffer; stderr: string; code: number }

/**
 * Short-lived git processes running at once, at most: beyond, a spawn waits for one to end. Per-writer work (a long
 * descent check, a kept ref) in a lab of 1,000 writers would otherwise start hundreds at once and run out of file
 * descriptors (each process holds three pipes).
 */
const MAX_RUNNING = 16
let running = 0
const waiting: Array<() => void> = []

/** An ending process hands its slot straight to the next waiting one, so none can slip in between. */
function release(): void {
  const next = waiting.shift()
  if (next) next()
  else running--
}

export async function runGit(args: string[], opts: RunOptions): Promise<RunResult> {
  // (the launcher may have asked this very question already, while node loaded the bundle: src/git/early.ts)
  if (opts.input === undefined) {
    const early = await takeEarly(args, opts.cwd, opts.envFrom ?? opts.env ?? process.env)
    if (early) return { stdout: early, stderr: '', code: 0 }
  }
  noteCommand(args)
  if (running < MAX_RUNNING) running++
  else await new Promise<void>(r => waiting.push(r))
  try { return await spawnGit(args, opts) } finally { release() }
}

/**
 * Runs git commands one after another, each only if the one before succeeded, through one `sh`: a spawn blocks
 * node's main thread until the child has started (~1.5-2.5 ms), so a chain that node would start step by step costs
 * one. The input goes to the first; the result is the last one's output, or the first failure (its exit code and
 * words: `git add && write-tree failed: ...`).
 */
export async function runGitChain(steps: string[][], opts: RunOptions): Promise<RunResult> {
  for (const step of steps) noteCommand(step)
  const script = steps.map(step => `git ${step.map(quote).join(' ')}`).join(' && ')
  const name = steps.map(s => s[0]).join(' && ')
  if (running < MAX_RUNNING) running++
  else await new Promise<void>(r => waiting.push(r))
  try { return await spawnGit([name], opts, ['sh', ['-c', script]]) } finally { release() }
}

function spawnGit(args: string[], opts: RunOptions, command: [string, string[]] = ['git', args]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    // Without input, git reads /dev/null: no pipe to make and close (each costs the main thread a socket).
    const child = spawn(command[0], command[1], { cwd: opts.cwd, env: opts.env ?? process.env, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.on('error', e => reject(spawnError(e, args)))
    // A spawn that failed at once (EMFILE, EAGAIN) has no pipes: its 'error' event says why.
    if (!child.stdout || !child.stderr || (opts.input !== undefined && !child.stdin)) return
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.on('close', code => settle(args, opts, code, Buffer.concat(out), Buffer.concat(err).toString('utf8')).then(resolve, reject))
    if (!child.stdin) return
    child.stdin.on('error', () => { /* git may exit before reading all input; the exit code tells */ })
    child.stdin.end(opts.input)
  })
}

/** A finished git process as a result, or the error that says why it failed. */
async function settle(args: string[], opts: RunOptions, code: number | null, stdout: Buffer, stderr: string): Promise<RunResult> {
  const c = code ?? 128
  if (c !== 0 && !(opts.ok ?? []).includes(c)) {
    const failed = new GitError(`git ${args[0]} failed: ${summarize(stderr) ?? `exit code ${c}`}`, args, stderr, summarize(stderr) ?? undefined)
    // 129 is git's exit code for an option it does not know: the first sign of a git older than git lab needs.
    throw c === 129 ? (await gitTooOld(opts.env).catch(() => null)) ?? failed : failed
  }
  return { stdout, stderr, code: c }
}

/**
 * Starts a git command that outlives this process and is never waited for (housekeeping): its own process group,
 * no stdio, errors ignored. `sh` runs the fixed script with git's own arguments, so no value is ever spliced into it.
 */
export function startDetached(script: string, opts: RunOptions): void {
  try {
    const child = spawn('sh', ['-c', script], { cwd: opts.cwd, env: opts.env ?? process.env, stdio: 'ignore', detached: true })
    child.on('error', () => undefined)
    child.unref()
  } catch { /* housekeeping is best effort: EMFILE, EAGAIN ... */ }
}

export async function gitText(args: string[], opts: RunOptions): Promise<string> {
  return (await runGit(args, opts)).stdout.toString('utf8')
}

export function spawnError(e: NodeJS.ErrnoException, args: string[]): GitError {
  if (e.code === 'ENOENT') return new GitError(`git is not installed or not on PATH: git lab needs git ${MIN_GIT.join('.')} or newer`, args)
  return new GitError(`cannot run git: ${e.message}`, args)
}

// Lines git prints around the reason, never the reason itself.
const NOISE = [/^hint:/, /^Please make sure you have the correct access rights$/, /^and the repository exists\.$/, /^usage: /, /^ {3,}/]
const GENERIC = [/^fatal: Could not read from remote repository\.$/, /^error: failed to push some refs to /, /^fatal: the remote end hung up unexpectedly$/]
// Common failures, said in words that fit git lab's use of git (git's own line otherwise).
const PLAIN: Array<[RegExp, (m: RegExpMatchArray) => string]> = [
  [/^'(.+)' does not appear to be a git repository$/, m => `'${m[1]}' is neither a remote of this repository nor a git repository`],
  [/detected dubious ownership in repository at '(.+)'$/, m => `git refuses to work in ${m[1]}: it belongs to another user (if you trust it: git config --global --add safe.directory ${m[1]})`],
  [/^Unable to create '(.+\.lock)': File exists\.?$/, m => `another git process is using this repository (${m[1]} exists; if no git is running, remove it)`],
]

/** The one line of git's stderr that says why it failed, or null when it said nothing. */
export function summarize(stderr: string): string | null {
  const lines = stderr.split('\n').map(l => l.replace(/\s+$/, '')).filter(l => l.trim() && !NOISE.some(r => r.test(l)))
  if (!lines.length) return null
  const prefixed = (l: string) => /^(fatal|error): /.test(l)
  const specific = lines.filter(l => !GENERIC.some(r => r.test(l)))
  // A push refused per ref says why on its ` ! [rejected]` line, before the generic error.
  const rejected = specific.find(l => /^\s*!\s.*\[(remote )?rejected\]/.test(l))
  const line = (rejected ?? specific.find(prefixed) ?? specific[0] ?? lines.find(prefixed) ?? lines[lines.length - 1]).trim()
  const reason = line.replace(/^(fatal|error): /, '')
  for (const [re, say] of PLAIN) {
    const m = re.exec(reason)
    if (m) return say(m)
  }
  return reason
}

const versions = new Map<string, Promise<number[] | null>>()
/** `git version` as numbers, asked once per process (and PATH), only after git failed oddly (null: unreadable). */
export function gitVersion(env?: NodeJS.ProcessEnv): Promise<number[] | null> {
  const key = (env ?? process.env).PATH ?? ''
  const known = versions.get(key)
  if (known) return known
  const version = new Promise<number[] | null>(resolve => {
    const child = spawn('git', ['version'], { env: env ?? process.env, stdio: ['ignore', 'pipe', 'ignore'] })
    let out = ''
    child.stdout.on('data', (b: Buffer) => { out += b })
    child.on('error', () => resolve(null))
    child.on('close', () => {
      const m = /git version (\d+)\.(\d+)(?:\.(\d+))?/.exec(out)
      resolve(m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : null)
    })
  })
  versions.set(key, version)
  return version
}

/** The error to report when the installed git is older than MIN_GIT, else null. */
export async function gitTooOld(env?: NodeJS.ProcessEnv): Promise<GitError | null> {
  const v = await gitVersion(env)
  if (!v || v[0] > MIN_GIT[0] || (v[0] === MIN_GIT[0] && v[1] >= MIN_GIT[1])) return null
  return new GitError(`git ${v.join('.')} is too old: git lab needs git ${MIN_GIT.join('.')} or newer`, ['version'])
}
