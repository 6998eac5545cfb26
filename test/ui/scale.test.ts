// A lab of 10,000 experiments opens in the viewer: the table is virtualized (a few dozen rows in the DOM), scrolls
// to the last row, sorts and filters all of them.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { makeRepo, lab } from '../helpers.ts'
import { Lab } from '../../src/lab/lab.ts'
import { hasChromium, launch, openPage, shot, startUi, colouredPixels } from './browser.ts'

const COUNT = 10_000

/** COUNT queued experiments in 40 writes, shaped as `git lab submit --param` writes them (scripts/bench/generate.mjs). */
async function generate(repo: { dir: string; env: NodeJS.ProcessEnv }) {
  const l = await Lab.open({ cwd: repo.dir, env: repo.env })
  try {
    const head = await l.repo.head()
    for (let i = 0; i < COUNT; i += 250) {
      const drafts = []
      for (let j = i; j < i + 250; j++) {
        drafts.push({
          type: 'experiment.queue', entity: randomBytes(6).toString('hex'),
          payload: {
            message: `sweep ${j}`, run: `python train.py --seed ${j}`, setup: null, commit: head, base: head, idea: null,
            priority: j % 10 === 0 ? 5 : 0, tags: j % 3 === 0 ? ['sweep', 'third'] : ['sweep'], depends_on: [], gpus: 0, timeout: null,
            params: { lr: `${1 + (j % 9)}e-4`, seed: String(j) },
          },
        })
      }
      await l.write(drafts, `${drafts.length} experiments`)
    }
  } finally { l.close() }
}

t.test('10,000 experiments: the table opens, scrolls to the end, sorts and filters', { skip: !hasChromium }, async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  await generate(r)
  const ui = await startUi(t, r)
  const browser = await launch(t)
  const page = await browser.newPage({ viewport: { width: 1400, height: 850 } })
  const t0 = Date.now()
  await page.goto(ui.url)
  await page.locator('.row[data-id]').first().waitFor({ timeout: 30_000 })
  t.comment(`first row after ${Date.now() - t0} ms`)
  t.equal(await page.locator('.count').textContent(), '10,000 experiments')
  const inDom = await page.locator('.row').count()
  t.ok(inDom > 10 && inDom < 120, `virtualized: ${inDom} rows in the DOM`)
  await shot(page, 'scale-top')
  // to the very end: the last rows are fetched as they come into view
  await page.locator('.tbody').evaluate(el => { el.scrollTop = el.scrollHeight })
  // The last row is one of the first write's (oldest first; in one write, by id): sweep 0 to 249.
  const last = () => page.locator('.row[data-id]').evaluateAll(els => {
    const bottom = els.sort((x, y) => parseFloat((y as HTMLElement).style.top) - parseFloat((x as HTMLElement).style.top))[0] as HTMLElement
    return { top: parseFloat(bottom.style.top), text: bottom.textContent }
  })
  await page.waitForFunction(() => [...document.querySelectorAll('.row[data-id]')].some(r => parseFloat((r as HTMLElement).style.top) === 9999 * 30), undefined, { timeout: 30_000 })
  const end = await last()
  t.equal(end.top, 9999 * 30)
  t.ok(Number(/sweep (\d+)/.exec(end.text ?? '')?.[1]) < 250, `the last row is of the first write: ${end.text}`)
  await shot(page, 'scale-bottom')
  // sort by a param over all 10,000, descending: the 9e-4 ones first
  await page.goto(`${ui.base}#/experiments?sort=param%3Alr&desc=1&cols=id,status,message,param:lr`)
  await page.waitForFunction(() => [...document.querySelectorAll('.row[data-id]')].slice(0, 5).every(r => r.textContent!.includes('0.0009')), undefined, { timeout: 30_000 })
  await page.goto(`${ui.base}#/experiments?q=${encodeURIComponent('tag:third lr<=2e-4')}`)
  await page.locator('.count', { hasText: /^[\d,]+ experiments$/ }).waitFor()
  await page.waitForFunction(() => document.querySelector('.count')!.textContent !== '10,000 experiments', undefined, { timeout: 30_000 })
  const n = Number((await page.locator('.count').textContent())!.replace(/\D/g, ''))
  // j % 3 == 0 and (j % 9) in {0, 1}: j % 9 == 0 only (j % 9 == 1 is never a multiple of 3)
  t.equal(n, Math.ceil(COUNT / 9))
})

t.test('500 ideas: the DAG lays out in layers and draws', { skip: !hasChromium }, async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  const l = await Lab.open({ cwd: r.dir, env: r.env })
  const ids = Array.from({ length: 500 }, () => randomBytes(6).toString('hex'))
  try {
    // a tree three wide, plus a second parent every 7th idea (a DAG, not a tree); parents written first
    await l.write(ids.map((id, i) => ({
      type: 'idea.create', entity: id,
      payload: { text: `idea ${i}: ${['wider', 'deeper', 'rope', 'lr warmup', 'dropout'][i % 5]}`, tags: [], parents: i ? [...new Set([ids[Math.floor((i - 1) / 3)], ...(i % 7 === 0 && i > 10 ? [ids[i - 5]] : [])])] : [] },
    })), '500 ideas')
  } finally { l.close() }
  const { ui, page, errors } = await openPage(t, r)
  await page.goto(`${ui.base}#/ideas`)
  await page.locator('.muted', { hasText: '500 ideas' }).waitFor({ timeout: 30_000 })
  await page.waitForFunction(() => document.querySelectorAll('.dag canvas').length > 0)
  await page.waitForTimeout(500)
  t.ok((await colouredPixels(page, '.dag')) > 2000, 'nodes drawn')
  await shot(page, 'ideas-500')
  // a deep link opens one idea's panel
  await page.goto(`${ui.base}#/ideas/${ids[499]}`)
  await page.locator('.panel h2', { hasText: 'idea 499' }).waitFor()
  t.same(errors, [])
})
