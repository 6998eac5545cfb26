// What a command may touch: its streams, its directory, its environment, its clock. Tests pass their own.
import { safeText, safeOutput, safeRedraw } from './terminal.ts'

/** The raw streams a caller hands to main(): bin.ts the process's, tests their own. */
export interface Streams {
  out(text: string): void
  /** bytes as they are (large outputs skip a decode and re-encode); out() is used when absent */
  outBytes?(data: Buffer): void
  err(text: string): void
  isTTY: boolean
}

/** What commands write through: out and err show every control character escaped (records of other writers). */
export interface IO extends Streams {
  /** a job's own output or a diff, on stdout: colours kept, terminal control removed; `redraw`: a job's progress
   *  bar redraws in place when stdout is a terminal (never for a diff: a \r there must not hide code) */
  jobOut(text: string, o?: { redraw?: boolean }): void
  /** the same on stderr (`run --json`) */
  jobErr(text: string): void
}

export interface Ctx {
  cwd: string
  env: NodeJS.ProcessEnv
  now: () => Date
  io: IO
}

/**
 * The one wrap main() puts on the streams, so no command can print a record's control sequences live.
 * outBytes stays raw: only JSON built with safeJson goes through it.
 */
export function terminalIO(s: Streams): IO {
  return {
    out: text => s.out(safeText(text)),
    ...(s.outBytes ? { outBytes: (data: Buffer) => s.outBytes!(data) } : {}),
    err: text => s.err(safeText(text)),
    // On a terminal a progress bar redraws in place; piped or redirected, each of its states is a line.
    jobOut: (text, o) => s.out(o?.redraw && s.isTTY ? safeRedraw(text) : safeOutput(text)),
    jobErr: text => s.err(safeOutput(text)),
    isTTY: s.isTTY,
  }
}

export const json = (io: IO, value: unknown) => io.out(JSON.stringify(value, null, io.isTTY ? 2 : undefined) + '\n')
