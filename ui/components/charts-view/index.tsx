// Charts of the selected runs: any metrics, overlaid; x = step, wall time or relative time; log y; EMA smoothing.
// Every setting is in the URL. Below: the runs side by side (params and final metrics), the best marked.
import { useGet, useVersion } from '../../lib/api'
import { go, href, setParam, type Route } from '../../lib/route'
import { num, short, STATUS_COLORS } from '../../lib/format'
import { Chart, PALETTE } from '../chart'

export function ChartsView({ route }: { route: Route }) {
  const p = route.params
  const ids = (p.get('ids') ?? '').split(',').filter(Boolean)
  const version = useVersion()
  const q = ids.map(i => `id:${i}`).join(' ')
  const list = useGet(ids.length ? `/api/experiments?limit=1000&q=${encodeURIComponent(q)}` : null, [version])
  if (!ids.length) return <div class="empty">Select experiments in the <a href={href('experiments')}>table</a> to chart them.</div>
  const rows: any[] = list.data?.rows ?? []
  const byId = new Map(rows.map(e => [e.id, e]))
  const ordered = ids.map(i => rows.find(e => e.id.startsWith(i))).filter(Boolean)
  const names = [...new Set(rows.flatMap(e => Object.keys(e.series)))].sort()
  const objective = list.data?.objective?.metric
  const chosen = (p.get('m') ?? '').split(',').filter(Boolean)
  const metrics = chosen.length ? chosen : names.includes(objective) ? [objective, ...names.filter(n => n !== objective).slice(0, 3)] : names.slice(0, 4)
  const x = p.get('x') ?? 'step'
  const log = p.get('log') === '1'
  const smooth = Number(p.get('ema') ?? 0)
  const flip = (m: string) => setParam(route, 'm', (metrics.includes(m) ? metrics.filter(n => n !== m) : [...metrics, m]).join(','))
  const params = [...new Set(rows.flatMap(e => Object.keys(e.params)))].sort()
  void byId
  return (
    <div class="charts">
      <div class="toolbar">
        <span>x:</span>
        {['step', 'time', 'relative'].map(k => <label key={k}><input type="radio" name="x" checked={x === k} onChange={() => setParam(route, 'x', k === 'step' ? null : k)} /> {k === 'time' ? 'wall time' : k === 'relative' ? 'relative time' : 'step'}</label>)}
        <label><input type="checkbox" checked={log} onChange={() => setParam(route, 'log', log ? null : '1')} /> log y</label>
        <label>smoothing <input type="range" min="0" max="0.99" step="0.01" value={smooth} onChange={e => setParam(route, 'ema', (e.target as HTMLInputElement).value === '0' ? null : (e.target as HTMLInputElement).value)} /> {smooth.toFixed(2)}</label>
      </div>
      <div class="metric-picker">{names.map(n => <label key={n}><input type="checkbox" checked={metrics.includes(n)} onChange={() => flip(n)} /> {n}</label>)}</div>
      {list.error ? <p class="error">{list.error}</p> : null}
      <div class="chart-grid">
        {ordered.length ? metrics.map(m => <Chart key={m} ids={ordered.map((e: any) => e.id)} metric={m} x={x} log={log} smooth={smooth} />) : null}
      </div>
      <table class="compare">
        <thead><tr><th /><th>id</th><th>status</th><th>message</th>{params.map(k => <th key={k}>{k}</th>)}{names.map(k => <th key={k}>{k}</th>)}</tr></thead>
        <tbody>{ordered.map((e: any, i: number) => (
          <tr key={e.id}>
            <td><span class="swatch" style={{ background: PALETTE[i % PALETTE.length] }} /></td>
            <td><a href={href('experiment', e.id)}>{short(e.id)}</a>{list.data?.best === e.id ? ' ★' : ''}</td>
            <td style={{ color: STATUS_COLORS[e.status] }}>{e.status}</td>
            <td>{e.message}</td>
            {params.map(k => <td key={k} class="num">{Object.hasOwn(e.params, k) ? String(e.params[k]) : ''}</td>)}
            {names.map(k => <td key={k} class="num">{num(Object.hasOwn(e.metrics, k) ? e.metrics[k] : null)}</td>)}
          </tr>
        ))}</tbody>
      </table>
      <p><button onClick={() => go(href('experiments', '', { sel: ids.join(',') }))}>Back to the table</button></p>
    </div>
  )
}
