// The git lab viewer: one page, views chosen by the URL hash. Data comes only through lib/api.ts.
import { render } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import 'uplot/dist/uPlot.min.css'
import './style.css'
import { useRoute, href } from './lib/route'
import { isExport, subscribe } from './lib/api'
import { ExperimentsTable } from './components/experiments-table'
import { ChartsView } from './components/charts-view'
import { IdeaDag } from './components/idea-dag'
import { ExperimentPage } from './components/experiment-page'
import { QueueView } from './components/queue-view'
import { MessagesView } from './components/messages-view'

const VIEWS: Array<[string, string]> = [['experiments', 'Experiments'], ['charts', 'Charts'], ['ideas', 'Ideas'], ['queue', 'Queue'], ['messages', 'Messages']]

function Live() {
  const [live, setLive] = useState<boolean | null>(null)
  useEffect(() => subscribe({ status: setLive }), [])
  if (isExport()) return <span class="live off" title="a static snapshot">snapshot</span>
  return <span class={`live ${live ? 'on' : 'off'}`} title={live ? 'live: changes show as they happen' : 'not connected'}>{live ? 'live' : live === null ? '…' : 'offline'}</span>
}

function App() {
  const r = useRoute()
  const view = r.view === 'experiment' ? 'experiments' : r.view
  return (
    <div class="app">
      <header>
        <a class="brand" href={href('experiments')}>git lab</a>
        <nav>{VIEWS.map(([v, label]) => <a key={v} href={href(v)} class={view === v ? 'active' : ''}>{label}</a>)}</nav>
        <Live />
      </header>
      <main>
        {r.view === 'experiments' ? <ExperimentsTable route={r} />
          : r.view === 'charts' ? <ChartsView route={r} />
          : r.view === 'ideas' ? <IdeaDag route={r} />
          : r.view === 'experiment' ? <ExperimentPage route={r} />
          : r.view === 'queue' ? <QueueView />
          : r.view === 'messages' ? <MessagesView />
          : <p class="error">no such view: {r.view}</p>}
      </main>
    </div>
  )
}

render(<App />, document.getElementById('app')!)
