// Opens the port for `git lab ui`: the lab stays open, the watcher refreshes it, the app answers.
import { createAdaptorServer } from '@hono/node-server'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { AddressInfo } from 'node:net'
import type { Lab } from '../lab/lab.ts'
import { LabView } from './model.ts'
import { watchLab } from './watch.ts'
import { createApp } from './app.ts'

export interface ServeOptions { port?: number; host?: string; token?: boolean; staticDir?: string | null; log?: (line: string) => void }
export interface Served { url: string; port: number; view: LabView; close(): Promise<void> }

/** dist/ui beside the bundle (dist/git-lab-cli.js), or, running from src/, the repository's dist/ui. */
export function clientDir(): string | null {
  const here = path.dirname(fileURLToPath(import.meta.url))
  for (const d of [path.join(here, 'ui'), path.join(here, '..', '..', 'dist', 'ui')]) if (existsSync(path.join(d, 'index.html'))) return d
  return null
}

export const isLoopback = (host: string) => host === '127.0.0.1' || host === 'localhost' || host === '::1'

export async function serve(lab: Lab, o: ServeOptions = {}): Promise<Served> {
  const host = o.host ?? '127.0.0.1'
  const token = o.token === false ? null : randomBytes(24).toString('base64url')
  const view = await LabView.open(lab)
  // A refresh that failed (a record being written as it was read): said once, the next change tries again.
  view.on('error', (err: Error) => o.log?.(`refresh failed: ${err.message}`))
  const watcher = watchLab(view)
  let port = o.port ?? 0
  const app = createApp(view, { token, port: () => port, host, staticDir: o.staticDir === undefined ? clientDir() : o.staticDir })
  const server = createAdaptorServer({ fetch: app.fetch })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => { server.off('error', reject); resolve() })
  })
  port = (server.address() as AddressInfo).port
  const shown = host.includes(':') ? `[${host}]` : host
  const url = `http://${shown}:${port}/${token ? `?token=${token}` : ''}`
  return {
    url, port, view,
    close: () => new Promise<void>(resolve => {
      watcher.close()
      // SSE streams stay open until their clients go: end them with the server.
      ;(server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.()
      server.close(() => resolve())
    }),
  }
}
