// The `git lab ui` JSON API through app.request, on real labs made by the CLI: shapes shared with --json, listing,
// charts, logs, writes, and the security rules (Host, token, JSON-only writes).
import t from 'tap'
import { makeRepo, lab, labJson, labProcess, labStart, waitFor } from '../helpers.ts'
import { openApp, runJob, TOKEN, PORT } from './helpers.ts'

t.test('list, show, chart and log answer with the CLI --json shapes', async t => {
  const r = makeRepo(t)
  await lab(r, ['init', '--objective', 'loss', '--minimize'])
  const a1 = await runJob(r, 'short run', 20, ['--tag', 'sweep', '--param', 'lr=1e-3'])
  const a2 = await runJob(r, 'long run', 400, ['--param', 'lr=3e-4'])
  await lab(r, ['submit', '-m', 'queued one "warmup"', '--run', 'true', '--tag', 'sweep'])
  const a = await openApp(t, r)

  const page = await a.json('/api/experiments')
  t.equal(page.total, 3)
  // a row is exactly the `log --json` row (without at_head, which depends on the worktree)
  const log = await labJson(r, ['log'])
  const { at_head: _, ...row } = log.find((x: any) => x.id === a2)
  t.same(page.rows.find((x: any) => x.id === a2), row)
  // the objective's best: lowest final loss (1000/400 = 2 in shell arithmetic beats 1000/20 = 50)
  t.equal(page.best, a2)
  const show = await a.json(`/api/experiments/${a1.slice(0, 6)}`)
  const { attempts, ...rest } = show
  t.same(rest, await labJson(r, ['show', a1]))
  t.same(attempts, [{ attempt: 1, runner: show.runner }])

  // filters: status, tag, comparisons on params and metrics, quoted text; sorting by a metric
  const ids = async (q: string, extra = '') => (await a.json(`/api/experiments?q=${encodeURIComponent(q)}${extra}`)).rows.map((x: any) => x.id)
  t.same(await ids('status:succeeded tag:sweep'), [a1])
  t.same(await ids('lr>=1e-3'), [a1])
  t.same(await ids('loss<10'), [a2])
  t.same(await ids('loss.max>=100000'), [a1], 'a series max compares as NAME.max')
  t.equal((await ids('"warmup"')).length, 1)
  t.same(await ids('', '&sort=metric:loss'), [a2, a1, (await ids('status:queued'))[0]])
  t.same(await ids('', '&sort=metric:loss&desc=1'), [a1, a2, (await ids('status:queued'))[0]], 'absent values last either way')
  t.same((await a.json('/api/experiments?offset=1&limit=1')).rows.length, 1)
  const bad = await a.req('/api/experiments?q=' + encodeURIComponent('lr<abc'))
  t.equal(bad.status, 400)
  t.match((await bad.json()).error, /compares numbers/)
  t.equal((await a.req('/api/experiments?sort=nope')).status, 400)
  t.equal((await a.req('/api/experiments/ffffff')).status, 404)

  // the metrics of one run: the `metrics --json` shape
  t.same(await a.json(`/api/experiments/${a1}/metrics`), await labJson(r, ['metrics', a1]))
  // chart data: few points are sent as they are
  const small = await a.json(`/api/chart?ids=${a1}&metric=loss&px=200`)
  t.equal(small.exact, true)
  t.equal(small.x.length, 20)
  t.equal(small.ys[0][9], 100000, 'the spike at step 10')
  // many points at few pixels: min and max per bucket, so the spike survives
  const cut = await a.json(`/api/chart?ids=${a1},${a2}&metric=loss&px=16`)
  t.equal(cut.exact, false)
  t.equal(cut.x.length, 128, '64 buckets (the least per run), 2 values each')
  t.ok(cut.ys[1].includes(5000), 'the spike of the long run (step 200) survives')
  t.equal(Math.min(...cut.ys[1].filter((v: number | null) => v !== null)), 2, 'and its minimum')
  // zoomed: only the range, refetched at full detail
  const zoom = await a.json(`/api/chart?ids=${a2}&metric=loss&px=400&from=100&to=120`)
  t.equal(zoom.exact, true)
  t.same([zoom.x[0], zoom.x[zoom.x.length - 1]], [100, 120])
  t.equal((await a.req(`/api/chart?ids=${a2}&metric=loss&x=sideways`)).status, 400)
  const rel = await a.json(`/api/chart?ids=${a2}&metric=loss&x=relative&px=4000`)
  t.ok(rel.x[0] >= 0 && rel.x[0] < 60, 'relative time starts near 0 s')

  // the log: bytes from an offset, for a live tail
  const lg = await a.req(`/api/experiments/${a1}/log`)
  t.equal(await lg.text(), 'done\n')
  t.equal(lg.headers.get('x-lab-end'), '5')
  t.equal(await (await a.req(`/api/experiments/${a1}/log?from=2`)).text(), 'ne\n')
  t.equal((await a.req(`/api/experiments/${a1}/log?attempt=2`)).status, 404)
})

t.test('writes go through the lab as the CLI writes; a hostile note is data', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  const q = await labJson(r, ['submit', '-m', 'to cancel', '--run', 'true'])
  const a = await openApp(t, r)
  const hostile = '<script>alert(1)</script> & "quotes"'
  let res = await a.post(`/api/experiments/${q.id}/note`, { text: hostile })
  t.equal(res.status, 200)
  t.same((await res.json()).notes.map((n: any) => n.text), [hostile])
  t.same((await labJson(r, ['show', q.id])).notes.map((n: any) => n.text), [hostile], 'the CLI reads the note the UI wrote')
  res = await a.post(`/api/experiments/${q.id}/tag`, { add: ['keep', 'x'], remove: [] })
  t.same((await res.json()).tags, ['keep', 'x'])
  res = await a.post(`/api/experiments/${q.id}/tag`, { add: ['bad tag!'] })
  t.equal(res.status, 400)
  t.match((await res.json()).error, /invalid tag/)
  res = await a.post(`/api/experiments/${q.id}/cancel`, { reason: 'from the page' })
  t.equal((await res.json()).status, 'cancelled')
  t.equal((await a.post(`/api/experiments/${q.id}/cancel`, {})).status, 409)
  res = await a.post(`/api/experiments/${q.id}/retry`, {})
  t.same([(await res.json()).status, (await labJson(r, ['show', q.id])).attempt], ['queued', 2])

  const idea = await (await a.post('/api/ideas', { text: 'wider MLP', tags: ['arch'] })).json()
  const child = await (await a.post('/api/ideas', { text: 'even wider', parents: [idea.id] })).json()
  t.same(child.parents, [idea.id])
  res = await a.post(`/api/ideas/${idea.id}/conclude`, { text: 'width helps' })
  t.same([(await res.json()).status, (await labJson(r, ['idea', 'show', idea.id])).status], ['concluded', 'concluded'])
  t.equal((await a.post(`/api/ideas/${child.id}/conclude`, {})).status, 400, 'a conclusion is required')
  const dag = await a.json('/api/ideas')
  t.same(dag.ideas.map((i: any) => [i.text, i.status, i.experiments]), [['even wider', 'open', 0], ['wider MLP', 'concluded', 0]])
  await a.post('/api/messages', { to: 'all', text: 'hello <b>there</b>' })
  t.same((await a.json('/api/messages')).messages.map((m: any) => m.text), ['hello <b>there</b>'])
  const queue = await a.json('/api/queue')
  t.same(queue.queued.map((e: any) => e.id), [q.id])
})

t.test('security: Host checked, token for writes (and for reads off loopback), JSON-only writes, no CORS', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  const q = await labJson(r, ['submit', '-m', 'x', '--run', 'true'])
  const a = await openApp(t, r)
  // DNS rebinding: a page of evil.example resolving to 127.0.0.1 sends its own Host
  let res = await a.req('/api/experiments', { headers: { host: `evil.example:${PORT}` } })
  t.equal(res.status, 403)
  t.equal((await a.req('/api/experiments', { headers: { host: `127.0.0.1:${PORT + 1}` } })).status, 403)
  t.equal((await a.req('/api/experiments', { headers: { host: `localhost:${PORT}` } })).status, 200)
  // writes need the token
  t.equal((await a.post(`/api/experiments/${q.id}/note`, { text: 'n' }, false)).status, 401)
  res = await a.req(`/api/experiments/${q.id}/note`, { method: 'POST', body: JSON.stringify({ text: 'n' }), headers: { 'content-type': 'application/json', cookie: 'git_lab_token=wrong' } })
  t.equal(res.status, 401)
  res = await a.req(`/api/experiments/${q.id}/note`, { method: 'POST', body: JSON.stringify({ text: 'n' }), headers: { 'content-type': 'application/json', cookie: `git_lab_token=${TOKEN}` } })
  t.equal(res.status, 200, 'the cookie carries it')
  // a form post (no JSON) or another origin is refused even with the cookie
  res = await a.req(`/api/experiments/${q.id}/note`, { method: 'POST', body: 'text=n', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `git_lab_token=${TOKEN}` } })
  t.equal(res.status, 415)
  res = await a.req(`/api/experiments/${q.id}/note`, { method: 'POST', body: '{"text":"n"}', headers: { 'content-type': 'application/json', origin: 'http://evil.example', cookie: `git_lab_token=${TOKEN}` } })
  t.equal(res.status, 403)
  // no CORS headers, ever; a preflight gets nothing that allows it
  res = await a.req('/api/experiments', { headers: { origin: 'http://evil.example' } })
  t.equal(res.headers.get('access-control-allow-origin'), null)
  res = await a.req('/api/experiments', { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } })
  t.equal(res.headers.get('access-control-allow-origin'), null)
  // the printed URL: its token goes into an HttpOnly SameSite=Strict cookie and out of the address
  res = await a.req(`/?token=${TOKEN}`)
  t.equal(res.status, 302)
  t.equal(res.headers.get('location'), '/')
  t.match(res.headers.get('set-cookie'), new RegExp(`git_lab_token=${TOKEN}; Path=/; HttpOnly; SameSite=Strict`))

  // bound to another address: every read needs the token too, and that address is a valid Host
  const b = await openApp(t, r, { host: '10.1.2.3' })
  t.equal((await b.req('/api/experiments', { headers: { host: `10.1.2.3:${PORT}` } })).status, 401)
  t.equal((await b.req('/api/experiments', { headers: { host: `10.1.2.3:${PORT}` }, token: true })).status, 200)
  // --no-token: writes without one
  const c = await openApp(t, r, { token: null })
  t.equal((await c.post(`/api/experiments/${q.id}/note`, { text: 'n' }, false)).status, 200)
})

t.test('the view follows the refs: a submit from another process moves it and emits an event', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  const a = await openApp(t, r)
  const { watchLab } = await import('../../src/ui/watch.ts')
  const w = watchLab(a.view)
  t.teardown(() => w.close())
  let moved = 0
  a.view.once('state', (v: number) => { moved = v })
  const s = await labProcess(r, ['submit', '-m', 'from elsewhere', '--run', 'true'])
  t.equal(s.code, 0)
  // (the watcher's refresh, not a request: nothing here asks the view to refresh)
  t.equal(await waitFor('the state event', () => moved, 10_000), 1)
  t.equal((await a.json('/api/experiments')).rows[0].message, 'from elsewhere')
})

t.test('git lab ui: bad options are one clear line and exit 2; it serves what it prints until interrupted', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  for (const [args, msg] of [
    [['ui', '--port', 'abc'], /--port expects an integer/],
    [['ui', '--port', '70000'], /--port must be from 0 to 65535/],
    [['ui', '--no-token', '--host', '0.0.0.0'], /--no-token is only allowed on a loopback address/],
    [['ui', '--host', 'a b'], /is not an address/],
  ] as Array<[string[], RegExp]>) {
    const res = await lab(r, args)
    t.equal(res.code, 2, args.join(' '))
    t.match(res.err, msg)
    t.equal(res.err.trim().split('\n').length, 1, 'one line')
  }
  const u = makeRepo(t)
  t.equal((await lab(u, ['ui'])).code, 1, 'a repository without a lab: run git lab init')
  const p = labStart(r, ['ui', '--port', '0'])
  const url = await waitFor('the URL', () => /git lab ui: (http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{32})/.exec(p.output().out)?.[1], 30_000)
  const res = await fetch(url.replace(/\?.*/, 'api/experiments'))
  t.equal(res.status, 200)
  t.same((await res.json()).total, 0)
  const busy = await labProcess(r, ['ui', '--port', new URL(url).port])
  t.equal(busy.code, 2)
  t.match(busy.err, /port \d+ is in use/)
  p.child.kill('SIGINT')
  t.equal((await p.result).code, 0, 'Ctrl-C: a clean exit')
})

t.test('artifacts download: a blob from git, a large file kept on this machine (hash checked); an unknown path is a 404, not a download', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  const res = await lab(r, ['run', '-m', 'files', '--run', 'echo small > "$LAB_OUTPUT/small.txt" && head -c 1100000 /dev/zero | tr "\\0" x > "$LAB_OUTPUT/ckpt.bin"'])
  t.equal(res.code, 0, res.err)
  const id = /experiment ([0-9a-f]+)/.exec(res.err)![1]
  const a = await openApp(t, r)
  const small = await a.req(`/api/experiments/${id}/artifact?path=small.txt`)
  t.equal(small.status, 200)
  t.equal(await small.text(), 'small\n')
  const big = await a.req(`/api/experiments/${id}/artifact?path=ckpt.bin`)
  t.equal(big.status, 200)
  t.match(big.headers.get('content-disposition') ?? '', /attachment; filename\*=UTF-8''ckpt\.bin/)
  const body = Buffer.from(await big.arrayBuffer())
  t.equal(body.length, 1100000)
  t.ok(body.every(b => b === 0x78), 'the file kept on this machine, whole')
  const none = await a.req(`/api/experiments/${id}/artifact?path=nope.bin`)
  t.equal(none.status, 404)
  t.notOk(none.headers.get('content-disposition'), 'an error is not a download')
})
