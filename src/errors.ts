// Typed errors shared by every layer: users read `message`, tests assert on `code`.

export class LabError extends Error {
  code = 'LabError'
  exitCode = 1
  data: Record<string, unknown>
  constructor(message: string, data: Record<string, unknown> = {}) {
    super(message)
    this.data = data
  }
}

export class UsageError extends LabError { code = 'Usage'; exitCode = 2 }
export class NotFoundError extends LabError { code = 'NotFound' }
export class AmbiguousError extends LabError { code = 'Ambiguous' }
/** A value given by the user that is not valid (an option, a name, a text too long): a usage error, exit 2. */
export class InvalidError extends LabError { code = 'Invalid'; exitCode = 2 }
/** What is asked cannot be done with things as they are (an experiment without code, files in the way). */
export class StateError extends LabError { code = 'State' }
export class NotInitializedError extends LabError { code = 'NotInitialized' }
export class NotARepoError extends LabError { code = 'NotARepo' }
export class FormatError extends LabError { code = 'Format' }
export class ConflictError extends LabError { code = 'Conflict' }
/** Something of this attempt is alive here already (a run folder whose job runs): left as it is. */
export class BusyError extends LabError { code = 'Busy' }
export class GitError extends LabError {
  code = 'Git'
  /** git's reason in one line, without saying which git command failed (for callers that say what they were doing) */
  readonly reason: string
  constructor(message: string, public args: string[] = [], public stderr = '', reason?: string) {
    super(message, { args, stderr })
    this.reason = reason ?? message
  }
}

/** Why an operation failed: for git, its reason alone (callers say what they were doing, the message would repeat it). */
export const reasonOf = (e: unknown): string => e instanceof GitError ? e.reason : e instanceof Error ? e.message : String(e)
