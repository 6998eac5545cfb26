// git lab host add|remove|check|trust NAME ...
import type { Ctx } from '../io.ts'
import { json } from '../io.ts'
import { withLab, many, text, int } from '../open.ts'
import { addHost, getHost, removeHost } from '../../lab/hosts.ts'
import { hostJson } from './hosts.ts'
import { checkHost, offeredKey } from '../../dispatch/ssh/check.ts'
import { resolveTarget } from '../../dispatch/ssh/connect.ts'
import { checkKey, readKnownHosts, trustKey } from '../../dispatch/ssh/known-hosts.ts'
import { LabError, StateError, UsageError } from '../../errors.ts'

export async function run(ctx: Ctx, args: string[], o: Record<string, unknown>) {
  const [verb, name, ...rest] = args
  if (verb === 'add') {
    if (rest.length !== 1) throw new UsageError('usage: git lab host add NAME [user@]host[:port] [--gpus N|auto] [--workdir DIR] [--jobs N] [--tag T]...')
    const h = await withLab(ctx, lab => addHost(lab, name, {
      target: rest[0], gpus: text(o.gpus), workdir: text(o.workdir), jobs: int('jobs', o.jobs), tags: many(o.tag),
    }))
    if (o.json) return json(ctx.io, hostJson(h))
    ctx.io.out(`host ${h.name} added; check it with: git lab host check ${h.name}\n`)
    return
  }
  if (rest.length) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`)
  if (verb === 'remove') {
    await withLab(ctx, lab => removeHost(lab, name))
    if (o.json) return json(ctx.io, { name, removed: true })
    ctx.io.out(`host ${name} removed\n`)
    return
  }
  if (verb === 'check') {
    const steps = await withLab(ctx, async lab => checkHost(lab, await getHost(lab, name)))
    const ok = steps.every(s => s.ok)
    if (o.json) json(ctx.io, { name, ok, steps: steps.map(s => ({ step: s.step, ok: s.ok, detail: s.detail, fix: s.fix ?? null })) })
    else for (const s of steps) ctx.io.out(`${s.ok ? 'ok  ' : 'FAIL'} ${s.step.padEnd(10)} ${s.detail}${!s.ok && s.fix ? `\n     fix: ${s.fix}` : ''}\n`)
    return ok ? 0 : 1
  }
  if (verb === 'trust') {
    const r = await withLab(ctx, async lab => {
      const t = await resolveTarget(lab, await getHost(lab, name))
      const blob = await offeredKey(t, lab)
      const k = checkKey(await readKnownHosts(t.home), t.hostname, t.port, blob)
      const want = text(o.fingerprint)
      if (want !== undefined && want !== k.fingerprint) throw new LabError(`${name} offers ${k.type} ${k.fingerprint}, not ${want}: not trusted`)
      if (k.verdict === 'changed') throw new StateError(`the host key of ${name} CHANGED (now ${k.type} ${k.fingerprint}): not trusted. Find out why; to replace it, remove the old one first (ssh-keygen -R ${t.port === 22 ? t.hostname : `'[${t.hostname}]:${t.port}'`})`)
      if (k.verdict === 'revoked') throw new StateError(`the host key of ${name} (${k.fingerprint}) is revoked in known_hosts: not trusted`)
      const file = k.verdict === 'known' ? null : await trustKey(t.home, t.hostname, t.port, blob)
      return { type: k.type, fingerprint: k.fingerprint, file, host: t.hostname, port: t.port }
    })
    if (o.json) return json(ctx.io, { name, key_type: r.type, fingerprint: r.fingerprint, added: r.file !== null })
    ctx.io.out(r.file ? `${name} (${r.host}:${r.port}) offers ${r.type} ${r.fingerprint}: added to ${r.file}\n` : `${name}: ${r.type} ${r.fingerprint} is already trusted\n`)
    return
  }
  throw new UsageError(`unknown verb ${JSON.stringify(verb)}: git lab host add|remove|check|trust NAME`)
}
