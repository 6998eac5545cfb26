// Hook installation for `git lab init`: our pre-push in git's hooks folder, or, when that folder is part of the
// work tree (core.hooksPath=.husky), the one line to add there by hand, since init never edits a project's files.
import { readFile, writeFile, rename, chmod, mkdir, access, realpath } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import type { Lab } from './lab.ts'
import { NotFoundError, StateError } from '../errors.ts'

export const HOOKS = ['pre-push']
const MARKER = 'git-lab hook'
const CALL = 'git lab hook pre-push'

/**
 * The line for a pre-push hook git lab does not own: it passes the hook's arguments and input on, and never fails
 * the push (also under `sh -e`, as husky runs hooks): without git-lab on PATH it does nothing.
 */
export const HOOK_LINE = `if command -v git-lab >/dev/null 2>&1; then ${CALL} "$@" || echo "git lab: lab records were not pushed; run 'git lab sync'" >&2; fi`

export interface HooksResult {
  hooks_dir: string
  /** hooks installed (empty when the hooks folder is in the work tree) */
  hooks: string[]
  /** hooks whose existing version was kept as <name>.lab-chained */
  chained: string[]
  /** when the hooks folder is in the work tree: the line to add to hook_file, which git lab left as it was */
  hook_line: string | null
  /** that hook, from the top of the work tree */
  hook_file: string | null
  /** whether hook_file already calls git lab */
  hook_line_present: boolean
}

/** The folder holding the hook templates, next to the bundle (dist/) or the sources (src/lab/). */
async function templatesDir(): Promise<string> {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 4; i++) {
    const cand = path.join(dir, 'hooks')
    if (await access(path.join(cand, 'pre-push')).then(() => true, () => false)) return cand
    dir = path.dirname(dir)
  }
  throw new NotFoundError('cannot find git-lab hook templates (hooks/ next to the installation)')
}

async function installHook(dir: string, name: string, template: string): Promise<'installed' | 'updated' | 'chained'> {
  const target = path.join(dir, name)
  const existing = await readFile(target, 'utf8').catch(() => null)
  let result: 'installed' | 'updated' | 'chained' = 'installed'
  if (existing !== null && existing.includes(MARKER)) result = 'updated'
  else if (existing !== null) {
    const chained = `${target}.lab-chained`
    if (await access(chained).then(() => true, () => false)) throw new StateError(`both ${target} and ${chained} exist: merge them by hand, then run init again`)
    await rename(target, chained)
    result = 'chained'
  }
  const tmp = `${target}.lab-tmp`
  await writeFile(tmp, template)
  await chmod(tmp, 0o755)
  await rename(tmp, target)
  return result
}

const real = (p: string) => realpath(p).catch(() => path.resolve(p))
const under = (root: string, p: string) => {
  const rel = path.relative(root, p)
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel))
}

/** The path from the top of the work tree if dir is in it (and not in the git dir, which holds no project file). */
async function inWorkTree(lab: Lab, dir: string): Promise<string | null> {
  const top = lab.repo.topLevel
  if (!top) return null
  const [d, t, g, c] = await Promise.all([real(dir), real(top), real(lab.repo.gitDir), real(lab.repo.commonDir)])
  if (!under(t, d) || under(g, d) || under(c, d)) return null
  return path.relative(t, d).split(path.sep).join('/')
}

export async function installHooks(lab: Lab): Promise<HooksResult> {
  const hooksDir = await lab.repo.hooksDir()
  const inTree = await inWorkTree(lab, hooksDir)
  if (inTree !== null) {
    // A hooks folder in the work tree belongs to the project (husky, a shared .githooks): no file there is touched.
    // husky 9 points core.hooksPath at its generated .husky/_, whose scripts run .husky/<hook>: the line goes there.
    const husky = path.basename(hooksDir) === '_' && await access(path.join(hooksDir, 'h')).then(() => true, () => false)
    const dir = husky ? path.posix.dirname(inTree) : inTree
    const file = dir && dir !== '.' ? `${dir}/pre-push` : 'pre-push'
    const present = (await readFile(path.join(husky ? path.dirname(hooksDir) : hooksDir, 'pre-push'), 'utf8').catch(() => '')).includes(CALL)
    return { hooks_dir: hooksDir, hooks: [], chained: [], hook_line: HOOK_LINE, hook_file: file, hook_line_present: present }
  }
  await mkdir(hooksDir, { recursive: true })
  const templates = await templatesDir()
  const chained: string[] = []
  for (const h of HOOKS) {
    if ((await installHook(hooksDir, h, await readFile(path.join(templates, h), 'utf8'))) === 'chained') chained.push(h)
  }
  return { hooks_dir: hooksDir, hooks: HOOKS, chained, hook_line: null, hook_file: null, hook_line_present: false }
}
