// Test helpers: real repos and bare remotes in temp dirs, isolated from the user's git config, and the CLI.
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, symlinkSync, existsSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs'
import { execFileSync, spawn } from 'node:child_process'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { main } from '../src/cli/main.ts'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const BIN = path.join(ROOT, 'dist', 'git-lab.js')

interface Teardown { teardown(fn: () => void): void }

export function tempDir(t: Teardown, prefix = 'lab-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** An environment where git reads no user or system config, and `git lab` is the built CLI. */
export function labEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const bin = path.join(home, 'bin')
  if (!existsSync(bin)) {
    mkdirSync(bin, { recursive: true })
    symlinkSync(BIN, path.join(bin, 'git-lab'))
  }
  const env: NodeJS.ProcessEnv = {
    PATH: `${bin}:${process.env.PATH}`, HOME: home, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: path.join(home, '.gitconfig'),
    LANG: 'C', TZ: 'UTC', ...extra,
  }
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k]
  return env
}

export function git(cwd: string, args: string[], env: NodeJS.ProcessEnv, input?: string): string {
  return execFileSync('git', args, { cwd, env, input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] })
}

/**
 * Whether a live (not zombie) process has the marker in its command line and works in one of the given repositories
 * (its cwd is there: a job runs in its worktree under the repository's .git, and keeps that cwd through setsid,
 * `env -i` and daemonizing). The repositories matter: the test files run in parallel, and so may another checkout's
 * suite on the same machine, with the same markers. `name`: only processes of that name (comm), e.g. `sleep`, where
 * the job's supervisor has the whole run command in its arguments and may still be exiting.
 */
export function procAlive(marker: string, repos: TestRepo[], name?: string): boolean {
  const roots = repos.map(r => realpathSync(r.dir) + path.sep)
  return readdirSync('/proc').filter(p => /^\d+$/.test(p)).some(p => {
    try {
      if (readFileSync(`/proc/${p}/stat`, 'utf8').split(') ').at(-1)?.[0] === 'Z') return false
      if (name && readFileSync(`/proc/${p}/comm`, 'utf8').trim() !== name) return false
      if (!readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' ').includes(marker)) return false
      const cwd = readlinkSync(`/proc/${p}/cwd`).replace(/ \(deleted\)$/, '')
      return roots.some(root => (cwd + path.sep).startsWith(root))
    } catch { return false }
  })
}

export interface TestRepo { dir: string; env: NodeJS.ProcessEnv; home: string; git(...args: string[]): string }

/** A repo with one commit (files given, or a train.py), user name/email set locally. */
export function makeRepo(t: Teardown, opts: { files?: Record<string, string>; home?: string; name?: string; clone?: string; bare?: boolean } = {}): TestRepo {
  const home = opts.home ?? tempDir(t, 'lab-home-')
  const env = labEnv(home)
  const dir = tempDir(t, 'lab-repo-')
  if (opts.clone) git(home, ['clone', '-q', opts.clone, dir], env)
  else git(dir, ['init', '-q', ...(opts.bare ? ['--bare'] : []), '-b', 'main'], env)
  const repo: TestRepo = { dir, env, home, git: (...args) => git(dir, args, env) }
  if (opts.bare) return repo
  repo.git('config', 'user.name', opts.name ?? 'Ann')
  repo.git('config', 'user.email', `${(opts.name ?? 'ann').toLowerCase()}@example.com`)
  if (!opts.clone) {
    for (const [f, c] of Object.entries(opts.files ?? { 'train.py': 'print("loss", 1.0)\n' })) {
      mkdirSync(path.dirname(path.join(dir, f)), { recursive: true })
      writeFileSync(path.join(dir, f), c)
    }
    repo.git('add', '-A')
    repo.git('commit', '-q', '-m', 'initial')
  }
  return repo
}

/** A bare remote holding `main`, and a first repo with it as origin (whose push made it). */
export function remoteAndOrigin(t: Teardown, name?: string): { remote: TestRepo; origin: TestRepo } {
  const remote = makeRepo(t, { bare: true })
  const origin = makeRepo(t, { name })
  origin.git('remote', 'add', 'origin', remote.dir)
  origin.git('push', '-q', 'origin', 'main')
  return { remote, origin }
}

export interface CliResult { code: number; out: string; err: string }

/** Runs `git lab ARGS` in this process (fast; counts for coverage). */
export async function lab(repo: { dir: string; env: NodeJS.ProcessEnv }, args: string[], now?: () => Date): Promise<CliResult> {
  let out = ''
  let err = ''
  const code = await main(args, {
    cwd: repo.dir, env: repo.env, now: now ?? (() => new Date()),
    io: { out: s => { out += s }, err: s => { err += s }, isTTY: false },
  })
  return { code, out, err }
}

/** `git lab ARGS --json`, parsed; fails loudly if the command failed. */
export async function labJson<T = any>(repo: { dir: string; env: NodeJS.ProcessEnv }, args: string[]): Promise<T> {
  const r = await lab(repo, [...args, '--json'])
  if (r.code !== 0) throw new Error(`git lab ${args.join(' ')} failed (${r.code}): ${r.err}`)
  return JSON.parse(r.out) as T
}

/** Runs the built binary as a separate process, as a user or a hook would. */
export function labProcess(repo: { dir: string; env: NodeJS.ProcessEnv }, args: string[]): Promise<CliResult> {
  return new Promise(resolve => {
    const child = spawn(BIN, args, { cwd: repo.dir, env: repo.env })
    let out = ''
    let err = ''
    child.stdout.on('data', b => { out += b })
    child.stderr.on('data', b => { err += b })
    child.on('close', code => resolve({ code: code ?? -1, out, err }))
  })
}

export function write(repo: TestRepo, file: string, content: string): void {
  mkdirSync(path.dirname(path.join(repo.dir, file)), { recursive: true })
  writeFileSync(path.join(repo.dir, file), content)
}

/** Starts the built binary and returns at once: the child (to signal it) and its result. */
export function labStart(repo: { dir: string; env: NodeJS.ProcessEnv }, args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(BIN, args, { cwd: repo.dir, env: { ...repo.env, ...env } })
  let out = ''
  let err = ''
  child.stdout.on('data', b => { out += b })
  child.stderr.on('data', b => { err += b })
  const result = new Promise<CliResult>(resolve => child.on('close', code => resolve({ code: code ?? -1, out, err })))
  return { child, result, output: () => ({ out, err }) }
}

/** Polls until fn returns a truthy value (or throws after timeoutMs, naming what was awaited). */
export async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v) return v as NonNullable<T>
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise(r => setTimeout(r, 50))
  }
}
