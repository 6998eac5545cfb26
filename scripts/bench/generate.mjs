// Makes a lab of many experiments quickly: opens the Lab from src/ (bundled on the fly) in-process and appends
// `experiment.queue` operations in batches (one writer commit per batch), round-robin over several writers.
//
//   node scripts/bench/generate.mjs DIR [--count 10000] [--writers 4] [--batch 250]
//
// DIR is created (git repo with one commit, `git lab init`) if it is not a lab yet; the current environment's git
// config applies. The benchmarks import generate() with their own isolated environment.
import { randomBytes } from 'node:crypto'
import { existsSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { BIN, ensureBuilt, git, importSrc, isMain, lab as labCli, makeRepo, workspace } from './lib.mjs'

let srcPromise = null
/** The Lab class from src/, bundled once per process. */
export function loadSrc(tmp) {
  srcPromise ??= importSrc({ 'lab/lab.ts': ['Lab'] }, tmp)
  return srcPromise
}

const WORDS = ['lr', 'warmup', 'dropout', 'width', 'depth', 'batch', 'wd', 'seed', 'ema', 'clip', 'adamw', 'lion', 'cosine', 'rope', 'gelu']

/** One experiment.queue draft, shaped like `git lab submit` writes it (see src/store/ops/experiment-queue.ts); with
 * `params`, as `--param lr=... --param wd=...` writes it. */
export function queueDraft(i, head, params = false) {
  const a = WORDS[i % WORDS.length]
  const b = WORDS[(i * 7 + 3) % WORDS.length]
  return {
    type: 'experiment.queue',
    entity: randomBytes(6).toString('hex'),
    payload: {
      message: `sweep ${i}: ${a} x ${b}, trying ${a}=${(i % 97) / 100} with ${b} ${i % 13}`,
      run: `python train.py --${a} ${(i % 97) / 100} --${b} ${i % 13} --steps 20000`,
      setup: i % 5 === 0 ? 'pip install -r requirements.txt' : null,
      commit: head, base: head, idea: null,
      priority: i % 10 === 0 ? 5 : 0,
      tags: i % 3 === 0 ? ['sweep', a] : ['sweep'],
      depends_on: [], gpus: i % 4, timeout: i % 2 ? 7200 : null,
      ...(params ? { params: { lr: `${1 + (i % 9)}e-${2 + (i % 3)}`, wd: String((i % 5) / 10), opt: i % 2 ? 'adamw' : 'lion' } } : {}),
    },
  }
}

/**
 * Appends `count` experiments to the lab in `cwd` (already `git lab init`-ed): `writers` writer ids (the clone's own
 * first, then random ones: each moves its own refs/lab/w/<id>), `batch` operations per writer commit.
 * `params`: each gets three params (lr, wd, opt). `ids`: write as these writer ids instead (moving existing logs).
 * Returns { writers (the ids that wrote), ms, commits }.
 */
export async function generate({ cwd, env, count, writers = 1, batch = 250, tmp, offset = 0, params = false, ids: given = null }) {
  const { Lab } = await loadSrc(tmp)
  const lab = await Lab.open({ cwd, env })
  try {
    const own = lab.requireWriter()
    const ids = given ?? [own, ...Array.from({ length: writers - 1 }, () => randomBytes(4).toString('hex'))]
    const head = await lab.repo.head()
    const t0 = performance.now()
    let commits = 0
    for (let i = 0, k = 0; i < count; i += batch, k++) {
      const w = ids[k % ids.length]
      lab.config.set('lab.writer', [w])
      const drafts = []
      for (let j = i; j < Math.min(count, i + batch); j++) drafts.push(queueDraft(offset + j, head, params))
      await lab.write(drafts, `bench: ${drafts.length} experiments`)
      commits++
    }
    lab.config.set('lab.writer', [own])
    return { writers: ids.slice(0, Math.min(ids.length, commits)), ms: performance.now() - t0, commits }
  } finally {
    lab.close()
  }
}

/** A fresh repo with one small commit and `git lab init` (no remote). */
export function makeLabRepo(dir, env) {
  makeRepo(dir, env)
  writeFileSync(path.join(dir, 'train.py'), 'print("loss", 1.0)\n')
  git(dir, env, 'add', '-A')
  git(dir, env, 'commit', '-q', '-m', 'initial')
  labCli(dir, env, 'init')
  return dir
}

if (isMain(import.meta.url)) {
  const args = process.argv.slice(2)
  const opt = (name, dflt) => { const i = args.indexOf(`--${name}`); return i >= 0 ? Number(args[i + 1]) : dflt }
  const dir = args[0] && !args[0].startsWith('--') ? path.resolve(args[0]) : null
  if (!dir) { console.error('usage: node scripts/bench/generate.mjs DIR [--count N] [--writers W] [--batch B]'); process.exit(2) }
  ensureBuilt()
  const env = process.env
  if (!existsSync(dir)) makeLabRepo(dir, env)
  else { try { git(dir, env, 'config', '--get', 'lab.writer') } catch { labCli(dir, env, 'init') } }
  const count = opt('count', 10000)
  const r = await generate({ cwd: dir, env, count, writers: opt('writers', 4), batch: opt('batch', 250), tmp: workspace('lab-gen-') })
  console.log(`${count} experiments by ${r.writers.length} writers in ${r.commits} commits: ${(r.ms / 1000).toFixed(2)} s (${dir}; read them with ${BIN} log)`)
}
