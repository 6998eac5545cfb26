// git lab ui [--port N] [--host ADDR] [--open] [--no-token] | git lab ui --export DIR
import { spawn } from 'node:child_process'
import type { Ctx } from '../io.ts'
import { withLab, int, text, onInterrupt } from '../open.ts'
import { serve, isLoopback } from '../../ui/serve.ts'
import { exportSite } from '../../ui/export.ts'
import { UsageError } from '../../errors.ts'

export async function run(ctx: Ctx, _args: string[], o: Record<string, unknown>) {
  const port = int('port', o.port, 0)
  if (port !== undefined && port > 65535) throw new UsageError('--port must be from 0 to 65535')
  const host = text(o.host) ?? '127.0.0.1'
  if (!/^[A-Za-z0-9.:-]{1,255}$/.test(host)) throw new UsageError(`--host ${JSON.stringify(host)} is not an address`)
  const noToken = o.token === false
  if (noToken && !isLoopback(host)) throw new UsageError('--no-token is only allowed on a loopback address (127.0.0.1, localhost, ::1)')
  const dir = text(o.export)
  if (o.export === true || dir === '') throw new UsageError('--export needs a folder: git lab ui --export DIR')
  if (dir !== undefined) {
    const n = await withLab(ctx, lab => exportSite(lab, dir, ctx.cwd))
    ctx.io.out(`wrote ${n.files} files (${n.experiments} experiments) to ${n.dir}: open ${n.dir}/index.html\n`)
    return
  }
  await withLab(ctx, async lab => {
    lab.requireWriter()
    const s = await serve(lab, { port, host, token: !noToken, log: line => ctx.io.err(`git lab ui: ${line}\n`) }).catch(err => {
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new UsageError(`port ${port} is in use: give another with --port, or --port 0 for any free one`)
      if ((err as NodeJS.ErrnoException).code === 'EADDRNOTAVAIL') throw new UsageError(`--host ${host}: no such address on this machine`)
      throw err
    })
    ctx.io.out(`git lab ui: ${s.url}\n`)
    ctx.io.err(`serving the lab of ${lab.repo.topLevel ?? lab.repo.commonDir}; Ctrl-C stops it\n`)
    if (o.open) {
      const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open'
      const child = spawn(opener, [s.url], { stdio: 'ignore', detached: true })
      child.on('error', () => ctx.io.err(`git lab: could not start ${opener}: open the URL yourself\n`))
      child.unref()
    }
    await new Promise<void>(resolve => {
      const off = onInterrupt(() => { off(); resolve() })
    })
    await s.close()
  })
}
