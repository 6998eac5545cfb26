// Bundles the CLI into one CommonJS file, dist/git-lab-cli.js: node starts it ~15 ms sooner than an ES module entry
// with lazily loaded chunks (docs/performance.md). Command modules stay lazy: bundled, but only evaluated when called.
// The binary, dist/git-lab.js, is a small launcher in front of it: `--version` never parses the bundle, and the
// bundle is compiled from V8's code cache once one run has written it.
import { build } from 'esbuild'
import { readFile, rm, chmod, writeFile } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'

const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'))
await rm(new URL('../dist', import.meta.url), { recursive: true, force: true })
// The build id names the launcher's code cache (src/cli/launch.ts): a cache is only ever read by the build that made it.
const define = { __VERSION__: JSON.stringify(pkg.version), __BUILD_ID__: JSON.stringify(randomBytes(6).toString('hex')) }
await build({
  entryPoints: ['src/cli/launch.ts'],
  outfile: 'dist/git-lab.js',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['./git-lab-cli.js'],
  // The launcher changes nothing in the environment: not the tool's, not its jobs' (NODE_EXTRA_CA_CERTS included).
  banner: { js: '#!/usr/bin/env node' },
  define,
  logLevel: 'warning',
})
await build({
  entryPoints: ['src/cli/bin.ts'],
  outfile: 'dist/git-lab-cli.js',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // ssh2's optional native bindings (its crypto, cpu-features) are not bundled: ssh2 requires them in a try and uses
  // its pure-JS code without them (their install scripts are not allowed in package.json: nothing is compiled).
  // ssh2 and the viewer's server (hono) are not bundled either: required from node_modules (dependencies in
  // package.json) by the modules that use them, when a command first evaluates one. Bundled, they made this file
  // 1.36 MB instead of 0.37 and every command ~5 ms slower to start.
  external: ['*.node', 'ssh2', 'hono', 'hono/*', '@hono/node-server'],
  // ("use strict" first: a directive below a statement would not count, and src/ is strict code.)
  banner: { js: '"use strict";\nconst __labModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
  // src/ is written as ES modules: where a module finds itself (src/lab/hooks.ts finds hooks/ from it)
  define: { ...define, 'import.meta.url': '__labModuleUrl' },
  logLevel: 'warning',
})
// package.json says "type": "module"; dist/ holds CommonJS
await writeFile(new URL('../dist/package.json', import.meta.url), '{ "type": "commonjs" }\n')
await chmod(new URL('../dist/git-lab.js', import.meta.url), 0o755)
await import('./man.mjs') // dist/man/man1/git-lab.1, from the same command table
// The `git lab ui` client: ui/ bundled with Preact, uPlot and Cytoscape (code and CSS) into dist/ui, minified.
// Everything it loads comes from the package: it works with no network at all.
await build({
  entryPoints: { app: 'ui/main.tsx' },
  outdir: 'dist/ui',
  bundle: true,
  minify: true,
  format: 'iife',
  platform: 'browser',
  target: ['chrome110', 'firefox110', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  // (src/ui's pure table and downsampling modules are shared with the static export's client)
  define: { 'process.env.NODE_ENV': '"production"' },
  legalComments: 'linked',
  logLevel: 'warning',
})
await writeFile(new URL('../dist/ui/index.html', import.meta.url), await readFile(new URL('../ui/index.html', import.meta.url)))
