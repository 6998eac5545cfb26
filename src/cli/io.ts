// What a command may touch: its streams, its directory, its environment, its clock. Tests pass their own.
export interface IO {
  out(text: string): void
  /** bytes as they are (large outputs skip a decode and re-encode); out() is used when absent */
  outBytes?(data: Buffer): void
  err(text: string): void
  isTTY: boolean
}

export interface Ctx {
  cwd: string
  env: NodeJS.ProcessEnv
  now: () => Date
  io: IO
}

export const json = (io: IO, value: unknown) => io.out(JSON.stringify(value, null, io.isTTY ? 2 : undefined) + '\n')
