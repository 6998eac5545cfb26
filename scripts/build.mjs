// Bundles the CLI into one CommonJS file, dist/git-lab.js: node starts it ~15 ms sooner than an ES module entry with
// lazily loaded chunks (docs/performance.md). Command modules stay lazy: bundled, but only evaluated when called.
import { build } from 'esbuild'
import { readFile, rm, chmod, writeFile } from 'node:fs/promises'

const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'))
await rm(new URL('../dist', import.meta.url), { recursive: true, force: true })
await build({
  entryPoints: ['src/cli/bin.ts'],
  outfile: 'dist/git-lab.js',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // The launcher changes nothing in the environment: not the tool's, not its jobs' (NODE_EXTRA_CA_CERTS included).
  // ("use strict" first: a directive below a statement would not count, and src/ is strict code.)
  banner: { js: '#!/usr/bin/env node\n"use strict";\nconst __labModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
  // src/ is written as ES modules: where a module finds itself (src/lab/hooks.ts finds hooks/ from it)
  define: { __VERSION__: JSON.stringify(pkg.version), 'import.meta.url': '__labModuleUrl' },
  logLevel: 'warning',
})
// package.json says "type": "module"; dist/ holds CommonJS
await writeFile(new URL('../dist/package.json', import.meta.url), '{ "type": "commonjs" }\n')
await chmod(new URL('../dist/git-lab.js', import.meta.url), 0o755)
await import('./man.mjs') // dist/man/man1/git-lab.1, from the same command table
