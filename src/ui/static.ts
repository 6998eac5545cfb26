// Serves the built client (dist/ui): a fixed set of files listed once at start, so no request path reaches the disk.
import type { Hono } from 'hono'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.woff2': 'font/woff2', '.map': 'application/json',
}

function list(dir: string, base = ''): string[] {
  return readdirSync(path.join(dir, base), { withFileTypes: true }).flatMap(d =>
    d.isDirectory() ? list(dir, path.posix.join(base, d.name)) : [path.posix.join(base, d.name)])
}

export function staticFiles(app: Hono, dir: string) {
  const files = new Map<string, { body: Uint8Array<ArrayBuffer>; type: string }>()
  try { statSync(dir) } catch { return }
  for (const f of list(dir)) files.set('/' + f, { body: new Uint8Array(readFileSync(path.join(dir, f))), type: TYPES[path.extname(f)] ?? 'application/octet-stream' })
  app.get('*', c => {
    // Any other path is a view of the app: index.html, whose script reads the view from the URL.
    const f = files.get(c.req.path) ?? files.get('/index.html')
    if (!f) return c.text('the client is not built: run npm run build', 404)
    c.header('Content-Type', f.type)
    c.header('Cache-Control', f.type.startsWith('text/html') ? 'no-cache' : 'max-age=3600')
    return c.body(f.body)
  })
}
