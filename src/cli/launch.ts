// The `git-lab` binary's first file: answers `--version` without the command table, else starts the git queries the
// command begins with and runs the CLI bundle from V8's code cache.
import { readFileSync, writeFileSync, writeSync, renameSync, accessSync, constants } from 'node:fs'
import { createRequire, Module } from 'node:module'
import path from 'node:path'
import { Script } from 'node:vm'

declare const __VERSION__: string
declare const __BUILD_ID__: string

const argv = process.argv.slice(2)
// Only the exact forms main.ts answers with nothing else to do: any other argument goes through the full parser.
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
  const line = `git lab version ${typeof __VERSION__ === 'string' ? __VERSION__ : '0.0.0-dev'}\n`
  // Written to fd 1 at once: process.stdout would first load node's streams (~3 ms, more than the rest of this file).
  try { writeSync(1, line) } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EAGAIN') process.stdout.write(line) // (a full non-blocking pipe)
  }
} else {
  // The git processes the command starts with run on another core while node loads the bundle (src/git/early.ts).
  // (required here, not imported: `--version` above must not load child_process)
  try {
    if (process.env.LAB_EARLY !== '0') (require('../lab/prefetch.ts') as typeof import('../lab/prefetch.ts')).prefetch(argv, process.cwd(), process.env)
  } catch { /* (no current directory, no git: the command says so itself) */ }
  runBundle(path.join(__dirname, 'git-lab-cli.js'))
}

/**
 * Runs the bundle as `require` would, but compiled with V8's cached code when there is some: compiling ~330 kB and
 * the functions a command uses costs ~10 ms per start (docs/performance.md). The cache is named after this build,
 * so a cache from another build is never offered; V8 itself rejects one from another node.
 */
function runBundle(file: string): void {
  const cacheFile = `${file}.${typeof __BUILD_ID__ === 'string' ? __BUILD_ID__ : 'dev'}.cache`
  let cached: Buffer | undefined
  try { cached = readFileSync(cacheFile) } catch { /* none yet */ }
  const wrapper = (Module as unknown as { wrap(s: string): string }).wrap(readFileSync(file, 'utf8'))
  const script = new Script(wrapper, { filename: file, cachedData: cached })
  const mod = new Module(file, module) as Module & { filename: string; paths: string[] }
  mod.filename = file
  mod.paths = (Module as unknown as { _nodeModulePaths(d: string): string[] })._nodeModulePaths(path.dirname(file))
  if (!cached || script.cachedDataRejected) process.once('beforeExit', () => saveCache(script, cacheFile))
  script.runInThisContext().call(mod.exports, mod.exports, createRequire(file), mod, file, path.dirname(file))
}

/** After a first run, so the cache holds the functions a command compiled too; a read-only install just has none. */
function saveCache(script: Script, cacheFile: string): void {
  try {
    accessSync(path.dirname(cacheFile), constants.W_OK)
    // Written aside and renamed: a process starting meanwhile reads a whole cache or none.
    const tmp = `${cacheFile}.${process.pid}`
    writeFileSync(tmp, script.createCachedData())
    renameSync(tmp, cacheFile)
  } catch { /* not writable, or dist/ rebuilt meanwhile: the next start compiles again */ }
}
