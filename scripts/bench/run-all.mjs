// Runs every benchmark, one child process each (so one's heap and temp repos never weigh on the next), then prints
// a summary of the goals. Builds dist/ first if it is missing or older than src/.
//
//   node scripts/bench/run-all.mjs [version] [submit] [log] [sync] [worker] [ingest] [hooks] [writers] [concurrent] [scale] [index-size] [ui] [ssh]    (default: all, in order)
import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureBuilt, fmt, fmtGoal, ms } from './lib.mjs'

const ALL = ['version', 'submit', 'log', 'sync', 'worker', 'ingest', 'hooks', 'writers', 'concurrent', 'scale', 'index-size', 'ui', 'ssh']
const names = process.argv.slice(2).length ? process.argv.slice(2) : ALL
for (const n of names) if (!ALL.includes(n)) { console.error(`unknown benchmark ${JSON.stringify(n)}: ${ALL.join(', ')}`); process.exit(2) }

ensureBuilt()
const dir = path.dirname(fileURLToPath(import.meta.url))
const results = []
let failed = 0
for (const name of names) {
  const t0 = performance.now()
  const code = await new Promise(resolve => {
    const child = spawn(process.execPath, [path.join(dir, `${name}.mjs`)], { stdio: ['ignore', 'pipe', 'inherit'] })
    let rest = ''
    child.stdout.on('data', b => {
      const lines = (rest + b.toString()).split('\n')
      rest = lines.pop()
      for (const l of lines) {
        if (l.startsWith('BENCH-RESULT ')) results.push(JSON.parse(l.slice('BENCH-RESULT '.length)))
        else console.log(l)
      }
    })
    child.on('close', c => { if (rest) console.log(rest); resolve(c ?? 1) })
  })
  console.log(`(${name}.mjs took ${ms(performance.now() - t0)})\n`)
  if (code !== 0) { failed++; console.error(`${name}.mjs failed with exit code ${code}`) }
}

console.log('# summary')
for (const r of results) {
  for (const g of r.goals) {
    console.log(`  ${g.ok ? 'OK  ' : 'MISS'} ${r.name}: ${g.what}: ${fmt(g.value, g.unit)} (goal ${g.atLeast ? '>=' : '<='} ${fmtGoal(g.goal, g.unit)})`)
  }
  if (r.name === 'sync') console.log(`  info sync: A + B ${ms(r.times.lab.median)} vs raw git push + fetch ${ms(r.times.raw.median)} (${(r.times.lab.median / r.times.raw.median).toFixed(2)}x, no goal set)`)
}
process.exit(failed ? 1 : 0)
