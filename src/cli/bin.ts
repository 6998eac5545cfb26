// Entry point of the bundled `git-lab` binary.
import { main } from './main.ts'

const io = {
  out: (s: string) => { process.stdout.write(s) },
  outBytes: (b: Buffer) => { process.stdout.write(b) },
  err: (s: string) => { process.stderr.write(s) },
  isTTY: !!process.stdout.isTTY,
}
process.stdout.on('error', e => { if ((e as NodeJS.ErrnoException).code === 'EPIPE') process.exit(0) })
main(process.argv.slice(2), { cwd: process.cwd(), env: process.env, now: () => new Date(), io })
  .then(code => { process.exitCode = code })
