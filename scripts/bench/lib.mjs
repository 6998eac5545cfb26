// Shared helpers for the benchmarks: isolated git environments, timing, medians, on-the-fly bundles of src/.
// Every benchmark times git lab and the same work done by raw git in the same run, interleaved, and reports the
// ratio: the machine is noisy, the ratio much less so.
import { spawnSync, execFileSync } from 'node:child_process'
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, existsSync, statSync, readdirSync } from 'node:fs'
import { tmpdir, cpus } from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
// LAB_BENCH_BIN times another build (a copy of an older dist/, for a before/after comparison); it is used as it is.
export const BIN = process.env.LAB_BENCH_BIN ? path.resolve(process.env.LAB_BENCH_BIN) : path.join(ROOT, 'dist', 'git-lab.js')

/** Newest mtime under a folder (recursive), to tell whether dist/ is older than src/. */
function newest(dir) {
  let t = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs)
  }
  return t
}

/** Builds dist/ (scripts/build.mjs) when it is missing or older than src/, so the real CLI is what gets timed. */
export function ensureBuilt() {
  if (process.env.LAB_BENCH_BIN) return
  if (existsSync(BIN) && statSync(BIN).mtimeMs >= newest(path.join(ROOT, 'src'))) return
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' })
}

/** A temp folder removed when the process exits (also on Ctrl-C); kept when LAB_BENCH_KEEP=1 (to profile in it). */
export function workspace(prefix = 'lab-bench-') {
  const dir = mkdtempSync(path.join(tmpdir(), prefix))
  if (process.env.LAB_BENCH_KEEP === '1') { console.log(`workspace kept: ${dir}`); return dir }
  const clean = () => rmSync(dir, { recursive: true, force: true })
  process.on('exit', clean)
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { clean(); process.exit(130) })
  return dir
}

/**
 * An environment where git reads no user or system config and `git lab` is the built CLI (for the hooks).
 * NODE_EXTRA_CA_CERTS is emptied: it costs node ~40 ms per start on this machine, which would hide what git lab does
 * (version.mjs times both).
 */
export function labEnv(home) {
  const bin = path.join(home, 'bin')
  if (!existsSync(bin)) {
    mkdirSync(bin, { recursive: true })
    symlinkSync(BIN, path.join(bin, 'git-lab'))
  }
  return {
    PATH: `${bin}:${process.env.PATH}`, HOME: home, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: path.join(home, '.gitconfig'),
    LANG: 'C', TZ: 'UTC', NODE_EXTRA_CA_CERTS: '',
  }
}

/** Runs a command, fails loudly, returns stdout as text. */
export function run(cmd, args, { cwd, env, input } = {}) {
  const r = spawnSync(cmd, args, { cwd, env, input, maxBuffer: 1 << 30 })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`)
  return r.stdout.toString('utf8')
}

export const git = (cwd, env, ...args) => run('git', args, { cwd, env })
export const lab = (cwd, env, ...args) => run(BIN, args, { cwd, env })
export const sh = (cwd, env, script) => run('sh', ['-c', script], { cwd, env })

/** Wall time of one run in ms (output captured and discarded, exit code checked). */
export function timeRun(cmd, args, opts = {}) {
  const t0 = performance.now()
  run(cmd, args, opts)
  return performance.now() - t0
}

/** Wall time in ms of an async or sync function. */
export async function timeFn(fn) {
  const t0 = performance.now()
  await fn()
  return performance.now() - t0
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/**
 * Runs each case `n` times, interleaved (A B C A B C ...) so that noise hits every case alike, after `warmup`
 * untimed rounds. Each case is { name, fn } where fn returns its time in ms (or is timed as a whole).
 */
export async function interleave(cases, n, warmup = 1) {
  const times = Object.fromEntries(cases.map(c => [c.name, []]))
  for (let i = 0; i < warmup + n; i++) {
    for (const c of cases) {
      if (c.before) await c.before(i)
      const t = await c.fn(i)
      if (i >= warmup) times[c.name].push(t)
    }
  }
  return Object.fromEntries(cases.map(c => [c.name, summary(times[c.name])]))
}

export function summary(xs) {
  const s = [...xs].sort((a, b) => a - b)
  return { median: median(s), min: s[0], max: s[s.length - 1], n: s.length }
}

export const ms = x => x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(x < 10 ? 1 : 0)} ms`
export const ratio = (a, b) => `${(a / b).toFixed(2)}x`

/** Prints rows of [label, summary|ms, note] aligned. */
export function table(title, rows) {
  console.log(`\n${title}`)
  const cells = rows.map(([label, s, note = '']) => [label, typeof s === 'number' ? ms(s) : `${ms(s.median)}  (min ${ms(s.min)}, max ${ms(s.max)}, n=${s.n})`, note])
  const w0 = Math.max(...cells.map(c => c[0].length))
  const w1 = Math.max(...cells.map(c => c[1].length))
  for (const [a, b, c] of cells) console.log(`  ${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`)
}

/** Thousands separated by commas, whatever the locale: 1,000,000. */
export const int = x => Math.round(x).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',')

/** A value in its unit: 'ms' (printed as ms or s), 'x' (a ratio), or any other unit name printed after the number. */
export function fmt(value, unit = 'ms') {
  if (unit === 'ms') return ms(value)
  if (unit === 'x') return `${value.toFixed(2)}x`
  return `${Math.abs(value) >= 1000 || Number.isInteger(value) ? int(value) : value.toFixed(Math.abs(value) < 10 ? 2 : 1)} ${unit}`
}

/** A goal as written: 2x, not 2.00x. */
export const fmtGoal = (goal, unit = 'ms') => unit === 'x' ? `${goal}x` : fmt(goal, unit)

/** Prints the goal verdict line and returns it; `atLeast` for goals where more is better (a rate). */
export function verdict(what, value, goal, unit = 'ms', { atLeast = false } = {}) {
  const ok = atLeast ? value >= goal : value <= goal
  const line = `${ok ? 'OK  ' : 'MISS'} ${what}: ${fmt(value, unit)} (goal ${atLeast ? '>=' : '<='} ${fmtGoal(goal, unit)})`
  console.log(line)
  return { what, value, goal, unit, ok, ...(atLeast ? { atLeast } : {}) }
}

/** The machine-readable last line run-all.mjs collects. */
export function emit(name, result) {
  console.log(`BENCH-RESULT ${JSON.stringify({ name, ...result })}`)
}

/** An empty repository (or bare one) in `dir`, user name/email set locally. */
export function makeRepo(dir, env, { bare = false } = {}) {
  mkdirSync(dir, { recursive: true })
  git(dir, env, 'init', '-q', ...(bare ? ['--bare'] : []), '-b', 'main')
  if (!bare) {
    git(dir, env, 'config', 'user.name', 'Bench')
    git(dir, env, 'config', 'user.email', 'bench@example.com')
  }
  return dir
}

/**
 * Bundles TypeScript sources from src/ into one temp .mjs (esbuild's JS API) and imports it.
 * `exports` maps a module under src/ to the names to re-export, e.g. { 'lab/lab.ts': ['Lab'] }.
 */
export async function importSrc(exportsMap, outDir) {
  const { build } = await import('esbuild')
  const contents = Object.entries(exportsMap)
    .map(([mod, names]) => `export { ${names.join(', ')} } from ${JSON.stringify(path.join(ROOT, 'src', mod))}`).join('\n')
  const outfile = path.join(outDir, `src-bundle-${process.pid}-${Date.now()}.mjs`)
  await build({
    stdin: { contents, resolveDir: ROOT, loader: 'ts', sourcefile: 'bench-entry.ts' },
    outfile, bundle: true, format: 'esm', platform: 'node', target: 'node20', logLevel: 'warning',
    define: { __VERSION__: '"bench"' },
  })
  return import(pathToFileURL(outfile).href)
}

/** Runs fn only when this file is the script node was started with. */
export const isMain = url => process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(url)

export function header(title, extra = '') {
  console.log(`# ${title}`)
  console.log(`node ${process.version}, ${execFileSync('git', ['--version']).toString().trim()}, ${cpus().length} cores, ${new Date().toISOString().slice(0, 10)}${extra ? ', ' + extra : ''}`)
}
