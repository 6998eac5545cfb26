// Queue and workers: what runs where, what waits and for what.
import { useGet, useVersion } from '../../lib/api'
import { href } from '../../lib/route'
import { ago, dur, short, STATUS_COLORS } from '../../lib/format'

export function QueueView() {
  const version = useVersion()
  const { data, error } = useGet('/api/queue', [version])
  if (error) return <p class="error">{error}</p>
  if (!data) return <p>loading…</p>
  return (
    <div class="page queue">
      <h2>Workers ({data.workers.length})</h2>
      {data.workers.length ? <table class="list"><thead><tr><th>worker</th><th>host</th><th>writer</th><th>running</th></tr></thead>
        <tbody>{data.workers.map((w: any) => <tr key={`${w.writer}${w.worker}${w.host}`}><td>{w.worker}</td><td>{w.host}</td><td>{w.writer}</td>
          <td>{w.running.map((id: string) => <a key={id} href={href('experiment', id)}>{short(id)} </a>)}</td></tr>)}</tbody></table> : <p class="muted">No worker is running anything.</p>}
      <h2>Running ({data.running.length})</h2>
      {data.running.length ? <table class="list"><thead><tr><th>id</th><th>status</th><th>message</th><th>where</th><th>started</th><th>for</th></tr></thead>
        <tbody>{data.running.map((e: any) => <tr key={e.id}><td><a href={href('experiment', e.id)}>{short(e.id)}</a></td><td style={{ color: STATUS_COLORS[e.status] }}>{e.status}</td>
          <td>{e.message}</td><td>{e.runner ? `${e.runner.worker} on ${e.runner.host}` : ''}</td><td>{ago(e.started_at)}</td><td>{dur(e)}</td></tr>)}</tbody></table> : <p class="muted">Nothing runs.</p>}
      <h2>Queued ({data.queued.length})</h2>
      {data.queued.length ? <table class="list"><thead><tr><th>#</th><th>id</th><th>prio</th><th>message</th><th>gpus</th><th>waiting for</th><th>queued</th></tr></thead>
        <tbody>{data.queued.slice(0, 500).map((e: any, i: number) => <tr key={e.id}><td>{i + 1}</td><td><a href={href('experiment', e.id)}>{short(e.id)}</a></td><td>{e.priority}</td>
          <td>{e.message}</td><td>{e.gpus}</td><td>{e.waiting_for.join('; ') || 'a free worker'}</td><td>{ago(e.created_at)}</td></tr>)}</tbody></table> : <p class="muted">The queue is empty.</p>}
      {data.queued.length > 500 ? <p class="muted">… and {data.queued.length - 500} more (<a href={href('experiments', '', { q: 'status:queued' })}>all of them in the table</a>)</p> : null}
    </div>
  )
}
