// UI test helpers: a real lab made by the CLI, its view and app, requests as a page on 127.0.0.1 sends them.
import { Lab } from '../../src/lab/lab.ts'
import { LabView } from '../../src/ui/model.ts'
import { createApp, type AppOptions } from '../../src/ui/app.ts'
import { lab } from '../helpers.ts'

interface Teardown { teardown(fn: () => void | Promise<void>): void }

export const PORT = 4567
export const TOKEN = 'test-token-0123456789'

export async function openApp(t: Teardown, repo: { dir: string; env: NodeJS.ProcessEnv }, o: Partial<AppOptions> = {}) {
  const l = await Lab.open({ cwd: repo.dir, env: repo.env })
  t.teardown(() => l.close())
  const view = await LabView.open(l)
  const app = createApp(view, { token: TOKEN, port: () => PORT, staticDir: null, ...o })
  const req = (p: string, init: RequestInit & { token?: boolean } = {}) => {
    const headers: Record<string, string> = { host: `127.0.0.1:${PORT}`, ...(init.headers as Record<string, string> ?? {}) }
    if (init.token) headers['x-lab-token'] = TOKEN
    return app.request(p, { ...init, headers })
  }
  const post = (p: string, body: unknown, token = true) =>
    req(p, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' }, token })
  const json = async (p: string) => {
    const r = await req(p)
    if (r.status !== 200) throw new Error(`GET ${p}: ${r.status} ${await r.text()}`)
    return r.json() as Promise<any>
  }
  return { lab: l, view, app, req, post, json }
}

/** A job that reports `n` points of loss (falling, with one spike at the middle) and acc, then a final line. */
export function metricsJob(n: number, scale = 1): string {
  return `i=1; while [ $i -le ${n} ]; do echo "{\\"step\\": $i, \\"loss\\": $(( ${1000 * scale} / i ))$( [ $i -eq ${Math.ceil(n / 2)} ] && echo 000 ), \\"acc\\": $i}" >> "$LAB_METRICS"; i=$((i+1)); done; echo done`
}

/** `git lab run` of a metrics job: a finished experiment with series. */
export async function runJob(repo: { dir: string; env: NodeJS.ProcessEnv }, message: string, n: number, extra: string[] = []): Promise<string> {
  const r = await lab(repo, ['run', '-m', message, '--run', metricsJob(n), '--json', ...extra])
  if (r.code !== 0) throw new Error(`run failed: ${r.err}`)
  return JSON.parse(r.out).id
}
