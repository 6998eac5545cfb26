// One metric of several runs, overlaid (uPlot, created once per setup, updated with setData). The server sends data
// cut to the chart's pixel width; a zoom refetches the range at full detail; live runs refetch as they report.
import { useEffect, useRef, useState } from 'preact/hooks'
import uPlot from 'uplot'
import { get, subscribe } from '../../lib/api'
import { ema } from '../../lib/ema'

export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf']
const fade = (hex: string, a: number) => hex + Math.round(a * 255).toString(16).padStart(2, '0')

export interface ChartProps { ids: string[]; metric: string; x: string; log: boolean; smooth: number; height?: number }

export function Chart({ ids, metric, x, log, smooth, height = 260 }: ChartProps) {
  const box = useRef<HTMLDivElement>(null)
  const plot = useRef<uPlot | null>(null)
  const zoom = useRef<[number, number] | null>(null)
  const [info, setInfo] = useState('')
  const [error, setError] = useState<string | null>(null)
  const ref = useRef({ ids, metric, x, smooth })
  ref.current = { ids, metric, x, smooth }

  const load = async (resetScale: boolean) => {
    const el = box.current
    if (!el) return
    const px = Math.max(64, Math.round(el.clientWidth || 600))
    const z = zoom.current
    const qs = new URLSearchParams({ ids: ids.join(','), metric, x, px: String(px), ...(z ? { from: String(z[0]), to: String(z[1]) } : {}) })
    let d: any
    try { d = await get(`/api/chart?${qs}`) } catch (e) { setError((e as Error).message); return }
    setError(null)
    setInfo(`${d.points.toLocaleString()} points${d.exact ? '' : `, ${d.x.length} shown (min and max per pixel)`}`)
    const data: any[] = [d.x]
    for (const ys of d.ys) {
      const clean = log ? ys.map((v: number | null) => v !== null && v > 0 ? v : null) : ys
      data.push(clean)
      if (smooth > 0) data.push(ema(clean, smooth))
    }
    const p = plot.current
    if (!p) return
    // Not zoomed: the scales follow the data (a live run extends them); zoomed: the window stays where it is.
    p.setData(data, !z)
    if (z && resetScale) p.setScale('x', { min: z[0], max: z[1] })
  }

  // (Re)create the plot when what it shows changes; data comes by setData.
  useEffect(() => {
    const el = box.current!
    zoom.current = null
    const series: uPlot.Series[] = [{ label: x === 'step' ? 'step' : x === 'time' ? 'time' : 'seconds' }]
    ids.forEach((id, i) => {
      const c = PALETTE[i % PALETTE.length]
      if (smooth > 0) {
        series.push({ label: `${id.slice(0, 8)} raw`, stroke: fade(c, 0.25), width: 1, spanGaps: true, points: { show: false } })
        series.push({ label: id.slice(0, 8), stroke: c, width: 1.5, spanGaps: true, points: { show: false } })
      } else series.push({ label: id.slice(0, 8), stroke: c, width: 1.5, spanGaps: true, points: { show: false } })
    })
    const opts: uPlot.Options = {
      width: el.clientWidth || 600, height,
      scales: { x: { time: x === 'time' }, y: log ? { distr: 3 } : {} },
      series,
      axes: [{}, { size: 72 }],
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
      hooks: {
        // the x range shown, for a reader of the page (tests check that a live run extends it, that a wheel zooms it)
        setScale: [(u, key) => {
          if (key !== 'x') return
          el.dataset.xMin = String(u.scales.x.min ?? '')
          el.dataset.xMax = String(u.scales.x.max ?? '')
        }],
        setSelect: [u => {
          if (u.select.width < 3) return
          const min = u.posToVal(u.select.left, 'x')
          const max = u.posToVal(u.select.left + u.select.width, 'x')
          zoom.current = [min, max]
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false)
          void load(true)
        }],
      },
    }
    const p = new uPlot(opts, [[], ...series.slice(1).map(() => [])] as any, el)
    plot.current = p
    const dbl = () => { zoom.current = null; void load(true) }
    el.addEventListener('dblclick', dbl)
    // Ctrl (or Cmd) + wheel, and a trackpad's pinch: zoom around the pointer; Shift + wheel, or a sideways swipe,
    // while zoomed: pan. A plain wheel scrolls the page. The view moves at once; the range is fetched at full detail
    // once the wheel rests.
    let rest: ReturnType<typeof setTimeout> | undefined
    const wheel = (ev: WheelEvent) => {
      const sideways = ev.shiftKey || Math.abs(ev.deltaX) > Math.abs(ev.deltaY)
      if (!(ev.ctrlKey || ev.metaKey) && !(sideways && zoom.current)) return
      ev.preventDefault()
      const min = zoom.current?.[0] ?? p.scales.x.min
      const max = zoom.current?.[1] ?? p.scales.x.max
      if (min == null || max == null || !(max > min)) return
      const delta = sideways ? (ev.deltaX || ev.deltaY) : ev.deltaY
      let next: [number, number]
      if (sideways && !(ev.ctrlKey || ev.metaKey)) {
        const d = (max - min) * 0.1 * Math.sign(delta)
        next = [min + d, max + d]
      } else {
        const at = p.posToVal(ev.clientX - p.over.getBoundingClientRect().left, 'x')
        const f = delta < 0 ? 0.8 : 1.25
        next = [at - (at - min) * f, at + (max - at) * f]
      }
      zoom.current = next
      p.setScale('x', { min: next[0], max: next[1] })
      clearTimeout(rest)
      rest = setTimeout(() => void load(true), 150)
    }
    p.over.addEventListener('wheel', wheel, { passive: false })
    const ro = new ResizeObserver(() => { if (el.clientWidth && Math.abs(el.clientWidth - p.width) > 4) p.setSize({ width: el.clientWidth, height }) })
    ro.observe(el)
    void load(true)
    return () => { clearTimeout(rest); ro.disconnect(); el.removeEventListener('dblclick', dbl); p.destroy(); plot.current = null }
  }, [ids.join(','), metric, x, log, smooth, height])

  /** Moves the zoomed window by a fraction of its width; the new range is fetched at full detail. */
  const pan = (by: number) => {
    const z = zoom.current
    if (!z) return
    const d = (z[1] - z[0]) * by
    zoom.current = [z[0] + d, z[1] + d]
    void load(true)
  }

  // Live: a run of this chart reported (its journal grew here, or its record moved): refetch, keeping the zoom.
  useEffect(() => subscribe({
    state: () => { void load(false) },
    journal: id => { if (ref.current.ids.includes(id)) void load(false) },
  }), [ids.join(','), metric, x, log, smooth])

  return (
    <div class="chart">
      <div class="chart-head"><b>{metric}</b> <span class="muted">{info}{zoom.current ? ' · zoomed (double-click to reset, Shift+wheel to pan)' : ' · drag or Ctrl+wheel to zoom'}</span>
        {zoom.current ? <span class="pan"> <button title="pan left" onClick={() => pan(-0.5)}>◀</button><button title="pan right" onClick={() => pan(0.5)}>▶</button></span> : null}
        {error ? <span class="error"> {error}</span> : null}</div>
      <div ref={box} class="chart-box" data-metric={metric} />
    </div>
  )
}
