// The test command: build, typecheck, run tap (coverage report shown), end with one plain "N passed, N failed" line.
// Counts are tests (each t.test in a file); a file that crashes outside any test counts as one failure.
import { spawn } from 'node:child_process'

const run = (cmd, args, onLine) => new Promise(resolve => {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  let rest = ''
  child.stdout.on('data', b => {
    process.stdout.write(b)
    if (!onLine) return
    const lines = (rest + b.toString()).split('\n')
    rest = lines.pop()
    lines.forEach(onLine)
  })
  child.on('close', code => { if (rest && onLine) onLine(rest); resolve(code ?? 1) })
})

let passed = 0, failed = 0, skipped = 0, fileFailedInside = false
const finish = code => {
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
  process.exit(code !== 0 || failed > 0 ? 1 : 0)
}

for (const [cmd, args, what] of [['node', ['scripts/build.mjs'], 'build'], ['npx', ['tsc', '--noEmit'], 'typecheck']]) {
  const code = await run(cmd, args)
  if (code !== 0) { console.error(`${what} failed`); failed++; finish(code) }
}
const code = await run('npx', ['tap', '-R', 'tap', ...process.argv.slice(2)], line => {
  let m = /^ {4}(not )?ok \d+ - .*?(# SKIP.*)?$/.exec(line)
  if (m) {
    if (m[2]) skipped++
    else if (m[1]) { failed++; fileFailedInside = true }
    else passed++
    return
  }
  m = /^(not )?ok \d+ - /.exec(line)
  if (m) {
    if (m[1] && !fileFailedInside) failed++
    fileFailedInside = false
  }
})
finish(code)
