// Entry point of the bundled `git-lab` binary.
import { main } from './main.ts'
import { isTTY, write } from './out.ts'

const io = {
  out: (s: string) => write(1, s),
  outBytes: (b: Buffer) => write(1, b),
  err: (s: string) => write(2, s),
  isTTY: isTTY(1),
}
main(process.argv.slice(2), { cwd: process.cwd(), env: process.env, now: () => new Date(), io })
  .then(code => { process.exitCode = code })
