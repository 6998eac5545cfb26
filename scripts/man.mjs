// Writes dist/man/man1/git-lab.1 from the command table (src/cli/man.ts: the declarations `git lab -h` prints).
// package.json "man" lists it, so `npm install -g` puts it where `man git-lab` (and so `git lab --help`) finds it.
import { build } from 'esbuild'
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'))
const tmp = await mkdtemp(path.join(tmpdir(), 'git-lab-man-'))
try {
  const outfile = path.join(tmp, 'man.mjs')
  // The command modules are only named by the table (lazy imports), never loaded: left out of this bundle.
  await build({
    entryPoints: [path.join(root, 'src/cli/man.ts')], outfile, bundle: true, format: 'esm', platform: 'node', target: 'node20',
    external: ['./commands/*'], define: { __VERSION__: JSON.stringify(pkg.version) }, logLevel: 'warning',
  })
  const { manual } = await import(pathToFileURL(outfile).href)
  await mkdir(path.join(root, 'dist/man/man1'), { recursive: true })
  await writeFile(path.join(root, 'dist/man/man1/git-lab.1'), manual())
} finally {
  await rm(tmp, { recursive: true, force: true })
}
