// The idea DAG (Cytoscape): ideas coloured by state, parent edges, each with its experiment count and best result,
// laid out in layers (lib/dag-layout.ts). A click opens the idea: text, notes, conclusion, its experiments.
import { useEffect, useRef, useState } from 'preact/hooks'
import cytoscape from 'cytoscape'
import { get, post, useGet, useVersion } from '../../lib/api'
import { go, href, type Route } from '../../lib/route'
import { layered } from '../../lib/dag-layout'
import { num, short, STATUS_COLORS, time } from '../../lib/format'

const label = (i: any) => {
  const text = i.text.length > 42 ? i.text.slice(0, 40) + '…' : i.text
  const best = i.best ? ` · best ${num(i.best.value)}` : ''
  return `${text}\n${i.experiments} exp${best}`
}

/** The whole graph when it fits at a readable zoom; else the roots at a readable zoom (drag to pan, wheel to zoom). */
function fitReadable(c: cytoscape.Core) {
  c.resize()
  c.fit(undefined, 30)
  // a few ideas: their natural size, centred, not blown up to fill the pane
  if (c.zoom() > 1) { c.zoom(1); c.center() }
  if (c.zoom() >= 0.6) return
  const top = c.nodes().filter(n => n.position('y') === Math.min(...c.nodes().map(m => m.position('y'))))
  c.zoom(0.75)
  c.center(top)
  c.panBy({ x: 0, y: -(c.height() / 2) + 60 })
}

export function IdeaDag({ route }: { route: Route }) {
  const version = useVersion()
  const { data, error } = useGet('/api/ideas', [version])
  const box = useRef<HTMLDivElement>(null)
  const cy = useRef<cytoscape.Core | null>(null)
  const shape = useRef('')

  useEffect(() => {
    if (!data || !box.current) return
    const ideas: any[] = data.ideas
    const pos = layered(ideas.map(i => ({ id: i.id, parents: i.parents })))
    const ids = new Set(ideas.map(i => i.id))
    const elements: cytoscape.ElementDefinition[] = [
      ...ideas.map(i => ({ data: { id: i.id, label: label(i), color: STATUS_COLORS[i.status] ?? '#888' }, position: { x: pos.get(i.id)!.x, y: pos.get(i.id)!.y } })),
      ...ideas.flatMap(i => i.parents.filter((p: string) => ids.has(p)).map((p: string) => ({ data: { id: `${p}>${i.id}`, source: p, target: i.id } }))),
    ]
    // The same graph again (a note, a new experiment): labels and colours change in place, the view stays.
    const sig = elements.map(e => e.data.id).join(',')
    if (cy.current && shape.current === sig) {
      for (const i of ideas) cy.current.getElementById(i.id).data({ label: label(i), color: STATUS_COLORS[i.status] ?? '#888' })
      return
    }
    cy.current?.destroy()
    shape.current = sig
    const c = cytoscape({
      container: box.current, elements, layout: { name: 'preset' }, wheelSensitivity: 0.3, minZoom: 0.05, maxZoom: 3,
      style: [
        { selector: 'node', style: { 'min-zoomed-font-size': 5, shape: 'round-rectangle', width: 160, height: 54, 'background-color': 'data(color)', 'background-opacity': 0.15, 'border-width': 2, 'border-color': 'data(color)', label: 'data(label)', 'text-wrap': 'wrap', 'text-max-width': '150px', 'text-valign': 'center', 'font-size': 11, color: '#1f2328' } },
        { selector: 'node:selected', style: { 'border-width': 4, 'background-opacity': 0.35 } },
        { selector: 'edge', style: { width: 1.5, 'line-color': '#8c959f', 'target-arrow-color': '#8c959f', 'target-arrow-shape': 'triangle', 'curve-style': 'bezier' } },
      ],
    })
    c.on('tap', 'node', e => go(href('ideas', e.target.id())))
    fitReadable(c)
    cy.current = c
  }, [data])
  useEffect(() => () => { cy.current?.destroy(); cy.current = null }, [])
  // The pane narrows when an idea's panel opens: Cytoscape must be told, and the graph placed again.
  useEffect(() => {
    const el = box.current
    if (!el) return
    let w = el.clientWidth
    const ro = new ResizeObserver(() => { if (cy.current && Math.abs(el.clientWidth - w) > 4) { w = el.clientWidth; fitReadable(cy.current) } })
    ro.observe(el)
    return () => ro.disconnect()
  }, [])
  useEffect(() => {
    if (!cy.current || !route.arg) return
    cy.current.$(':selected').unselect()
    cy.current.getElementById(route.arg).select()
  }, [route.arg, data])

  return (
    <div class="ideas">
      <div class="dag-wrap">
        <div class="toolbar"><NewIdea parent={null} /> <span class="muted">{data ? `${data.ideas.length} ideas` : ''}</span>
          <button onClick={() => { cy.current?.fit(undefined, 30) }}>Fit all</button> <button onClick={() => cy.current && fitReadable(cy.current)}>Roots</button>
          <span class="legend">{['open', 'concluded', 'abandoned'].map(s => <span key={s}><i style={{ background: STATUS_COLORS[s] }} /> {s}</span>)}</span></div>
        {error ? <p class="error">{error}</p> : null}
        {data && !data.ideas.length ? <div class="empty">No ideas yet: <code>git lab idea new "..."</code> or the button above.</div> : null}
        <div ref={box} class="dag" />
      </div>
      {route.arg ? <IdeaPanel id={route.arg} version={version} /> : null}
    </div>
  )
}

function NewIdea({ parent }: { parent: string | null }) {
  const [err, setErr] = useState<string | null>(null)
  return (
    <form class="inline" onSubmit={async e => {
      e.preventDefault()
      const f = e.target as HTMLFormElement
      const text = (f.elements.namedItem('text') as HTMLInputElement).value
      try { const i = await post('/api/ideas', { text, parents: parent ? [parent] : [] }); f.reset(); setErr(null); go(href('ideas', i.id)) } catch (x) { setErr((x as Error).message) }
    }}>
      <input name="text" placeholder={parent ? 'a child idea' : 'a new idea'} /> <button>{parent ? 'Add child' : 'New idea'}</button>
      {err ? <span class="error"> {err}</span> : null}
    </form>
  )
}

function IdeaPanel({ id, version }: { id: string; version: number }) {
  const [d, setD] = useState<any>(null)
  const [err, setErr] = useState<string | null>(null)
  useEffect(() => { get(`/api/ideas/${encodeURIComponent(id)}`).then(setD, (e: Error) => setErr(e.message)) }, [id, version])
  const act = (verb: string, ask: string | null) => async () => {
    const text = ask === null ? '' : prompt(ask)
    if (text === null) return
    try { setD({ ...(await post(`/api/ideas/${d.id}/${verb}`, { text })), experiments: d.experiments }); setErr(null) } catch (e) { setErr((e as Error).message) }
  }
  if (!d) return <aside class="panel">{err ? <p class="error">{err}</p> : 'loading…'}</aside>
  return (
    <aside class="panel">
      <div class="panel-head"><span class="status" style={{ color: STATUS_COLORS[d.status] }}>{d.status}</span> <code>{short(d.id)}</code> <a href={href('ideas')}>close</a></div>
      <h2 class="pre">{d.text}</h2>
      {d.conclusion ? <p class="pre"><b>{d.status === 'abandoned' ? 'Reason' : 'Conclusion'}:</b> {d.conclusion}</p> : null}
      <p class="muted">by {d.author} · {time(d.created_at)}{d.tags.length ? ` · ${d.tags.join(' ')}` : ''}</p>
      <div class="actions">
        {d.status === 'open' ? <><button onClick={act('conclude', 'Conclusion (what was learned)?')}>Conclude</button> <button onClick={act('abandon', 'Why abandon it?')}>Abandon</button></> : <button onClick={act('reopen', null)}>Reopen</button>}
        {' '}<button onClick={act('note', 'Note')}>Add note</button>
      </div>
      {err ? <p class="error">{err}</p> : null}
      <NewIdea parent={d.id} />
      <h3>Experiments ({d.experiments.length})</h3>
      <ul class="plain">{d.experiments.slice(0, 200).map((e: any) => <li key={e.id}><a href={href('experiment', e.id)}>{short(e.id)}</a> <span style={{ color: STATUS_COLORS[e.status] }}>{e.status}</span> {e.message}</li>)}</ul>
      {d.experiments.length ? <button onClick={() => go(href('charts', '', { ids: d.experiments.slice(0, 50).map((e: any) => e.id).join(',') }))}>Chart them</button> : null}
      <h3>Notes</h3>
      {d.notes.length ? d.notes.map((n: any, i: number) => <div key={i} class="note"><div class="muted">{n.author} · {time(n.time)}</div><div class="pre">{n.text}</div></div>) : <p class="muted">none</p>}
    </aside>
  )
}
