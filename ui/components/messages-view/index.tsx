// Messages between the people and agents of the lab, newest first; send one.
import { useState } from 'preact/hooks'
import { post, useGet, useVersion } from '../../lib/api'
import { time } from '../../lib/format'

export function MessagesView() {
  const version = useVersion()
  const { data, error } = useGet('/api/messages', [version])
  const [err, setErr] = useState<string | null>(null)
  return (
    <div class="page messages">
      <form class="inline" onSubmit={async e => {
        e.preventDefault()
        const f = e.target as HTMLFormElement
        const v = (n: string) => (f.elements.namedItem(n) as HTMLInputElement).value
        try { await post('/api/messages', { to: v('to') || 'all', text: v('text') }); f.reset(); setErr(null) } catch (x) { setErr((x as Error).message) }
      }}>
        <input name="to" placeholder="to (writer, agent, role or all)" size={24} /> <input name="text" placeholder="message" size={60} /> <button>Send</button>
        {err ? <span class="error"> {err}</span> : null}
      </form>
      {error ? <p class="error">{error}</p> : null}
      {data && !data.messages.length ? <p class="muted">No messages yet.</p> : null}
      {data?.messages.map((m: any) => (
        <div key={m.id} class={`message ${m.unread ? 'unread' : ''}`}>
          <div class="muted"><b>{m.from}</b> → <b>{m.to}</b> · {time(m.created_at)}{m.read_by.length ? ` · read by ${m.read_by.join(', ')}` : ''}</div>
          <div class="pre">{m.text}</div>
        </div>
      ))}
    </div>
  )
}
