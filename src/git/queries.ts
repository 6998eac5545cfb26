// The git queries commands start with, built in one place: the launcher starts them early (src/git/early.ts) with
// exactly the arguments the code that reads them uses, so an early answer is taken only for the same question.

/** Where the repository is: git dir, common dir, bare or not, object format, top level (fails in a bare one). */
export const REPO_ARGS = ['rev-parse', '--absolute-git-dir', '--git-common-dir', '--is-bare-repository', '--show-object-format']
export const repoArgs = (withTop: boolean) => withTop ? [...REPO_ARGS, '--show-toplevel'] : REPO_ARGS

/** Config entries whose key matches the regexp, NUL-separated. */
export const configArgs = (regexp: string) => ['config', '-z', '--get-regexp', regexp]

/** Refs under the patterns, `sha ref` a line (the same from any directory of the repository). */
export const refsArgs = (patterns: string[]) => ['for-each-ref', '--format=%(objectname) %(refname)', ...patterns]

/**
 * Untracked, not ignored files matching git glob pathspecs from the top level, listed from the top level whatever
 * the current directory: run it with pathspecEnv (pathspec settings in the environment would change the magic).
 */
export const untrackedArgs = (globs: string[]) => ['ls-files', '-z', '-o', '--exclude-standard', '--full-name', '--', ...globs.map(g => `:(top,glob)${g}`)]

/** HEAD's commit and tree, a line each (fails on an unborn branch). */
export const HEAD_ARGS = ['rev-parse', 'HEAD^{commit}', 'HEAD^{tree}']
