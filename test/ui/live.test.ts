// `git lab ui` live in a real Chromium: a submit and a running job in other processes show without a reload; a
// cancel from the page reaches the CLI; messages and the queue as they change.
import t from 'tap'
import { makeRepo, lab, labJson, labProcess, labStart, waitFor } from '../helpers.ts'
import { hasChromium, openPage, shot } from './browser.ts'

t.test('changes from other processes show live', { skip: !hasChromium }, async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  await lab(r, ['submit', '-m', 'first', '--run', 'true'])
  const { ui, page, errors } = await openPage(t, r)
  await page.locator('.row[data-id]').first().waitFor()

  // Live: a submit from another terminal shows in the open table without reload
  await page.goto(`${ui.base}#/experiments`)
  await page.locator('.row[data-id]').first().waitFor()
  const s = await labProcess(r, ['submit', '-m', 'submitted elsewhere', '--run', 'true'])
  t.equal(s.code, 0)
  await page.locator('.row', { hasText: 'submitted elsewhere' }).waitFor({ timeout: 15_000 }).catch(e => { throw new Error(`${e.message}\nui stderr: ${ui.output().err}`) })

  // Live: a job running in another process: its status and its output as they come
  const job = labStart(r, ['run', '-m', 'live job', '--run', 'echo first; sleep 2; echo "\\033[31msecond\\033[0m"; sleep 60'])
  t.teardown(() => { job.child.kill('SIGKILL') })
  const running = await waitFor('the job running', async () => (await labJson(r, ['log', '--status', 'running']))[0]?.id, 30_000)
  await page.locator('.row', { hasText: 'live job' }).locator('.status', { hasText: 'running' }).waitFor({ timeout: 15_000 })
  await page.goto(`${ui.base}#/experiment/${running}`)
  await page.locator('.output', { hasText: 'first' }).waitFor({ timeout: 15_000 })
  await page.locator('.output .fg1', { hasText: 'second' }).waitFor({ timeout: 15_000 })
  await shot(page, 'experiment-live')
  // Cancel from the page: a write through the lab, seen by the CLI
  page.removeAllListeners('dialog')
  page.once('dialog', d => void d.accept('stopped from the page'))
  await page.locator('button', { hasText: 'Cancel' }).click()
  await waitFor('cancelled', async () => (await labJson(r, ['show', running])).status === 'cancelled', 30_000)
  t.equal((await labJson(r, ['show', running])).reason, 'stopped from the page')

  // A chart of a running job extends as the job reports, without reload
  const metrics = labStart(r, ['run', '-m', 'reporting job', '--run', 'i=1; while [ $i -le 400 ]; do echo "{\\"step\\": $i, \\"loss\\": $((1000 / i))}" >> "$LAB_METRICS"; i=$((i+1)); sleep 0.05; done'])
  t.teardown(() => { metrics.child.kill('SIGKILL') })
  const reporting = await waitFor('the reporting job running', async () => (await labJson(r, ['log', '--status', 'running'])).find((e: any) => e.message === 'reporting job')?.id, 30_000)
  await page.goto(`${ui.base}#/charts?ids=${reporting}&m=loss`)
  const points = async () => Number(/([\d,]+) points/.exec((await page.locator('.chart-head').first().textContent()) ?? '')?.[1].replace(/,/g, '') ?? 0)
  const first = await waitFor('some points charted', points, 30_000)
  await waitFor('more points charted', async () => (await points()) > first + 20, 30_000)
  t.ok((await points()) > first, `the chart extended past ${first} points`)
  // and its x axis with it (uPlot draws its ticks on the canvas: the range shown is on the element)
  const xMax = async () => Number(await page.locator('.chart-box').first().getAttribute('data-x-max'))
  await waitFor('the x axis extended', async () => (await xMax()) >= (await points()) - 10 && (await points()) > first + 20, 30_000)
  await shot(page, 'chart-live')

  // Queue and messages views
  await labProcess(r, ['msg', 'send', '--to', 'all', 'hello <b>team</b>'])
  await page.goto(`${ui.base}#/messages`)
  await page.locator('.message .pre', { hasText: 'hello <b>team</b>' }).waitFor()
  await shot(page, 'messages')
  await page.goto(`${ui.base}#/queue`)
  await page.locator('h2', { hasText: 'Queued' }).waitFor()
  t.match(await page.locator('.queue').textContent(), /submitted elsewhere/)
  await shot(page, 'queue')
  t.same(errors, [])
})
