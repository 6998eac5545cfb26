// The experiments table: virtualized (only the rows in view are in the DOM, fetched a page at a time), sortable by
// any column, a filter box, a column picker, the objective's best marked, rows selected to chart or compare.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { get, useVersion } from '../../lib/api'
import { go, href, setParam, type Route } from '../../lib/route'
import { ago, dur, num, short, STATUS_COLORS } from '../../lib/format'

const ROW = 30
const PAGE = 200

interface Col { key: string; label: string; width: number; cell: (e: any) => any; num?: boolean }

const BASE: Col[] = [
  { key: 'id', label: 'id', width: 112, cell: e => short(e.id) },
  { key: 'status', label: 'status', width: 96, cell: e => <span class="status" style={{ color: STATUS_COLORS[e.status] }}>{e.status}</span> },
  { key: 'message', label: 'message', width: 320, cell: e => e.message },
  { key: 'idea', label: 'idea', width: 80, cell: e => short(e.idea) },
  { key: 'tags', label: 'tags', width: 140, cell: e => e.tags.join(' ') },
  { key: 'writer', label: 'writer', width: 92, cell: e => e.writer },
  { key: 'author', label: 'author', width: 140, cell: e => e.author },
  { key: 'created_at', label: 'created', width: 90, cell: e => ago(e.created_at) },
  { key: 'started_at', label: 'started', width: 90, cell: e => ago(e.started_at) },
  { key: 'finished_at', label: 'finished', width: 90, cell: e => ago(e.finished_at) },
  { key: 'duration', label: 'duration', width: 80, cell: e => dur(e), num: true },
  { key: 'priority', label: 'prio', width: 50, cell: e => e.priority, num: true },
  { key: 'gpus', label: 'gpus', width: 50, cell: e => e.gpus, num: true },
  { key: 'attempt', label: 'att.', width: 50, cell: e => e.attempt, num: true },
  { key: 'exit_code', label: 'exit', width: 50, cell: e => e.exit_code ?? '', num: true },
]
const DEFAULT_BASE = ['id', 'status', 'message', 'idea', 'tags', 'writer', 'created_at', 'duration']

function extraCol(key: string): Col | null {
  const [kind, name] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)]
  if (kind === 'param') return { key, label: name, width: 90, num: true, cell: e => Object.hasOwn(e.params, name) ? String(e.params[name]) : '' }
  if (kind === 'metric') return { key, label: name, width: 90, num: true, cell: e => num(Object.hasOwn(e.metrics, name) ? e.metrics[name] : null) }
  if (kind === 'min' || kind === 'max') return { key, label: `${name} ${kind}`, width: 90, num: true, cell: e => num(Object.hasOwn(e.series, name) ? e.series[name][kind] : null) }
  return null
}

export function ExperimentsTable({ route }: { route: Route }) {
  const p = route.params
  const q = p.get('q') ?? ''
  const sort = p.get('sort') ?? ''
  const desc = p.get('desc') === '1'
  const sel = useMemo(() => new Set((p.get('sel') ?? '').split(',').filter(Boolean)), [p.get('sel')])
  const version = useVersion()
  const [meta, setMeta] = useState<{ objective: any; columns: { params: string[]; metrics: string[] } } | null>(null)
  const objective = meta?.objective ?? null
  const colKeys = p.get('cols')?.split(',').filter(Boolean) ?? [
    ...DEFAULT_BASE, ...(objective ? [`metric:${objective.metric}`] : []),
    ...(meta?.columns.params ?? []).slice(0, 4).map((n: string) => `param:${n}`),
    ...(meta?.columns.metrics ?? []).filter((n: string) => n !== objective?.metric).slice(0, 3).map((n: string) => `metric:${n}`),
  ]
  const cols = colKeys.map(k => BASE.find(c => c.key === k) ?? extraCol(k)).filter((c): c is Col => c !== null)

  const [draft, setDraft] = useState(q)
  useEffect(() => setDraft(q), [q])
  const [pages, setPages] = useState<{ key: string; total: number | null; best: string | null; rows: Map<number, any[]>; error: string | null }>({ key: '', total: null, best: null, rows: new Map(), error: null })
  const [range, setRange] = useState([0, 60])
  const body = useRef<HTMLDivElement>(null)
  const key = `${q}\0${sort}\0${desc}`
  const want = useRef(new Set<string>())

  // Fetch the pages the visible range needs; a new version or query refetches them (old rows stay until then).
  useEffect(() => {
    const first = Math.floor(range[0] / PAGE)
    const last = Math.floor(range[1] / PAGE)
    for (let pg = first; pg <= last; pg++) {
      const tag = `${key}\0${version}\0${pg}`
      if (want.current.has(tag)) continue
      want.current.add(tag)
      const qs = new URLSearchParams({ q, offset: String(pg * PAGE), limit: String(PAGE), ...(sort ? { sort } : {}), ...(desc ? { desc: '1' } : {}) })
      get(`/api/experiments?${qs}`).then(r => {
        const m = { objective: r.objective, columns: r.columns }
        setMeta(old => old && JSON.stringify(old) === JSON.stringify(m) ? old : m)
        setPages(s => {
          const rows = s.key === key ? new Map(s.rows) : new Map()
          rows.set(pg, r.rows)
          return { key, total: r.total, best: r.best, rows, error: null }
        })
      }, (err: Error) => setPages(s => ({ ...s, key, error: err.message, total: s.key === key ? s.total : 0 })))
    }
  }, [key, version, range[0], range[1]])
  useEffect(() => { body.current?.scrollTo(0, 0) }, [key])

  const onScroll = () => {
    const el = body.current!
    const from = Math.max(0, Math.floor(el.scrollTop / ROW) - 10)
    const to = from + Math.ceil(el.clientHeight / ROW) + 20
    if (from !== range[0] || to !== range[1]) setRange([from, to])
  }
  useEffect(onScroll, [])

  const total = pages.key === key ? pages.total ?? 0 : pages.total ?? 0
  const rowAt = (i: number) => pages.rows.get(Math.floor(i / PAGE))?.[i % PAGE]
  const width = 34 + cols.reduce((s, c) => s + c.width, 0)
  const toggle = (id: string) => {
    const next = new Set(sel)
    if (next.has(id)) next.delete(id); else next.add(id)
    setParam(route, 'sel', [...next].join(','))
  }
  const sortBy = (k: string) => {
    const np = new URLSearchParams(p)
    if (sort === k && !desc) np.set('desc', '1'); else np.delete('desc')
    np.set('sort', k)
    if (sort === k && desc) { np.delete('sort'); np.delete('desc') }
    go(href('experiments', '', Object.fromEntries(np)), true)
  }
  const [picker, setPicker] = useState(false)
  const visible: any[] = []
  for (let i = range[0]; i < Math.min(total, range[1]); i++) visible.push([i, rowAt(i)])

  return (
    <div class="experiments">
      <div class="toolbar">
        <form onSubmit={e => { e.preventDefault(); setParam(route, 'q', draft.trim()) }}>
          <input class="filter" name="q" value={draft} placeholder='filter: status:running tag:sweep loss<0.3 lr>=1e-4 "warmup"'
            onInput={e => setDraft((e.target as HTMLInputElement).value)} />
        </form>
        <span class="count">{pages.error ? <span class="error">{pages.error}</span> : `${total.toLocaleString()} experiment${total === 1 ? '' : 's'}`}</span>
        <button onClick={() => setPicker(!picker)}>Columns</button>
        <button disabled={!sel.size} onClick={() => go(href('charts', '', { ids: [...sel].join(',') }))}>Chart {sel.size || ''}</button>
        {sel.size ? <button onClick={() => setParam(route, 'sel', null)}>Clear selection</button> : null}
      </div>
      {picker ? <ColumnPicker route={route} current={colKeys} columns={meta?.columns ?? { params: [], metrics: [] }} /> : null}
      <div class="table" style={{ '--w': `${width}px` }}>
        <div class="thead" style={{ width: `${width}px` }}>
          <div class="cell sel" />
          {cols.map(c => (
            <div key={c.key} class={`cell h ${c.num ? 'num' : ''}`} style={{ width: `${c.width}px` }} title={`sort by ${c.label}`} onClick={() => sortBy(c.key)}>
              {c.label}{sort === c.key ? (desc ? ' ▼' : ' ▲') : ''}
            </div>
          ))}
        </div>
        <div class="tbody" ref={body} onScroll={onScroll}>
          <div style={{ height: `${total * ROW}px`, width: `${width}px`, position: 'relative' }}>
            {visible.map(([i, e]) => e ? (
              <div key={e.id} class={`row ${sel.has(e.id) ? 'selected' : ''} ${pages.best === e.id ? 'best' : ''}`} style={{ top: `${i * ROW}px` }} data-id={e.id}
                onClick={ev => { if (!(ev.target as HTMLElement).closest('.sel')) go(href('experiment', e.id)) }}>
                <div class="cell sel"><input type="checkbox" checked={sel.has(e.id)} onClick={() => toggle(e.id)} aria-label={`select ${e.id}`} /></div>
                {cols.map(c => <div key={c.key} class={`cell ${c.num ? 'num' : ''}`} style={{ width: `${c.width}px` }} title={c.key === 'message' ? e.message : undefined}>
                  {c.key === 'id' && pages.best === e.id ? <span class="star" title={`best ${objective?.metric}`}>★ </span> : null}{c.cell(e)}
                </div>)}
              </div>
            ) : <div key={`p${i}`} class="row pending" style={{ top: `${i * ROW}px` }} />)}
          </div>
        </div>
      </div>
    </div>
  )
}

function ColumnPicker({ route, current, columns }: { route: Route; current: string[]; columns: { params: string[]; metrics: string[] } }) {
  const set = new Set(current)
  const flip = (k: string) => {
    const next = set.has(k) ? current.filter(x => x !== k) : [...current, k]
    setParam(route, 'cols', next.join(','))
  }
  const box = (k: string, label: string) => <label key={k}><input type="checkbox" checked={set.has(k)} onChange={() => flip(k)} /> {label}</label>
  return (
    <div class="picker">
      <div><b>fields</b>{BASE.map(c => box(c.key, c.label))}</div>
      <div><b>params</b>{columns.params.length ? columns.params.map(n => box(`param:${n}`, n)) : <i> none</i>}</div>
      <div><b>metrics</b>{columns.metrics.length ? columns.metrics.map(n => [box(`metric:${n}`, `${n} (final)`), box(`min:${n}`, `${n} min`), box(`max:${n}`, `${n} max`)]) : <i> none</i>}</div>
      <div><button onClick={() => setParam(route, 'cols', null)}>Default columns</button></div>
    </div>
  )
}
