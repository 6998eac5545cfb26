// The read side of the JSON API. Shapes are the CLI's --json shapes (src/lab/json.ts); views of several records
// (a page of the table, the DAG, the queue) wrap them.
import type { Hono } from 'hono'
import type { LabView, CachedSeries } from './model.ts'
import { experimentJson, experimentShowJson, ideaJson, messageJson, metricsJson } from '../lab/json.ts'
import { resolveId } from '../lab/ids.ts'
import { readOutput } from '../lab/journal.ts'
import { diffExperiment } from '../lab/experiments.ts'
import { viewMessages } from '../lab/messages.ts'
import { status } from '../lab/sync.ts'
import { labTrust, untrustedReason } from '../lab/trust.ts'
import { artifactsOf, fetchArtifacts } from '../lab/artifacts.ts'
import { hostFiles } from '../dispatch/ssh/host-files.ts'
import { mkdtemp, rm } from 'node:fs/promises'
import { createReadStream } from 'node:fs'
import { Readable } from 'node:stream'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { InvalidError, NotFoundError } from '../errors.ts'
import { align, ascending, type RunPoints } from './downsample.ts'
import { bestOf, newestFirst } from './table.ts'
import { queueJson } from './queue.ts'
import type { Experiment } from '../store/state.ts'

const MAX_LOG_BYTES = 2 * 1024 * 1024

function intParam(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined || v === '') return undefined
  const n = Number(v)
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`)
  return n
}

function numParam(name: string, v: string | undefined): number {
  if (v === undefined || v === '') return NaN
  const n = Number(v)
  if (!Number.isFinite(n)) throw new InvalidError(`${name} must be a number, got ${JSON.stringify(v)}`)
  return n
}

export function experimentOf(view: LabView, id: string): Experiment {
  return view.state.experiments[resolveId('experiment', view.state.experiments, id)]
}

function attemptOf(e: Experiment, v: string | undefined): number {
  const a = intParam('attempt', v, 1, 1_000_000) ?? e.attempt
  if (a > e.attempt) throw new NotFoundError(`${e.id} has attempts 1 to ${e.attempt}`)
  return a
}

export function ideasJson(view: LabView) {
  const s = view.state
  const by = new Map<string, Experiment[]>()
  for (const e of view.all()) if (e.idea) { const l = by.get(e.idea) ?? []; l.push(e); by.set(e.idea, l) }
  const objective = s.config.objective
  const ideas = Object.values(s.ideas).sort(newestFirst).map(i => {
    const list = by.get(i.id) ?? []
    const best = bestOf(list, objective)
    return {
      ...ideaJson(i), experiments: list.length,
      best: best && objective ? { id: best, metric: objective.metric, value: s.experiments[best].metrics[objective.metric] } : null,
    }
  })
  return { objective, ideas }
}

export function chartJson(runs: Array<{ e: Experiment; attempt: number; s: CachedSeries | undefined }>, metric: string, xKind: string, px: number, from: number, to: number) {
  const points: RunPoints[] = runs.map(({ e, s }) => {
    if (!s) return { x: [], y: [] }
    if (xKind === 'step') return s.byStep
    const byTime = (s as CachedSeries & { byTime?: RunPoints }).byTime ??= ascending(s.time.map(t => t / 1000), s.value)
    if (xKind === 'time') return byTime
    const t0 = e.started_at ? Date.parse(e.started_at) / 1000 : byTime.x[0] ?? 0
    return { x: Array.from(byTime.x, t => t - t0), y: byTime.y }
  })
  const a = align(points, px, from, to)
  return {
    metric, x_axis: xKind, exact: a.exact, points: a.points,
    runs: runs.map(({ e, attempt, s }) => ({ id: e.id, attempt, message: e.message, status: e.status, count: s?.value.length ?? 0 })),
    x: a.x, ys: a.ys,
  }
}

export function readRoutes(app: Hono, view: LabView) {
  const lab = view.lab

  app.get('/api/status', async c => {
    const s = await status(lab)
    return c.json({ ...s, version: view.version, columns: view.columns() })
  })

  app.get('/api/experiments', c => {
    const q = c.req.query()
    const page = view.list({
      q: q.q ?? '', sort: q.sort || null, desc: q.desc === '1' || q.desc === 'true',
      offset: intParam('offset', q.offset, 0, 1e9), limit: intParam('limit', q.limit, 0, 1000),
    })
    return c.json({ version: view.version, total: page.total, offset: page.offset, best: page.best, objective: view.state.config.objective, columns: view.columns(), rows: page.rows.map(experimentJson) })
  })

  app.get('/api/experiments/:id', c => {
    const e = experimentOf(view, c.req.param('id'))
    const attempts = Array.from({ length: e.attempt }, (_, i) => ({ attempt: i + 1, runner: e.runners[i + 1] ?? null }))
    return c.json({ ...experimentShowJson(e, untrustedReason(labTrust(lab), e)), attempts })
  })

  app.get('/api/experiments/:id/log', async c => {
    const e = experimentOf(view, c.req.param('id'))
    const attempt = attemptOf(e, c.req.query('attempt'))
    const tail = intParam('tail', c.req.query('tail'), 0, MAX_LOG_BYTES)
    const from = intParam('from', c.req.query('from'), 0, 2 ** 50) ?? 0
    const r = await readOutput(lab, e, attempt, from)
    let start = from
    let data = r.data
    if (tail !== undefined && data.length > tail) {
      // from the first line that starts in the last `tail` bytes
      let cut = data.length - tail
      const nl = data.indexOf(0x0a, cut)
      cut = nl >= 0 && nl + 1 < data.length ? nl + 1 : cut
      start += cut
      data = data.subarray(cut)
    }
    if (data.length > MAX_LOG_BYTES) data = data.subarray(0, MAX_LOG_BYTES)
    c.header('X-Lab-Start', String(start))
    c.header('X-Lab-End', String(start + data.length))
    c.header('X-Lab-Live', r.live ? '1' : '0')
    c.header('X-Lab-Attempt', String(attempt))
    c.header('Content-Type', 'text/plain; charset=utf-8')
    return c.body(new Uint8Array(data))
  })

  app.get('/api/experiments/:id/metrics', async c => {
    const e = experimentOf(view, c.req.param('id'))
    const attempt = attemptOf(e, c.req.query('attempt'))
    const s = await view.seriesOf(e, attempt)
    return c.json(metricsJson(e.id, attempt, e.metrics_skipped, Object.keys(s).sort().map(k => [k, s[k]])))
  })

  app.get('/api/experiments/:id/diff', async c => {
    const e = experimentOf(view, c.req.param('id'))
    return c.json({ id: e.id, base: e.base, commit: e.commit, patch: await diffExperiment(lab, e.id, { color: false }) })
  })

  app.get('/api/experiments/:id/artifact', async c => {
    const e = experimentOf(view, c.req.param('id'))
    const attempt = attemptOf(e, c.req.query('attempt'))
    const p = c.req.query('path') ?? ''
    const a = artifactsOf(e, attempt).find(x => x.path === p)
    if (!a) throw new NotFoundError(`${e.id} attempt ${attempt} has no artifact ${JSON.stringify(p)}`)
    const name = p.split('/').pop() || 'artifact'
    const download = () => {
      c.header('Content-Type', 'application/octet-stream')
      c.header('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent(name)}`)
    }
    if (!a.blob) {
      // Kept on the host that ran it: fetched as `git lab artifacts` does (only where git lab keeps artifacts, this
      // machine or an SSH host of the lab, its hash checked), into a folder of its own that goes once it is sent.
      const tmp = await mkdtemp(path.join(tmpdir(), 'lab-artifact-'))
      const hosts = hostFiles(lab)
      try {
        const r = await fetchArtifacts(lab, e, attempt, { paths: [p], dir: tmp, force: true, shown: f => f, remote: hosts.remote })
        if (!r.written.length) throw new NotFoundError(r.failed[0]?.reason ?? `${p}: not fetched`)
        const stream = createReadStream(r.written[0].file)
        download()
        stream.on('close', () => { void rm(tmp, { recursive: true, force: true }) })
        return c.body(Readable.toWeb(stream) as ReadableStream)
      } catch (err) {
        await rm(tmp, { recursive: true, force: true })
        throw err
      } finally { hosts.close() }
    }
    const obj = await lab.repo.catFile.read(a.blob, 64 * 1024 * 1024)
    if (!obj?.data) throw new NotFoundError(`artifact blob ${a.blob} is missing here: run 'git lab sync'`)
    download()
    return c.body(new Uint8Array(obj.data))
  })

  app.get('/api/chart', async c => {
    const q = c.req.query()
    const ids = (q.ids ?? '').split(',').filter(Boolean)
    if (!ids.length || ids.length > 200) throw new InvalidError('ids: give 1 to 200 experiment ids, comma-separated')
    const metric = q.metric ?? ''
    if (!metric) throw new InvalidError('metric: give a metric name')
    const xKind = q.x ?? 'step'
    if (!['step', 'time', 'relative'].includes(xKind)) throw new InvalidError('x must be step, time or relative')
    const px = intParam('px', q.px, 16, 8192) ?? 1000
    const runs = await Promise.all(ids.map(async id => {
      const e = experimentOf(view, id)
      const attempt = e.attempt
      const all = await view.seriesOf(e, attempt)
      return { e, attempt, s: Object.hasOwn(all, metric) ? all[metric] : undefined }
    }))
    return c.json(chartJson(runs, metric, xKind, px, numParam('from', q.from), numParam('to', q.to)))
  })

  app.get('/api/ideas', c => c.json(ideasJson(view)))

  app.get('/api/ideas/:id', c => {
    const s = view.state
    const i = s.ideas[resolveId('idea', s.ideas, c.req.param('id'))]
    return c.json({ ...ideaJson(i), experiments: view.all().filter(e => e.idea === i.id).map(experimentJson) })
  })

  app.get('/api/messages', c => c.json({ messages: viewMessages(lab, view.state, { all: true }).map(messageJson) }))

  app.get('/api/queue', c => c.json(queueJson(view.state, labTrust(lab))))
}
