// A run's output: the last part first, then every new byte as the server says the journal grew (live tail);
// ANSI colours shown as classes on text (never as HTML); a search box keeps the lines that match.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { getText, subscribe } from '../../lib/api'
import { parseAnsi } from '../../lib/ansi'

const TAIL = 256 * 1024

export function LogView({ id, attempt, running }: { id: string; attempt: number; running: boolean }) {
  const [text, setText] = useState('')
  const [start, setStart] = useState(0)
  const [err, setErr] = useState<string | null>(null)
  const [search, setSearch] = useState('')
  const end = useRef(0)
  const busy = useRef(false)
  const pre = useRef<HTMLPreElement>(null)
  const follow = useRef(true)

  const more = async () => {
    if (busy.current) return
    busy.current = true
    try {
      const r = await getText(`/api/experiments/${id}/log?attempt=${attempt}&from=${end.current}`)
      const to = Number(r.headers.get('x-lab-end'))
      if (to > end.current) { end.current = to; setText(t => t + r.text) }
    } catch (e) { setErr((e as Error).message) } finally { busy.current = false }
  }
  useEffect(() => {
    let live = true
    end.current = 0
    setText('')
    getText(`/api/experiments/${id}/log?attempt=${attempt}&tail=${TAIL}`).then(r => {
      if (!live) return
      end.current = Number(r.headers.get('x-lab-end'))
      setStart(Number(r.headers.get('x-lab-start')))
      setText(r.text)
    }, (e: Error) => setErr(e.message))
    const off = subscribe({ journal: j => { if (j === id) void more() }, state: () => { void more() } })
    return () => { live = false; off() }
  }, [id, attempt])
  // keep the end in view while following
  useEffect(() => { const el = pre.current; if (el && follow.current) el.scrollTop = el.scrollHeight }, [text])

  const lines = useMemo(() => parseAnsi(text), [text])
  const shown = search ? lines.filter(l => l.map(s => s.text).join('').toLowerCase().includes(search.toLowerCase())) : lines
  return (
    <div class="log">
      <div class="toolbar">
        <input placeholder="search the output" value={search} onInput={e => setSearch((e.target as HTMLInputElement).value)} />
        <span class="muted">{start ? `last ${Math.round((end.current - start) / 1024)} KB of ${Math.round(end.current / 1024)} KB` : `${end.current.toLocaleString()} bytes`}{search ? ` · ${shown.length} matching lines` : ''}{running ? ' · live' : ''}</span>
        {err ? <span class="error"> {err}</span> : null}
      </div>
      <pre ref={pre} class="output" onScroll={e => { const el = e.target as HTMLElement; follow.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 20 }}>
        {!text ? <div class="muted">{running ? '(no output yet)' : '(no output)'}</div> : null}
        {shown.map((l, i) => <div key={i}>{l.length ? l.map((s, k) => s.cls ? <span key={k} class={s.cls}>{s.text}</span> : s.text) : '\u200b'}</div>)}
      </pre>
    </div>
  )
}
