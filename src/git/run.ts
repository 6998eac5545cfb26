// Spawns the system git: the only place in git lab that starts a git process.
import { spawn } from 'node:child_process'
import { GitError } from '../errors.ts'

export interface RunOptions {
  cwd: string
  env?: NodeJS.ProcessEnv
  input?: string | Buffer
  /** exit codes that are not errors (0 always is) */
  ok?: number[]
}

export interface RunResult { stdout: Buffer; stderr: string; code: number }

export function runGit(args: string[], opts: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.on('error', e => reject(new GitError(`cannot run git: ${e.message}`, args)))
    child.on('close', code => {
      const stderr = Buffer.concat(err).toString('utf8')
      const c = code ?? 128
      if (c !== 0 && !(opts.ok ?? []).includes(c)) {
        const line = stderr.trim().split('\n').filter(Boolean).pop() ?? `exit code ${c}`
        reject(new GitError(`git ${args[0]} failed: ${line.replace(/^(fatal|error): /, '')}`, args, stderr))
        return
      }
      resolve({ stdout: Buffer.concat(out), stderr, code: c })
    })
    child.stdin.on('error', () => { /* git may exit before reading all input; the exit code tells */ })
    child.stdin.end(opts.input ?? '')
  })
}

export async function gitText(args: string[], opts: RunOptions): Promise<string> {
  return (await runGit(args, opts)).stdout.toString('utf8')
}
