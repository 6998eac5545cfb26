// git lab ui --export DIR: a static snapshot that opens from disk, with no server, in a real Chromium.
import t from 'tap'
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { makeRepo, lab, tempDir } from '../helpers.ts'
import { runJob } from './helpers.ts'
import { hasChromium, launch, colouredPixels, shot } from './browser.ts'

t.test('the export holds the pages and the data, and opens from disk', async t => {
  const r = makeRepo(t)
  await lab(r, ['init', '--objective', 'loss', '--minimize'])
  const idea = (await lab(r, ['idea', 'new', 'an idea </script><script>alert(1)</script>'])).out.trim()
  const a = await runJob(r, 'first', 50, ['--idea', idea])
  const b = await runJob(r, 'second', 80, ['--idea', idea])
  const hostile = '</script><script>window.__pwned=1</script>'
  await lab(r, ['note', a, hostile])
  const out = path.join(tempDir(t), 'site')
  const res = await lab(r, ['ui', '--export', out])
  t.equal(res.code, 0, res.err)
  t.match(res.out, /wrote 6 files \(2 experiments\)/)
  for (const f of ['index.html', 'app.js', 'app.css', 'data/lab.js', `data/e/${a}.js`, `data/e/${b}.js`]) t.ok(existsSync(path.join(out, f)), f)
  t.notMatch(readFileSync(path.join(out, `data/e/${a}.js`), 'utf8'), /<\/script>/, 'no text can end a script')
  // again into the same folder: fine; into a folder of other files: refused
  t.equal((await lab(r, ['ui', '--export', out])).code, 0)
  const other = path.join(tempDir(t), 'other')
  mkdirSync(other)
  writeFileSync(path.join(other, 'keep.txt'), 'mine')
  const refused = await lab(r, ['ui', '--export', other])
  t.equal(refused.code, 2)
  t.match(refused.err, /holds other files/)
  t.equal((await lab(r, ['ui', '--export'])).code, 2)

  if (!hasChromium) return
  const browser = await launch(t)
  const page = await browser.newPage({ viewport: { width: 1300, height: 800 } })
  const errors: string[] = []
  page.on('pageerror', e => errors.push(e.message))
  page.on('dialog', d => { errors.push(`dialog: ${d.message()}`); void d.dismiss() })
  const url = pathToFileURL(path.join(out, 'index.html')).href
  await page.goto(url)
  await page.locator('.row[data-id]').first().waitFor()
  t.equal(await page.locator('.row[data-id]').count(), 2)
  t.equal(await page.locator('.row.best').getAttribute('data-id'), b)
  t.equal(await page.locator('.live').textContent(), 'snapshot')
  await page.goto(`${url}#/experiments?q=${encodeURIComponent('loss<15')}`)
  await page.waitForFunction(() => document.querySelectorAll('.row[data-id]').length === 1)
  await page.goto(`${url}#/experiment/${a}`)
  await page.locator('.note .pre').first().waitFor()
  t.equal(await page.locator('.note .pre').first().textContent(), hostile)
  await page.locator('.output', { hasText: 'done' }).waitFor()
  await page.waitForFunction(() => document.querySelectorAll('.chart-box canvas').length > 0)
  await page.waitForTimeout(300)
  t.ok((await colouredPixels(page, '.chart-box')) > 100, 'its charts draw from the exported series')
  await page.goto(`${url}#/charts?ids=${a},${b}&m=loss`)
  await page.locator('.chart-box canvas').first().waitFor()
  await page.waitForTimeout(300)
  t.ok((await colouredPixels(page, '.chart-box')) > 200)
  await shot(page, 'export-charts')
  await page.goto(`${url}#/ideas`)
  await page.locator('.dag canvas').first().waitFor()
  await page.waitForTimeout(300)
  t.ok((await colouredPixels(page, '.dag')) > 500)
  t.same(errors, [])
})
