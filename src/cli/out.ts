// The CLI's stdout and stderr, written to their file descriptors at once. process.stdout and process.stderr would
// first load node's streams (~3 ms of every command's start, measured: a one-line script that prints takes 3 ms
// longer than one that does not). A write that would block (a pipe left non-blocking by whoever made it, and full)
// hands that descriptor over to node's stream for the rest, in order; a reader that went away ends the command
// quietly, as `git log | head` does.
import { writeSync } from 'node:fs'
import { isatty } from 'node:tty'

type Fd = 1 | 2
const streamed = new Set<Fd>()

function stream(fd: Fd): NodeJS.WriteStream {
  const s = fd === 1 ? process.stdout : process.stderr
  if (!streamed.has(fd)) {
    streamed.add(fd)
    s.on('error', e => { if ((e as NodeJS.ErrnoException).code === 'EPIPE' && fd === 1) process.exit(0) })
  }
  return s
}

export function write(fd: Fd, data: string | Buffer): void {
  if (streamed.has(fd)) { stream(fd).write(data); return }
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data
  let at = 0
  try {
    while (at < buf.length) at += writeSync(fd, buf, at, buf.length - at)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'EAGAIN') stream(fd).write(buf.subarray(at))
    else if (code === 'EPIPE' && fd === 1) process.exit(0)
    else if (code !== 'EPIPE' && code !== 'EBADF') throw e // (stderr gone: nothing to say it on)
  }
}

export const isTTY = (fd: Fd): boolean => isatty(fd)
