// `git lab ui` in a real Chromium: each view renders with data (charts and the DAG checked by their pixels),
// filters and sorting, a hostile note shown as text, the token enforced. Screenshots land in .tap/screenshots.
// (live.test.ts: changes from other processes; scale.test.ts: 10,000 experiments)
import t from 'tap'
import { makeRepo, lab, labJson, waitFor } from '../helpers.ts'
import { runJob } from './helpers.ts'
import { hasChromium, launch, startUi, colouredPixels, shot } from './browser.ts'

if (!hasChromium) t.fail('chromium is not installed at /usr/bin/chromium (.ci/run installs it)')

t.test('every view renders with data; filter, sort, charts, DAG, hostile text, token', { skip: !hasChromium }, async t => {
  const r = makeRepo(t)
  await lab(r, ['init', '--objective', 'loss', '--minimize'])
  const root = (await lab(r, ['idea', 'new', 'baseline'])).out.trim()
  const wide = (await lab(r, ['idea', 'new', 'wider MLP', '--parent', root])).out.trim()
  await lab(r, ['idea', 'new', 'rotary', '--parent', root])
  const a = await runJob(r, 'short run', 30, ['--idea', wide, '--param', 'lr=1e-3', '--tag', 'sweep'])
  const b = await runJob(r, 'long run', 300, ['--idea', wide, '--param', 'lr=3e-4'])
  const hostile = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
  await lab(r, ['note', a, hostile])
  const ui = await startUi(t, r)
  const browser = await launch(t)
  const page = await browser.newPage({ viewport: { width: 1400, height: 850 } })
  const errors: string[] = []
  page.on('pageerror', e => errors.push(e.message))
  page.on('dialog', d => { errors.push(`dialog: ${d.message()}`); void d.dismiss() })

  // Without the token: reads work on loopback, writes are refused with the reason shown
  await page.goto(`${ui.base}#/experiment/${a}`)
  await page.locator('textarea[name=text]').fill('no token')
  await page.locator('button', { hasText: 'Add note' }).click()
  await page.locator('.error', { hasText: 'a token is required' }).waitFor()
  // The printed URL: the token moves into a cookie and out of the address bar
  await page.goto(ui.url)
  t.notMatch(page.url(), /token=/)
  t.same((await page.context().cookies()).map(c => [c.name, c.httpOnly, c.sameSite]), [['git_lab_token', true, 'Strict']])

  // Experiments table: rows, the best marked, sort by a column, filter
  await page.locator('.row[data-id]').first().waitFor()
  t.equal(await page.locator('.row[data-id]').count(), 2)
  t.equal(await page.locator('.row.best').getAttribute('data-id'), b, 'lowest final loss is marked best')
  await shot(page, 'experiments')
  const order = () => page.locator('.row[data-id]').evaluateAll(els => els.sort((x, y) => parseFloat((x as HTMLElement).style.top) - parseFloat((y as HTMLElement).style.top)).map(e => e.getAttribute('data-id')))
  await page.locator('.cell.h', { hasText: /^loss/ }).click()
  await waitFor('sorted by loss', async () => JSON.stringify(await order()) === JSON.stringify([b, a]))
  await page.locator('.cell.h', { hasText: /^loss/ }).click()
  await waitFor('sorted by loss, descending', async () => JSON.stringify(await order()) === JSON.stringify([a, b]))
  t.match(page.url(), /sort=metric%3Aloss&desc=1|desc=1&sort=metric%3Aloss/, 'the sort is in the URL')
  await page.locator('input.filter').fill('lr>=1e-3 tag:sweep')
  await page.locator('input.filter').press('Enter')
  await waitFor('filtered', async () => (await page.locator('.row[data-id]').count()) === 1)
  t.equal(await page.locator('.row[data-id]').getAttribute('data-id'), a)
  await page.locator('input.filter').fill('lr<oops')
  await page.locator('input.filter').press('Enter')
  await page.locator('.count .error', { hasText: 'compares numbers' }).waitFor()

  // Charts: both runs overlaid, drawn (pixels), a second metric, log axis and smoothing from the URL
  await page.goto(`${ui.base}#/charts?ids=${a},${b}&m=loss,acc&ema=0.6&log=1`)
  await page.locator('.chart-box canvas').nth(1).waitFor()
  await waitFor('chart lines drawn', async () => (await colouredPixels(page, '.chart-box[data-metric=loss]')) > 300)
  t.ok((await colouredPixels(page, '.chart-box[data-metric=acc]')) > 300, 'the acc chart is drawn too')
  t.equal(await page.locator('.chart').count(), 2)
  await shot(page, 'charts')
  // Ctrl+wheel zooms around the pointer (a plain wheel scrolls the page); Shift+wheel pans the zoomed window
  const loss = page.locator('.chart-box[data-metric=loss]')
  const range = async (): Promise<[number, number]> => [Number(await loss.getAttribute('data-x-min')), Number(await loss.getAttribute('data-x-max'))]
  const [min0, max0] = await waitFor('the x range', async () => { const r = await range(); return r[1] > r[0] ? r : null })
  const pointAtChart = async () => {
    await loss.scrollIntoViewIfNeeded()
    const over = (await page.locator('.chart-box[data-metric=loss] .u-over').boundingBox())!
    await page.mouse.move(over.x + over.width / 2, over.y + over.height / 2)
  }
  await pointAtChart()
  await page.mouse.wheel(0, 100)
  t.same(await range(), [min0, max0], 'a plain wheel leaves the chart as it is')
  await pointAtChart() // (the page may have scrolled)
  await page.keyboard.down('Control')
  await page.mouse.wheel(0, -100)
  await page.mouse.wheel(0, -100)
  await page.keyboard.up('Control')
  const [min1, max1] = await waitFor('zoomed in', async () => { const r = await range(); return r[1] - r[0] < (max0 - min0) * 0.7 ? r : null })
  t.ok(min1 > min0 && max1 < max0, `the window narrowed around the pointer: ${min0}-${max0} -> ${min1}-${max1}`)
  await page.locator('.chart-head', { hasText: 'zoomed' }).first().waitFor()
  await page.keyboard.down('Shift')
  await page.mouse.wheel(0, 100)
  await page.keyboard.up('Shift')
  const [min2, max2] = await waitFor('panned', async () => { const r = await range(); return r[0] > min1 ? r : null })
  t.ok(Math.abs((max2 - min2) - (max1 - min1)) < (max1 - min1) * 0.01, 'panning keeps the width')
  await waitFor('refetched at full detail', async () => /points$| points ·/.test(await page.locator('.chart-head').first().innerText()))
  await loss.dblclick()
  await waitFor('reset', async () => { const r = await range(); return r[1] - r[0] >= (max0 - min0) * 0.99 })

  // Idea DAG: nodes drawn on Cytoscape's canvas; a click opens the idea
  await page.goto(`${ui.base}#/ideas`)
  await page.locator('.dag canvas').first().waitFor()
  await waitFor('DAG drawn', async () => (await colouredPixels(page, '.dag')) > 2000)
  await shot(page, 'ideas')
  await page.goto(`${ui.base}#/ideas/${wide}`)
  await page.locator('.panel h2', { hasText: 'wider MLP' }).waitFor()
  t.equal(await page.locator('.panel li').count(), 2, 'its two experiments')
  await shot(page, 'idea-panel')

  // Experiment page: the hostile note is characters, nothing ran
  await page.goto(`${ui.base}#/experiment/${a}`)
  await page.locator('.note .pre').first().waitFor()
  t.equal(await page.locator('.note .pre').first().textContent(), hostile)
  t.equal(await page.evaluate(() => (window as any).__pwned ?? null), null)
  t.equal(await page.locator('.note img').count(), 0)
  await page.locator('.output', { hasText: 'done' }).waitFor()
  await waitFor('its chart drawn', async () => (await colouredPixels(page, '.experiment .chart-box')) > 100)
  await page.locator('textarea[name=text]').fill('looks good')
  await page.locator('button', { hasText: 'Add note' }).click()
  await page.locator('.note .pre', { hasText: 'looks good' }).waitFor()
  t.same((await labJson(r, ['show', a])).notes.map((n: any) => n.text), [hostile, 'looks good'])
  await shot(page, 'experiment')

  t.same(errors, [], 'no page errors, no dialogs opened by content')
})

t.test('bound to another address: every page and API call needs the token', { skip: !hasChromium }, async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  // 127.0.0.2 is loopback on Linux but not the default address: the server treats it as "elsewhere"
  const ui = await startUi(t, r, ['--host', '127.0.0.2'])
  const browser = await launch(t)
  const page = await browser.newPage()
  const res = await page.goto(ui.base)
  t.equal(res?.status(), 401)
  const ok = await page.goto(ui.url)
  t.equal(ok?.status(), 200)
  t.equal((await page.request.get(`${ui.base}api/experiments`)).status(), 200, 'the cookie carries the token')
})
