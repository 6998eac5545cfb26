// A static export (git lab ui --export DIR) answers the client's API calls from data files: the lab's lists in
// data/lab.js, each experiment's details in data/e/ID.js, loaded as scripts (a page opened from disk may not fetch).
import { parseFilter, matches, sortRows, bestOf } from '../../src/ui/table'
import { align } from '../../src/ui/downsample'

interface Detail { show: any; log: string; diff: any; metrics: Record<string, { step: number[]; value: number[]; time: number[] }> }
const data = () => window.__LAB_EXPORT__ as any
const details = new Map<string, Promise<Detail>>()
const waiting = new Map<string, (d: Detail) => void>()
;(window as any).__labExport = (id: string, d: Detail) => { waiting.get(id)?.(d); waiting.delete(id) }

function detail(id: string): Promise<Detail> {
  const full = (data().experiments as any[]).find(e => e.id.startsWith(id))?.id
  if (!full) return Promise.reject(new Error(`no experiment matches ${JSON.stringify(id)}`))
  let p = details.get(full)
  if (!p) {
    p = new Promise<Detail>((resolve, reject) => {
      waiting.set(full, resolve)
      const s = document.createElement('script')
      s.src = `data/e/${full}.js`
      s.onerror = () => reject(new Error(`data/e/${full}.js is missing from this export`))
      document.head.appendChild(s)
    })
    details.set(full, p)
  }
  return p
}

// The table functions take the internal experiment shape: params as text, as given.
const internal = (e: any) => ({ ...e, params: Object.fromEntries(Object.entries(e.params).map(([k, v]) => [k, String(v)])) })

export async function exportGet(path: string): Promise<unknown> {
  const u = new URL(path, 'http://x/')
  const q = Object.fromEntries(u.searchParams)
  const d = data()
  const seg = u.pathname.split('/').filter(Boolean).slice(1).map(decodeURIComponent)
  if (seg[0] === 'status') return d.status
  if (seg[0] === 'ideas' && !seg[1]) return d.ideas
  if (seg[0] === 'ideas') {
    const i = d.ideas.ideas.find((x: any) => x.id.startsWith(seg[1]))
    return { ...i, experiments: d.experiments.filter((e: any) => e.idea === i.id) }
  }
  if (seg[0] === 'messages') return d.messages
  if (seg[0] === 'queue') return d.queue
  if (seg[0] === 'experiments' && !seg[1]) {
    const all = d.experiments.map(internal)
    const f = parseFilter(q.q ?? '')
    const rows = sortRows(all.filter((e: any) => matches(f, e)), q.sort || null, q.desc === '1', Date.parse(d.status.exported_at))
    const offset = Number(q.offset ?? 0)
    const ids = rows.slice(offset, offset + Number(q.limit ?? 100)).map((e: any) => e.id)
    const byId = new Map(d.experiments.map((e: any) => [e.id, e]))
    return { version: 0, total: rows.length, offset, best: bestOf(rows, d.status.objective), objective: d.status.objective, columns: d.status.columns, rows: ids.map((id: string) => byId.get(id)) }
  }
  if (seg[0] === 'experiments' && seg[2] === 'diff') return (await detail(seg[1])).diff
  if (seg[0] === 'experiments' && seg[2] === 'metrics') {
    const x = await detail(seg[1])
    return { id: x.show.id, attempt: x.show.attempt, skipped: 0, rewrites: 0, series: Object.fromEntries(Object.entries(x.metrics).map(([k, s]) => [k, s.value.map((v, i) => ({ step: s.step[i], value: v, time: new Date(s.time[i]).toISOString() }))])) }
  }
  if (seg[0] === 'experiments') return { ...(await detail(seg[1])).show }
  if (seg[0] === 'chart') {
    const ids = (q.ids ?? '').split(',').filter(Boolean)
    const runs = await Promise.all(ids.map(async id => { const x = await detail(id); return { e: x.show, s: x.metrics[q.metric] } }))
    const pts = runs.map(({ e, s }) => {
      if (!s) return { x: [], y: [] }
      if ((q.x ?? 'step') === 'step') return { x: s.step, y: s.value }
      const t0 = q.x === 'relative' ? (e.started_at ? Date.parse(e.started_at) / 1000 : s.time[0] / 1000) : 0
      return { x: s.time.map(t => t / 1000 - t0), y: s.value }
    })
    const a = align(pts, Number(q.px ?? 1000), q.from ? Number(q.from) : NaN, q.to ? Number(q.to) : NaN)
    return { metric: q.metric, x_axis: q.x ?? 'step', exact: a.exact, points: a.points, runs: runs.map(({ e, s }) => ({ id: e.id, attempt: e.attempt, message: e.message, status: e.status, count: s?.value.length ?? 0 })), x: a.x, ys: a.ys }
  }
  throw new Error(`not in this export: ${path}`)
}

export async function exportText(path: string): Promise<{ text: string; headers: Headers }> {
  const seg = new URL(path, 'http://x/').pathname.split('/').filter(Boolean)
  const x = await detail(decodeURIComponent(seg[2]))
  const from = Number(new URL(path, 'http://x/').searchParams.get('from') ?? 0)
  const bytes = new TextEncoder().encode(x.log)
  const text = new TextDecoder().decode(bytes.subarray(from))
  return { text, headers: new Headers({ 'x-lab-start': String(from), 'x-lab-end': String(bytes.length), 'x-lab-live': '0' }) }
}
