// git lab show ID
import type { Ctx } from '../io.ts'
import { json } from '../io.ts'
import { withLab } from '../open.ts'
import { getExperiment } from '../../lab/experiments.ts'
import { experimentShowJson } from '../../lab/json.ts'
import { labTrust, untrustedReason } from '../../lab/trust.ts'
import { list, table } from '../format.ts'

const num = (v: number | undefined) => v === undefined ? '-' : String(Number(v.toPrecision(6)))

export async function run(ctx: Ctx, args: string[], o: Record<string, unknown>) {
  const { e, untrusted } = await withLab(ctx, async lab => {
    const e = await getExperiment(lab, args[0])
    return { e, untrusted: untrustedReason(labTrust(lab), e) }
  })
  if (o.json) return json(ctx.io, experimentShowJson(e, untrusted))
  // Only a queued experiment is still up to this clone's workers; the reason says why they leave it alone.
  const held = e.status === 'queued' && untrusted ? `; ${untrusted}` : ''
  const rows: Array<[string, string | number | null]> = [
    ['status', e.status + (e.reason ? ` (${e.reason})` : '') + held], ['run', e.run], ['setup', e.setup], ['commit', e.commit],
    ['base', e.base], ['idea', e.idea], ['priority', e.priority], ['tags', list(e.tags)], ['sweep', e.sweep], ['depends on', list(e.depends_on)],
    ['gpus', e.gpus], ['timeout', e.timeout === null ? null : `${e.timeout}s`], ['attempt', e.attempt], ['author', e.author],
    ['writer', e.writer], ['created', e.created_at], ['started', e.started_at], ['finished', e.finished_at], ['exit code', e.exit_code],
  ]
  let t = `experiment ${e.id}\n${e.message}\n\n`
  t += rows.filter(([, v]) => v !== null && v !== '').map(([k, v]) => `${(k + ':').padEnd(12)}${v}\n`).join('')
  const runner = e.runners[e.attempt]
  if (runner) t += `${'runner:'.padEnd(12)}${runner.worker} on ${runner.host || '?'} (writer ${runner.writer})\n`
  if (e.output_bytes) t += `${'output:'.padEnd(12)}${e.output_bytes} bytes ('git lab logs ${e.id}')${e.output_dropped ? `; ${e.output_dropped} more not recorded (lab.maxOutput)` : ''}\n`
  const params = Object.keys(e.params)
  // As given: the job gets this text in LAB_PARAM_<NAME> (and the number it reads as in $LAB_PARAMS).
  if (params.length) t += '\nparams:\n' + table(params.map(k => ['  ' + k, e.params[k]]))
  const names = [...new Set([...Object.keys(e.metrics), ...Object.keys(e.series)])].sort()
  if (names.length) {
    t += '\nmetrics:\n' + table(names.map(k => {
      const s = e.series[k]
      return ['  ' + k, num(e.metrics[k]), s ? num(s.min) : '-', s ? num(s.max) : '-', s ? String(s.count) : '-', s ? String(s.last_step) : '-']
    }), ['  NAME', 'FINAL', 'MIN', 'MAX', 'POINTS', 'LAST STEP'])
  }
  if (e.metrics_skipped) t += `  (${e.metrics_skipped} malformed metrics line${e.metrics_skipped === 1 ? '' : 's'} skipped)\n`
  const arts = e.artifacts.filter(a => a.attempt === e.attempt)
  if (arts.length) {
    t += '\nartifacts:\n' + table(arts.map(a => ['  ' + a.path, String(a.size), a.blob ? `blob ${a.blob.slice(0, 12)}` : `on ${runner?.host || 'the host'}: ${a.location ?? '(not kept)'}`]))
  }
  if (e.notes.length) t += '\nnotes:\n' + e.notes.map(n => `  ${n.time}  ${n.author}\n    ${n.text.replace(/\n/g, '\n    ')}\n`).join('')
  ctx.io.out(t)
}
