// Hook installation for `git lab init`: our hooks in git's hooks folder (chaining the ones there), or, when that folder
// is part of the work tree (core.hooksPath=.husky), one line per hook to add there by hand, since init never edits a
// project's files; those lines call copies of our hooks that init keeps in .git/lab/hooks/.
import { readFile, writeFile, rename, chmod, mkdir, access, realpath } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import type { Lab } from './lab.ts'
import { NotFoundError, StateError } from '../errors.ts'

/** Every hook git lab installs, in the order init lists them. */
export const HOOKS = ['pre-push', 'post-commit', 'prepare-commit-msg', 'commit-msg', 'post-checkout', 'post-merge', 'post-rewrite']
const MARKER = 'git-lab hook'
const CALL = 'git lab hook pre-push'

/**
 * The line for a pre-push hook git lab does not own: it passes the hook's arguments and input on, and never fails
 * the push (also under `sh -e`, as husky runs hooks): without git-lab on PATH it does nothing.
 */
export const HOOK_LINE = `if command -v git-lab >/dev/null 2>&1; then ${CALL} "$@" || echo "git lab: lab records were not pushed; run 'git lab sync'" >&2; fi`

/**
 * The line for any other hook git lab does not own: it runs the copy of our hook in .git/lab/hooks/ (so the quick
 * checks in sh come first), passing arguments and input on. In a clone without that copy (no `git lab init`) it does
 * nothing, and it never fails the git command, also under `sh -e` (our hooks exit 0 when nothing of theirs is chained).
 */
export const hookLine = (name: string) => name === 'pre-push' ? HOOK_LINE
  : `if lab_hook="$(git rev-parse --git-common-dir 2>/dev/null)/lab/hooks/${name}" && [ -x "$lab_hook" ]; then "$lab_hook" "$@"; fi`

/** Whether a hook file we do not own already calls git lab's hook `name`. */
const calls = (text: string, name: string) => text.includes(`git lab hook ${name}`) || text.includes(`/lab/hooks/${name}"`)

export interface HookLine {
  hook: string
  /** the hook file it goes in, from the top of the work tree */
  file: string
  line: string
  /** whether that file already calls git lab's hook */
  present: boolean
}

export interface HooksResult {
  hooks_dir: string
  /** hooks installed (empty when the hooks folder is in the work tree) */
  hooks: string[]
  /** hooks whose existing version was kept as <name>.lab-chained */
  chained: string[]
  /** hooks switched off with `git config lab.hook.<name> false` (installed all the same) */
  hooks_off: string[]
  /** when the hooks folder is in the work tree: for each hook, the line to add to its file, which git lab left as it was */
  hook_lines: HookLine[]
  /** hook_lines' pre-push line, file and presence (the fields of versions that installed only pre-push) */
  hook_line: string | null
  hook_file: string | null
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

const exists = (p: string) => access(p).then(() => true, () => false)

/** What installing `name` in dir would do to a hook there: null if nothing is in the way. */
async function existing(dir: string, name: string): Promise<'ours' | 'foreign' | null> {
  const text = await readFile(path.join(dir, name), 'utf8').catch(() => null)
  return text === null ? null : text.includes(MARKER) ? 'ours' : 'foreign'
}

async function writeHook(target: string, template: string): Promise<void> {
  const tmp = `${target}.lab-tmp`
  await writeFile(tmp, template)
  await chmod(tmp, 0o755)
  await rename(tmp, target)
}

/** Installs every hook in dir, a foreign one moved to <name>.lab-chained first; returns the chained ones. */
async function installAll(dir: string, templates: Map<string, string>): Promise<string[]> {
  await mkdir(dir, { recursive: true })
  const found = await Promise.all(HOOKS.map(h => existing(dir, h)))
  // Checked for every hook before any is touched: a refusal leaves the folder as it was.
  for (const [i, h] of HOOKS.entries()) {
    const target = path.join(dir, h)
    if (found[i] === 'foreign' && await exists(`${target}.lab-chained`)) {
      throw new StateError(`both ${target} and ${target}.lab-chained exist: merge them by hand, then run init again`)
    }
  }
  const chained: string[] = []
  for (const [i, h] of HOOKS.entries()) {
    const target = path.join(dir, h)
    if (found[i] === 'foreign') {
      await rename(target, `${target}.lab-chained`)
      chained.push(h)
    }
    await writeHook(target, templates.get(h)!)
  }
  return chained
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

const isOff = (v: string | null) => v !== null && /^(false|no|off|0|)$/i.test(v.trim())

/** Whether `git config lab.hook.<name>` leaves the hook on (git's false, no, off, 0 or empty turn it off). */
export const hookOn = (lab: Lab, name: string) => !isOff(lab.get(`lab.hook.${name}`))

export async function installHooks(lab: Lab): Promise<HooksResult> {
  const hooksDir = await lab.repo.hooksDir()
  const templatesAt = await templatesDir()
  const templates = new Map(await Promise.all(HOOKS.map(async h => [h, await readFile(path.join(templatesAt, h), 'utf8')] as const)))
  const hooksOff = HOOKS.filter(h => !hookOn(lab, h))
  const inTree = await inWorkTree(lab, hooksDir)
  if (inTree !== null) {
    // A hooks folder in the work tree belongs to the project (husky, a shared .githooks): no file there is touched.
    // husky 9 points core.hooksPath at its generated .husky/_, whose scripts run .husky/<hook>: the lines go there.
    const husky = path.basename(hooksDir) === '_' && await exists(path.join(hooksDir, 'h'))
    const dir = husky ? path.posix.dirname(inTree) : inTree
    const userDir = husky ? path.dirname(hooksDir) : hooksDir
    // The lines call copies in the git dir, this clone's own: kept up to date by init, like hooks installed there.
    await installAll(path.join(lab.repo.commonDir, 'lab', 'hooks'), templates)
    const lines = await Promise.all(HOOKS.map(async (hook): Promise<HookLine> => ({
      hook,
      file: dir && dir !== '.' ? `${dir}/${hook}` : hook,
      line: hookLine(hook),
      present: calls(await readFile(path.join(userDir, hook), 'utf8').catch(() => ''), hook),
    })))
    const push = lines[0]
    return {
      hooks_dir: hooksDir, hooks: [], chained: [], hooks_off: hooksOff, hook_lines: lines,
      hook_line: push.line, hook_file: push.file, hook_line_present: push.present,
    }
  }
  const chained = await installAll(hooksDir, templates)
  return { hooks_dir: hooksDir, hooks: HOOKS, chained, hooks_off: hooksOff, hook_lines: [], hook_line: null, hook_file: null, hook_line_present: false }
}
