// One experiment: everything `git lab show` has, its log (live), its metrics charted, artifacts, the code diff,
// notes, and cancel / retry / tag / note.
import { useEffect, useState } from 'preact/hooks'
import { get, post, useVersion } from '../../lib/api'
import { go, href, type Route } from '../../lib/route'
import { dur, num, short, STATUS_COLORS, time } from '../../lib/format'
import { Chart } from '../chart'
import { LogView } from '../log-view'

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled', 'timed_out', 'lost'])

export function ExperimentPage({ route }: { route: Route }) {
  const id = route.arg
  const version = useVersion()
  const [e, setE] = useState<any>(null)
  const [err, setErr] = useState<string | null>(null)
  const [diff, setDiff] = useState<string | null>(null)
  useEffect(() => { get(`/api/experiments/${encodeURIComponent(id)}`).then(x => { setE(x); setErr(null) }, (x: Error) => setErr(x.message)) }, [id, version])
  if (!e) return <div class="page">{err ? <p class="error">{err}</p> : 'loading…'}</div>
  const attempt = Number(route.params.get('attempt') ?? e.attempt)
  const act = async (path: string, body: unknown) => {
    try { await post(`/api/experiments/${e.id}/${path}`, body); setE(await get(`/api/experiments/${e.id}`)); setErr(null) } catch (x) { setErr((x as Error).message) }
  }
  const names = [...new Set([...Object.keys(e.metrics), ...Object.keys(e.series)])].sort()
  const fields: Array<[string, any]> = [
    ['status', <span style={{ color: STATUS_COLORS[e.status] }}>{e.status}{e.reason ? ` (${e.reason})` : ''}</span>],
    ['run', <code class="pre">{e.run}</code>], ['setup', e.setup ? <code class="pre">{e.setup}</code> : null],
    ['commit', e.commit], ['base', e.base], ['idea', e.idea ? <a href={href('ideas', e.idea)}>{short(e.idea)}</a> : null],
    ['priority', e.priority], ['tags', e.tags.join(' ')], ['sweep', e.sweep],
    ['depends on', e.depends_on.length ? e.depends_on.map((d: string) => <a key={d} href={href('experiment', d)}>{short(d)} </a>) : null],
    ['gpus', e.gpus], ['timeout', e.timeout ? `${e.timeout}s` : null], ['attempt', e.attempt], ['author', e.author], ['writer', e.writer],
    ['runner', e.runner ? `${e.runner.worker} on ${e.runner.host || '?'} (writer ${e.runner.writer})` : null],
    ['timeline', <span class="timeline">{[['queued', e.created_at], [e.runner ? 'started' : null, e.started_at], [TERMINAL.has(e.status) ? e.status : null, e.finished_at]]
      .filter(([k, v]) => k && v).map(([k, v], i) => <span key={i}>{i ? ' → ' : ''}<b style={{ color: STATUS_COLORS[k as string] }}>{k}</b> {time(v as string).slice(11)}</span>)}{!TERMINAL.has(e.status) ? <> → <b style={{ color: STATUS_COLORS[e.status] }}>{e.status}</b></> : null}</span>],
    ['created', time(e.created_at)], ['started', time(e.started_at)], ['finished', time(e.finished_at)], ['duration', dur(e)],
    ['exit code', e.exit_code], ['untrusted', e.untrusted_reason],
  ]
  return (
    <div class="page experiment">
      <div class="page-head">
        <a href={href('experiments')}>← experiments</a>
        <h1><code>{e.id}</code> <span class="pre">{e.message}</span></h1>
        <div class="actions">
          {!TERMINAL.has(e.status) ? <button onClick={() => { const reason = prompt('Reason to cancel?', ''); if (reason !== null) void act('cancel', { reason: reason || undefined }) }}>Cancel</button> : <button onClick={() => void act('retry', {})}>Retry</button>}
          <button onClick={() => { const t = prompt('Tags: +add -remove', ''); if (t) void act('tag', { add: t.split(/\s+/).filter(x => x.startsWith('+')).map(x => x.slice(1)), remove: t.split(/\s+/).filter(x => x.startsWith('-')).map(x => x.slice(1)) }) }}>Tag</button>
          <button onClick={() => go(href('charts', '', { ids: e.id }))}>Open in charts</button>
        </div>
        {err ? <p class="error">{err}</p> : null}
      </div>
      <div class="cols">
        <section>
          <table class="fields"><tbody>{fields.filter(([, v]) => v !== null && v !== '' && v !== undefined).map(([k, v]) => <tr key={k}><th>{k}</th><td>{v}</td></tr>)}</tbody></table>
          {e.attempts.length > 1 ? <p>attempts: {e.attempts.map((a: any) => <a key={a.attempt} class={a.attempt === attempt ? 'active' : ''} href={href('experiment', e.id, { attempt: a.attempt === e.attempt ? null : a.attempt })}> #{a.attempt}{a.runner ? ` (${a.runner.host})` : ''}</a>)}</p> : null}
          {Object.keys(e.params).length ? <><h3>Params</h3><table class="fields"><tbody>{Object.entries(e.params).map(([k, v]) => <tr key={k}><th>{k}</th><td>{String(v)}</td></tr>)}</tbody></table></> : null}
          {names.length ? <><h3>Metrics</h3><table class="fields"><thead><tr><th /><th>final</th><th>min</th><th>max</th><th>points</th><th>last step</th></tr></thead>
            <tbody>{names.map(k => <tr key={k}><th>{k}</th><td>{num(e.metrics[k])}</td><td>{num(e.series[k]?.min)}</td><td>{num(e.series[k]?.max)}</td><td>{e.series[k]?.count ?? ''}</td><td>{e.series[k]?.last_step ?? ''}</td></tr>)}</tbody></table></> : null}
          {e.artifacts.length ? <><h3>Artifacts</h3><ul class="plain">{e.artifacts.map((a: any) => <li key={a.path}>{a.blob || a.location ? <a href={`api/experiments/${e.id}/artifact?attempt=${e.attempt}&path=${encodeURIComponent(a.path)}`} download>{a.path}</a> : <span>{a.path}</span>}{!a.blob ? <span class="muted"> (on the host that ran it: {a.location ?? 'not kept'})</span> : null} <span class="muted">{a.size.toLocaleString()} bytes</span></li>)}</ul></> : null}
          <h3>Notes</h3>
          {e.notes.map((n: any, i: number) => <div key={i} class="note"><div class="muted">{n.author} · {time(n.time)}</div><div class="pre">{n.text}</div></div>)}
          <form class="inline" onSubmit={ev => { ev.preventDefault(); const f = ev.target as HTMLFormElement; const t = (f.elements.namedItem('text') as HTMLTextAreaElement).value; void act('note', { text: t }).then(() => f.reset()) }}>
            <textarea name="text" rows={2} placeholder="add a note" /> <button>Add note</button>
          </form>
        </section>
        <section class="wide">
          {Object.keys(e.series).length ? <div class="chart-grid">{Object.keys(e.series).sort().slice(0, 6).map(m => <Chart key={m} ids={[e.id]} metric={m} x={route.params.get('x') ?? 'step'} log={false} smooth={0} height={200} />)}</div> : null}
          <h3>Output</h3>
          <LogView id={e.id} attempt={attempt} running={!TERMINAL.has(e.status)} />
          <h3>Code <button onClick={async () => { try { setDiff((await get(`/api/experiments/${e.id}/diff`)).patch || '(no change against its base)') } catch (x) { setDiff(`(${(x as Error).message})`) } }}>{diff === null ? 'show diff' : 'reload'}</button></h3>
          {diff !== null ? <pre class="diff">{diff.split('\n').map((l, i) => <div key={i} class={l.startsWith('+') && !l.startsWith('+++') ? 'add' : l.startsWith('-') && !l.startsWith('---') ? 'del' : l.startsWith('@@') ? 'hunk' : ''}>{l || '\u200b'}</div>)}</pre> : null}
        </section>
      </div>
    </div>
  )
}
