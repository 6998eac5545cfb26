// Browser test helpers: Debian's chromium driven by playwright-core, `git lab ui` started as a user starts it,
// canvases checked by their pixels, screenshots saved to .tap/screenshots for a person to look at.
import { existsSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { labStart, waitFor, ROOT } from '../helpers.ts'

interface Teardown { teardown(fn: () => void | Promise<void>): void }

export const CHROMIUM = '/usr/bin/chromium'
export const hasChromium = existsSync(CHROMIUM)
export const SHOTS = path.join(ROOT, '.tap', 'screenshots')

export async function launch(t: Teardown): Promise<Browser> {
  const b = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  })
  t.teardown(() => b.close())
  return b
}

/** `git lab ui --port 0` in the repo; resolves with the printed URL (with its token) once it serves. */
export async function startUi(t: Teardown, repo: { dir: string; env: NodeJS.ProcessEnv }, args: string[] = []) {
  const p = labStart(repo, ['ui', '--port', '0', ...args])
  t.teardown(async () => { p.child.kill('SIGINT'); await p.result })
  const url = await waitFor('the printed URL', () => /git lab ui: (http:\/\/\S+)/.exec(p.output().out)?.[1], 30_000)
  return { url, base: url.replace(/\?.*$/, ''), child: p.child, result: p.result, output: p.output }
}

/** `git lab ui` on the repo and a chromium page opened on its token URL; `errors` collects the page's script errors. */
export async function openPage(t: Teardown, repo: { dir: string; env: NodeJS.ProcessEnv }) {
  const ui = await startUi(t, repo)
  const browser = await launch(t)
  const page = await browser.newPage({ viewport: { width: 1400, height: 850 } })
  const errors: string[] = []
  page.on('pageerror', e => errors.push(e.message))
  await page.goto(ui.url)
  return { ui, browser, page, errors }
}

/** Pixels of the canvases under `selector` that are coloured (saturated: a series or a node, not the grid or text). */
export function colouredPixels(page: Page, selector: string): Promise<number> {
  return page.evaluate(sel => {
    let n = 0
    for (const c of Array.from(document.querySelectorAll(`${sel} canvas`)) as HTMLCanvasElement[]) {
      const ctx = c.getContext('2d')
      if (!ctx || !c.width || !c.height) continue
      const d = ctx.getImageData(0, 0, c.width, c.height).data
      for (let i = 0; i < d.length; i += 4) {
        if (d[i + 3] > 100 && Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 60) n++
      }
    }
    return n
  }, selector)
}

export async function shot(page: Page, name: string): Promise<string> {
  mkdirSync(SHOTS, { recursive: true })
  const file = path.join(SHOTS, `${name}.png`)
  await page.screenshot({ path: file })
  return file
}
