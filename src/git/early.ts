// Git queries started before the CLI bundle is loaded. Every command begins with the same few short git processes
// (where the repository is, its config, the lab's refs), one after another behind ~10 ms of node loading the
// bundle. The launcher (src/cli/launch.ts) starts the ones a command line is sure to make at once, on the other core
// while node compiles; runGit then takes a finished answer instead of starting the same process again.
//
// An answer is only taken for the very same arguments, directory and environment, once, within EARLY_MS of the
// start, and only while this process has run no git command that may change the repository (any command not known
// to only read): then a listing of refs taken before, say, a fetch is never mistaken for one taken after it.
import { spawn } from 'node:child_process'
import { closeSync, fstatSync, openSync, readSync, unlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

/** A query: git's arguments, and variables to remove from the environment for it. */
export interface EarlyQuery { args: string[]; unset?: string[] }

interface Early { cwd: string; env: NodeJS.ProcessEnv; started: number; runs: Map<string, Promise<Buffer | null>> }

/** An answer older than this is asked again: the work a command does first is done well within it. */
export const EARLY_MS = 2000
// (shared by the launcher and the bundle, which are two separate scripts in one process)
const KEY = Symbol.for('git-lab.early-git')
const slot = globalThis as unknown as Record<symbol, Early | undefined>

/** Git subcommands that never change the repository (config: only as the reads below). */
const READS = new Set(['rev-parse', 'for-each-ref', 'ls-files', 'ls-tree', 'diff-tree', 'diff', 'log', 'cat-file', 'merge-base',
  'rev-list', 'status', 'show', 'version', 'var', 'check-ref-format', 'check-ignore', 'show-ref', 'remote'])
const CONFIG_READS = new Set(['--get', '--get-all', '--get-regexp', '--list', '-l'])

/** One sh runs them all: a spawn blocks node's main thread ~1.5-2.5 ms until git has started; one instead of four. */
const MAX_QUERIES = 7 // (their outputs go to fds 3..9: sh reads one digit in a redirection)

/** A word for sh, quoted. */
export const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

/** A file no other process can open (made exclusively, unlinked at once), read back by its descriptor. */
function scratch(): number {
  const f = path.join(tmpdir(), `git-lab-early-${process.pid}-${Math.random().toString(36).slice(2)}`)
  const fd = openSync(f, 'wx+', 0o600)
  unlinkSync(f)
  return fd
}

function readAll(fd: number): Buffer {
  const b = Buffer.alloc(fstatSync(fd).size)
  let at = 0
  while (at < b.length) {
    const n = readSync(fd, b, at, b.length - at, at)
    if (n === 0) break
    at += n
  }
  return b.subarray(0, at)
}

/**
 * Starts the queries in `cwd` and `env` (the command's) through one `sh`, each git's output into a file of its own
 * (no pipe per query for node to stream); sh says on its one pipe which query ended with which exit code, as each
 * ends (so where the repository is, a few ms in, waits for no slower query). Only an answer of exit code 0 is
 * kept: a query that failed is asked again the usual way, which says why. Anything going wrong here just leaves no
 * answers.
 */
export function startEarly(queries: EarlyQuery[], cwd: string, env: NodeJS.ProcessEnv = process.env): void {
  if (queries.length === 0 || queries.length > MAX_QUERIES) return
  const outs: number[] = []
  try {
    for (const _ of queries) outs.push(scratch())
    // One after another, in the order given (what a command needs first, first): together they would take the core
    // node is loading the bundle on. Each says `i code` as it ends.
    const script = queries.map((q, i) => {
      const git = `git ${q.args.map(quote).join(' ')} >&${3 + i} 2>/dev/null`
      return `${q.unset?.length ? `(unset ${q.unset.join(' ')}; exec ${git})` : git}; echo "${i} $?"`
    }).join('\n') + '\n'
    const child = spawn('sh', ['-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'ignore', ...outs] })
    const resolvers: Array<(b: Buffer | null) => void> = []
    const answers = queries.map((_, i) => new Promise<Buffer | null>(resolve => { resolvers[i] = resolve }))
    const answer = (i: number, ok: boolean) => {
      const resolve = resolvers[i]
      if (!resolve) return
      delete resolvers[i]
      try { resolve(ok ? readAll(outs[i]) : null) } catch { resolve(null) } finally { closeSync(outs[i]) }
    }
    let rest = ''
    child.stdout?.on('data', (b: Buffer) => {
      const lines = (rest + b.toString('latin1')).split('\n')
      rest = lines.pop()!
      for (const line of lines) {
        const m = /^(\d) (\d+)$/.exec(line)
        if (m) answer(Number(m[1]), m[2] === '0')
      }
    })
    const end = () => queries.forEach((_, i) => answer(i, false)) // (those sh never reported)
    child.on('error', end)
    child.on('close', end)
    const runs = new Map<string, Promise<Buffer | null>>()
    queries.forEach((q, i) => runs.set(JSON.stringify(q.args), answers[i]))
    slot[KEY] = { cwd, env, started: performance.now(), runs }
  } catch {
    for (const fd of outs) closeSync(fd)
  }
}

/**
 * The early answer (git's output; it exited 0) to `git args` in `cwd`, once; null when there is none to take (then
 * ask git). `baseEnv` is the environment the caller derives its own from (as the launcher did for that query).
 */
export async function takeEarly(args: string[], cwd: string, baseEnv: NodeJS.ProcessEnv): Promise<Buffer | null> {
  const e = slot[KEY]
  if (!e || e.runs.size === 0) return null
  if (performance.now() - e.started > EARLY_MS) { dropEarly(); return null }
  if (cwd !== e.cwd || baseEnv !== e.env) return null
  const key = JSON.stringify(args)
  const answer = e.runs.get(key)
  if (!answer) return null
  e.runs.delete(key)
  return answer
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

/** Settings that change how pathspecs read (their magic is spelled out where used). */
export const PATHSPEC_VARS = ['GIT_LITERAL_PATHSPECS', 'GIT_GLOB_PATHSPECS', 'GIT_NOGLOB_PATHSPECS', 'GIT_ICASE_PATHSPECS']

/** The environment without PATHSPEC_VARS. */
export function pathspecEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env }
  for (const k of PATHSPEC_VARS) delete out[k]
  return out
}
