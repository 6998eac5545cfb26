// The `git lab ui` HTTP app: createApp(view) returns it; only serve.ts opens a port (tests call app.request).
// Security: the Host header must name this server (no DNS rebinding); a token, from the printed URL then an HttpOnly
// SameSite=Strict cookie, is required for every write and, bound to another address, for everything; no CORS.
import { Hono, type Context } from 'hono'
import { getCookie, setCookie } from 'hono/cookie'
import { streamSSE } from 'hono/streaming'
import { timingSafeEqual } from 'node:crypto'
import { LabError } from '../errors.ts'
import type { LabView } from './model.ts'
import { readRoutes } from './routes-read.ts'
import { writeRoutes } from './routes-write.ts'
import { staticFiles } from './static.ts'

export interface AppOptions {
  /** null: --no-token (only on a loopback address) */
  token: string | null
  /** the port the server listens on (known once it is bound) */
  port: () => number
  /** bound to an address other than loopback: the token is needed for reads too; that address is a valid Host */
  host?: string
  /** the built client (dist/ui); null: API only */
  staticDir?: string | null
}

export const COOKIE = 'git_lab_token'

const STATUS: Record<string, 400 | 404 | 409> = { NotFound: 404, Ambiguous: 400, Invalid: 400, Usage: 400, State: 409, Conflict: 409, Busy: 409 }

const LOOPBACK = ['127.0.0.1', 'localhost', '[::1]']

function sameToken(given: string | undefined, token: string): boolean {
  if (!given) return false
  const a = Buffer.from(given)
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}

export function createApp(view: LabView, o: AppOptions) {
  const app = new Hono()
  const open = o.host === undefined || LOOPBACK.includes(o.host)
  const hosts = () => new Set([...LOOPBACK, ...(o.host && !open ? [o.host.includes(':') ? `[${o.host}]` : o.host] : [])].map(h => `${h}:${o.port()}`))
  const tokenOf = (c: Context) => c.req.header('x-lab-token') ?? getCookie(c, COOKIE) ?? c.req.query('token')

  app.use('*', async (c, next) => {
    const host = (c.req.header('host') ?? '').toLowerCase()
    if (!hosts().has(host)) return c.json({ error: `unexpected Host header ${JSON.stringify(host)}: open this server by the address it printed`, code: 'Host' }, 403)
    const authorized = o.token === null || sameToken(tokenOf(c), o.token)
    const writes = c.req.method !== 'GET' && c.req.method !== 'HEAD'
    if (writes) {
      // A form or a script of another site cannot send JSON here without a CORS preflight, which is never answered.
      const origin = c.req.header('origin')
      if (origin && !hosts().has(origin.replace(/^https?:\/\//, '').toLowerCase())) return c.json({ error: 'cross-origin request refused', code: 'Origin' }, 403)
      if (!(c.req.header('content-type') ?? '').startsWith('application/json')) return c.json({ error: 'send JSON (Content-Type: application/json)', code: 'Usage' }, 415)
    }
    if (!authorized && (writes || !open)) {
      return c.json({ error: "a token is required: open the URL 'git lab ui' printed (it carries ?token=...)", code: 'Token' }, 401)
    }
    // The printed URL's token is kept in a cookie, then dropped from the address bar (and from history).
    const q = c.req.query('token')
    if (q !== undefined && authorized && o.token !== null && c.req.method === 'GET' && !c.req.path.startsWith('/api/')) {
      setCookie(c, COOKIE, o.token, { httpOnly: true, sameSite: 'Strict', path: '/' })
      const url = new URL(c.req.url)
      url.searchParams.delete('token')
      return c.redirect(url.pathname + url.search + url.hash, 302)
    }
    await next()
    c.header('X-Content-Type-Options', 'nosniff')
    c.header('Referrer-Policy', 'no-referrer')
    c.header('X-Frame-Options', 'DENY')
    c.header('Content-Security-Policy', "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
  })

  app.onError((err, c) => {
    if (err instanceof LabError) return c.json({ error: err.message, code: err.code }, STATUS[err.code] ?? 500)
    return c.json({ error: `internal error, please report: ${err.message}`, code: 'Internal' }, 500)
  })

  app.get('/api/events', c => streamSSE(c, async stream => {
    const onState = (version: number) => { void stream.writeSSE({ event: 'state', data: JSON.stringify({ version }) }) }
    const onJournal = (id: string) => { void stream.writeSSE({ event: 'journal', data: JSON.stringify({ id }) }) }
    view.on('state', onState)
    view.on('journal', onJournal)
    let closed = false
    stream.onAbort(() => { closed = true })
    await stream.writeSSE({ event: 'hello', data: JSON.stringify({ version: view.version }) })
    while (!closed) await stream.sleep(15_000).then(() => closed ? undefined : stream.write(': keep-alive\n\n'))
    view.off('state', onState)
    view.off('journal', onJournal)
  }))

  readRoutes(app, view)
  writeRoutes(app, view)
  app.all('/api/*', c => c.json({ error: `no such API route: ${c.req.method} ${c.req.path}`, code: 'NotFound' }, 404))
  if (o.staticDir) staticFiles(app, o.staticDir)
  return app
}
