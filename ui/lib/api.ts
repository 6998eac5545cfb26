// The one place the client talks to the server (or, in a static export, to the data files written beside it).
import { useEffect, useState } from 'preact/hooks'
import { exportGet, exportText } from './export-data'

declare global { interface Window { __LAB_EXPORT__?: unknown } }
export const isExport = () => window.__LAB_EXPORT__ !== undefined

export class ApiError extends Error { constructor(message: string, readonly status: number) { super(message) } }

async function fail(r: Response): Promise<never> {
  let msg = `${r.status} ${r.statusText}`
  try { msg = (await r.json()).error ?? msg } catch { /* not JSON */ }
  throw new ApiError(msg, r.status)
}

export async function get<T = any>(path: string): Promise<T> {
  if (isExport()) return exportGet(path) as Promise<T>
  const r = await fetch(path.replace(/^\//, ''), { credentials: 'same-origin' })
  if (!r.ok) return fail(r)
  return r.json() as Promise<T>
}

export async function getText(path: string): Promise<{ text: string; headers: Headers }> {
  if (isExport()) return exportText(path)
  const r = await fetch(path.replace(/^\//, ''), { credentials: 'same-origin' })
  if (!r.ok) return fail(r)
  return { text: await r.text(), headers: r.headers }
}

export async function post<T = any>(path: string, body: unknown): Promise<T> {
  if (isExport()) throw new ApiError('this is a static snapshot: nothing can be changed here', 405)
  const r = await fetch(path.replace(/^\//, ''), {
    method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  })
  if (!r.ok) return fail(r)
  return r.json() as Promise<T>
}

type Listener = { state?: (v: number) => void; journal?: (id: string) => void; status?: (live: boolean) => void }
const listeners = new Set<Listener>()
let source: EventSource | null = null
export let stateVersion = 0

function connect() {
  if (source || isExport()) return
  source = new EventSource('api/events')
  source.addEventListener('hello', e => { stateVersion = JSON.parse((e as MessageEvent).data).version; listeners.forEach(l => l.status?.(true)) })
  source.addEventListener('state', e => {
    stateVersion = JSON.parse((e as MessageEvent).data).version
    listeners.forEach(l => l.state?.(stateVersion))
  })
  source.addEventListener('journal', e => { const id = JSON.parse((e as MessageEvent).data).id; listeners.forEach(l => l.journal?.(id)) })
  source.onerror = () => listeners.forEach(l => l.status?.(false))
}

/** Server-sent events: the lab's state moved, or a running job's journal grew. */
export function subscribe(l: Listener): () => void {
  connect()
  listeners.add(l)
  return () => { listeners.delete(l) }
}

/** The state version, moving with every change of the lab: a dependency that refetches a view's data. */
export function useVersion(): number {
  const [v, setV] = useState(stateVersion)
  useEffect(() => subscribe({ state: setV }), [])
  return v
}

/** GET path, again whenever deps change; keeps the last data while a refetch runs. */
export function useGet<T = any>(path: string | null, deps: unknown[] = []): { data: T | null; error: string | null; loading: boolean } {
  const [s, setS] = useState<{ data: T | null; error: string | null; loading: boolean }>({ data: null, error: null, loading: !!path })
  useEffect(() => {
    if (!path) return
    let live = true
    setS(x => ({ ...x, loading: true }))
    get<T>(path).then(data => { if (live) setS({ data, error: null, loading: false }) }, (e: Error) => { if (live) setS(x => ({ data: x.data, error: e.message, loading: false })) })
    return () => { live = false }
  }, [path, ...deps])
  return s
}
