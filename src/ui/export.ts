// git lab ui --export DIR: the same pages with their data written beside them, opened from disk with no server.
// Lists go to data/lab.js, each experiment's details (show, the end of its log, its diff, its series cut to ~4,000
// points) to data/e/ID.js; both are scripts, since a page opened from disk may not fetch files.
import { mkdir, readFile, writeFile, readdir, rm } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import path from 'node:path'
import type { Lab } from '../lab/lab.ts'
import { experimentShowJson, experimentJson, messageJson } from '../lab/json.ts'
import { readOutput } from '../lab/journal.ts'
import { viewMessages } from '../lab/messages.ts'
import { labTrust, untrustedReason } from '../lab/trust.ts'
import { status } from '../lab/sync.ts'
import { StateError, UsageError } from '../errors.ts'
import { LabView } from './model.ts'
import { ideasJson } from './routes-read.ts'
import { queueJson } from './queue.ts'
import { clientDir } from './serve.ts'
import { keepIndices } from './downsample.ts'

const LOG_TAIL = 256 * 1024

/** JSON that is also a safe script literal (no `</script>`, no line separators that end a JS string). */
const script = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')

export async function exportSite(lab: Lab, dir: string, cwd: string): Promise<{ files: number; experiments: number; dir: string }> {
  const out = path.resolve(cwd, dir)
  const client = clientDir()
  if (!client) throw new StateError('the viewer is not built into this copy of git lab (dist/ui is missing)')
  if (existsSync(out) && (await readdir(out)).some(f => !['index.html', 'app.js', 'app.css', 'data'].includes(f))) {
    throw new UsageError(`${dir} exists and holds other files: give an empty or new folder`)
  }
  await rm(path.join(out, 'data'), { recursive: true, force: true })
  await mkdir(path.join(out, 'data', 'e'), { recursive: true })
  const view = await LabView.open(lab)
  const s = view.state
  const trust = labTrust(lab)
  const html = (await readFile(path.join(client, 'index.html'), 'utf8')).replace('<!--data-->', '<script src="data/lab.js"></script>')
  await writeFile(path.join(out, 'index.html'), html)
  for (const f of ['app.js', 'app.css']) await writeFile(path.join(out, f), await readFile(path.join(client, f)))
  const all = view.all()
  const data = {
    status: { ...(await status(lab)), exported_at: new Date(view.now()).toISOString(), columns: view.columns() },
    experiments: all.map(experimentJson),
    ideas: ideasJson(view),
    messages: { messages: viewMessages(lab, s, { all: true }).map(messageJson) },
    queue: queueJson(s, trust),
  }
  await writeFile(path.join(out, 'data', 'lab.js'), `window.__LAB_EXPORT__ = ${script(data)};\n`)
  // A diff per distinct (base, commit): a sweep shares one.
  const diffs = new Map<string, string>()
  let files = 4
  for (const e of all) {
    // (ids are checked by the store as [a-z0-9_-]: safe as file names; checked again here, as this names a file)
    if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(e.id)) continue
    const key = `${e.base}..${e.commit}`
    let patch: string | null = null
    if (e.commit) {
      if (!diffs.has(key)) diffs.set(key, e.base === e.commit ? '' : await lab.repo.diff(e.base, e.commit).catch(() => ''))
      patch = diffs.get(key)!
    }
    const r = e.output_bytes || e.chunks.length ? await readOutput(lab, e, e.attempt).catch(() => null) : null
    let log = r ? r.data.subarray(Math.max(0, r.data.length - LOG_TAIL)).toString('utf8') : ''
    if (r && r.data.length > LOG_TAIL) log = log.slice(log.indexOf('\n') + 1)
    const metrics: Record<string, { step: number[]; value: number[]; time: number[] }> = {}
    if (Object.keys(e.series).length) {
      for (const [k, ser] of Object.entries(await view.seriesOf(e, e.attempt))) {
        const idx = keepIndices(ser.byStep.y, 2000)
        const bytime = ser.step === ser.byStep.x
        metrics[k] = { step: idx.map(i => ser.byStep.x[i]), value: idx.map(i => ser.byStep.y[i]), time: bytime ? idx.map(i => ser.time[i]) : idx.map(() => 0) }
      }
    }
    const show = { ...experimentShowJson(e, untrustedReason(trust, e)), attempts: Array.from({ length: e.attempt }, (_, i) => ({ attempt: i + 1, runner: e.runners[i + 1] ?? null })) }
    const detail = { show, log, diff: e.commit ? { id: e.id, base: e.base, commit: e.commit, patch } : null, metrics }
    await writeFile(path.join(out, 'data', 'e', `${e.id}.js`), `__labExport(${script(e.id)}, ${script(detail)});\n`)
    files++
  }
  return { files, experiments: all.length, dir: out }
}
