// `git lab ui` on a lab of 10,000 experiments (4 writers, three params each) plus 100 finished runs of 100,000
// points each: server start to its first API answer, a page of the table sorted and filtered (warm), chart data for
// the 100 runs downsampled to 2,000 px, and the first paint of the experiments view in headless chromium.
//
//   node scripts/bench/ui.mjs [--count 10000] [--runs 100] [--points 100000] [--repeat 10]
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { BIN, emit, ensureBuilt, header, importSrc, isMain, labEnv, ms, summary, table, verdict, workspace } from './lib.mjs'
import { generate, makeLabRepo, queueDraft } from './generate.mjs'

const CHROMIUM = '/usr/bin/chromium'

/** `runs` finished experiments, each with one attempt whose metrics chunk holds `points` points of loss and acc. */
async function finishedRuns(src, cwd, env, runs, points) {
  const { Lab, chunkDraft, statusDraft, MetricBatch } = src
  const lab = await Lab.open({ cwd, env })
  const ids = []
  try {
    const head = await lab.repo.head()
    const t0 = Date.now() - points * 100
    for (let r = 0; r < runs; r++) {
      const q = queueDraft(r, head, true)
      const id = q.entity
      ids.push(id)
      const batch = new MetricBatch()
      for (let i = 0; i < points; i++) {
        const loss = 5 / Math.sqrt(1 + i / 100) + (r % 10) * 0.01 + (i % 9973 === 0 ? 3 : 0) + Math.sin(i / 50) * 0.05
        batch.add(`{"step":${i},"loss":${loss},"time":${(t0 + i * 100) / 1000}}`, 0)
      }
      const drafts = [
        q, statusDraft(id, 1, { status: 'claimed', worker: 'bench', host: 'bench' }), statusDraft(id, 1, { status: 'running' }),
        chunkDraft(lab, id, 1, null, { batch, from: 0, to: points * 60 }), statusDraft(id, 1, { status: 'succeeded', exit_code: 0 }),
      ]
      await lab.write(drafts, `bench run ${id}`)
    }
  } finally { lab.close() }
  return ids
}

function startServer(dir, env) {
  const t0 = performance.now()
  const child = spawn(BIN, ['ui', '--port', '0'], { cwd: dir, env })
  let out = ''
  child.stdout.on('data', b => { out += b })
  return new Promise((resolve, reject) => {
    child.on('exit', code => reject(new Error(`git lab ui exited (${code})`)))
    const poll = setInterval(async () => {
      const m = /git lab ui: (http:\/\/\S+)/.exec(out)
      if (!m) return
      clearInterval(poll)
      const base = m[1].replace(/\?.*$/, '')
      const r = await fetch(`${base}api/experiments?limit=100`)
      await r.arrayBuffer()
      resolve({ child, url: m[1], base, ms: performance.now() - t0 })
    }, 2)
  })
}

export async function main(argv = process.argv.slice(2)) {
  const opt = (name, dflt) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? Number(argv[i + 1]) : dflt }
  const count = opt('count', 10000)
  const runs = opt('runs', 100)
  const points = opt('points', 100000)
  const repeat = opt('repeat', 10)
  ensureBuilt()
  header(`ui: ${count} experiments, ${runs} runs x ${points} points`, `${repeat} runs`)
  const tmp = workspace('lab-bench-ui-')
  const env = labEnv(path.join(tmp, 'home'))
  const dir = makeLabRepo(path.join(tmp, 'repo'), env)
  const src = await importSrc({
    'lab/lab.ts': ['Lab'], 'lab/runs.ts': ['chunkDraft', 'statusDraft'], 'store/chunks.ts': ['MetricBatch'],
    'ui/model.ts': ['LabView'], 'ui/app.ts': ['createApp'],
  }, tmp)
  const g0 = performance.now()
  const gen = await generate({ cwd: dir, env, count: count - runs, writers: 4, batch: 250, tmp, params: true })
  const runIds = await finishedRuns(src, dir, env, runs, points)
  console.log(`generated ${count - runs} queued + ${runs} finished experiments (${gen.commits} + ${runs} commits) in ${ms(performance.now() - g0)}`)
  // one CLI read first: the index is built and saved, as it is on any lab in use
  await new Promise((resolve, reject) => spawn(BIN, ['status'], { cwd: dir, env, stdio: 'ignore' }).on('exit', c => c === 0 ? resolve() : reject(new Error('status failed'))))

  // 1. Server start to its first API answer (a fresh process each time).
  const starts = []
  for (let i = 0; i < Math.max(3, Math.round(repeat / 2)); i++) {
    const s = await startServer(dir, env)
    starts.push(s.ms)
    s.child.kill('SIGINT')
    await new Promise(r => s.child.once('exit', r))
  }
  const start = summary(starts)

  // 2. and 3. in process, through app.request, as the server answers once warm.
  const lab = await src.Lab.open({ cwd: dir, env })
  const view = await src.LabView.open(lab)
  const app = src.createApp(view, { token: 't', port: () => 1, staticDir: null })
  const get = async p => {
    const t0 = performance.now()
    const r = await app.request(p, { headers: { host: '127.0.0.1:1' } })
    const body = await r.arrayBuffer()
    if (r.status !== 200) throw new Error(`${p}: ${r.status} ${Buffer.from(body).toString()}`)
    return { ms: performance.now() - t0, bytes: body.byteLength, json: () => JSON.parse(Buffer.from(body).toString()) }
  }
  const listQ = `/api/experiments?q=${encodeURIComponent('status:queued tag:sweep lr>=1e-3')}&sort=param:lr&desc=1&limit=100`
  const first = await get(listQ)
  const rows = first.json()
  const listWarm = []
  for (let i = 0; i < repeat; i++) listWarm.push((await get(listQ)).ms)
  // a new sort or filter each time (not cached): the cost of a click on a column header
  const listNew = []
  for (let i = 0; i < repeat; i++) listNew.push((await get(`/api/experiments?q=${encodeURIComponent(`status:queued wd>=0.${i % 5}`)}&sort=${i % 2 ? 'message' : 'param:wd'}&limit=100`)).ms)

  const chartQ = `/api/chart?ids=${runIds.join(',')}&metric=loss&x=step&px=2000`
  const cold = await get(chartQ)
  const chart = cold.json()
  const chartWarm = []
  let chartBytes = 0
  for (let i = 0; i < repeat; i++) { const r = await get(chartQ); chartWarm.push(r.ms); chartBytes = r.bytes }
  const zoomWarm = []
  for (let i = 0; i < repeat; i++) zoomWarm.push((await get(`/api/chart?ids=${runIds.join(',')}&metric=loss&x=step&px=2000&from=${i * 1000}&to=${i * 1000 + 20000}`)).ms)
  lab.close()

  // 4. First paint of the experiments view in headless chromium, server running.
  let paint = null
  if (existsSync(CHROMIUM)) {
    const { chromium } = await import('playwright-core')
    const s = await startServer(dir, env)
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'] })
    const paints = []
    try {
      for (let i = 0; i < Math.max(3, Math.round(repeat / 2)); i++) {
        const page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
        const t0 = performance.now()
        await page.goto(s.url)
        await page.locator('.row[data-id]').first().waitFor()
        paints.push(performance.now() - t0)
        await page.close()
      }
    } finally {
      await browser.close()
      s.child.kill('SIGINT')
    }
    paint = summary(paints)
  }

  table(`git lab ui on ${count} experiments (median of ${repeat})`, [
    ['server start to first API answer (git lab ui, GET /api/experiments)', start],
    [`list: 100 rows, filtered + sorted, warm (${rows.total} match)`, summary(listWarm)],
    ['list: 100 rows, a new filter and sort each time', summary(listNew)],
    [`chart: ${runs} runs x ${points} points -> 2000 px, first (reads the chunks)`, cold.ms],
    [`chart: same, warm (${(chartBytes / 1e6).toFixed(2)} MB, ${chart.x.length} x values, ${chart.points} points in)`, summary(chartWarm)],
    ['chart: zoomed range (20,000 steps) of the same runs', summary(zoomWarm)],
    ...(paint ? [['first paint of the experiments view (chromium, token URL to first row)', paint]] : []),
  ])
  console.log()
  const goals = [
    verdict('server start to first API answer', start.median, 500),
    verdict('list 100 rows sorted + filtered, warm', summary(listWarm).median, 10),
    verdict('chart data 100 x 100k -> 2000 px, warm', summary(chartWarm).median, 100),
    verdict('chart data size', chartBytes / 1e6, 0.5, 'MB'),
    ...(paint ? [verdict('first paint, experiments view', paint.median, 1500)] : []),
  ]
  const result = { count, runs, points, start, listWarm: summary(listWarm), listNew: summary(listNew), chartCold: cold.ms, chartWarm: summary(chartWarm), chartBytes, zoom: summary(zoomWarm), paint, goals }
  emit('ui', result)
  return result
}

if (isMain(import.meta.url)) await main()
