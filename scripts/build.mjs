// Bundles the CLI into dist/ (one entry chunk plus lazily loaded command chunks): module loading stays fast.
import { build } from 'esbuild'
import { readFile, rm, chmod } from 'node:fs/promises'

const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'))
await rm(new URL('../dist', import.meta.url), { recursive: true, force: true })
await build({
  entryPoints: { 'git-lab': 'src/cli/bin.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.js' },
  chunkNames: 'chunks/[name]-[hash]',
  banner: { js: '#!/usr/bin/env -S NODE_EXTRA_CA_CERTS= node\nimport { createRequire as __labRequire } from "node:module"; const require = __labRequire(import.meta.url);' },
  define: { __VERSION__: JSON.stringify(pkg.version) },
  logLevel: 'warning',
})
await chmod(new URL('../dist/git-lab.js', import.meta.url), 0o755)
