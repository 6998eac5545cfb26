// The write side of the JSON API: the same lab functions the CLI commands call, answered with the same --json shapes.
import type { Context, Hono } from 'hono'
import type { LabView } from './model.ts'
import { cancelExperiment, noteExperiment, tagExperiment } from '../lab/experiments.ts'
import { retryExperiment } from '../lab/runs.ts'
import { createIdea, noteIdea, resolveIdea } from '../lab/ideas.ts'
import { sendMessage } from '../lab/messages.ts'
import { experimentJson, ideaJson, messageJson } from '../lab/json.ts'
import { LocalBackend } from '../dispatch/local.ts'
import { InvalidError } from '../errors.ts'

async function body(c: Context): Promise<Record<string, unknown>> {
  let v: unknown
  try { v = await c.req.json() } catch { throw new InvalidError('the request body is not JSON') }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InvalidError('the request body must be a JSON object')
  return v as Record<string, unknown>
}

const str = (v: unknown, name: string, optional = false): string | undefined => {
  if (v === undefined || v === null) { if (optional) return undefined; throw new InvalidError(`${name} is missing`) }
  if (typeof v !== 'string') throw new InvalidError(`${name} must be a string`)
  return v
}

const strs = (v: unknown, name: string): string[] => {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v) || v.some(x => typeof x !== 'string')) throw new InvalidError(`${name} must be a list of strings`)
  return v as string[]
}

export function writeRoutes(app: Hono, view: LabView) {
  const lab = view.lab
  // Every write refreshes the view before it answers: the page that wrote sees its change at once.
  const done = async <T>(v: T) => { await view.refresh(); return v }

  app.post('/api/experiments/:id/cancel', async c => {
    const b = await body(c)
    const e = await cancelExperiment(lab, c.req.param('id'), str(b.reason, 'reason', true))
    // As `git lab cancel`: a job running here with no worker following it is stopped now.
    const mine = (e.runners[e.attempt]?.writer ?? lab.identity.writer) === lab.identity.writer
    if (mine) await new LocalBackend(lab).stopUnattended(e, 10_000).catch(() => false)
    return c.json(experimentJson(await done(e)))
  })

  app.post('/api/experiments/:id/retry', async c => {
    await body(c)
    return c.json(experimentJson(await done(await retryExperiment(lab, c.req.param('id')))))
  })

  app.post('/api/experiments/:id/tag', async c => {
    const b = await body(c)
    return c.json(experimentJson(await done(await tagExperiment(lab, c.req.param('id'), strs(b.add, 'add'), strs(b.remove, 'remove')))))
  })

  app.post('/api/experiments/:id/note', async c => {
    const b = await body(c)
    return c.json(experimentJson(await done(await noteExperiment(lab, c.req.param('id'), str(b.text, 'text')!))))
  })

  app.post('/api/ideas', async c => {
    const b = await body(c)
    const idea = await createIdea(lab, str(b.text, 'text')!, { parents: strs(b.parents, 'parents'), tags: strs(b.tags, 'tags') })
    return c.json(ideaJson(await done(idea)))
  })

  const resolve = (verb: string, status: 'concluded' | 'abandoned' | 'open') => app.post(`/api/ideas/:id/${verb}`, async c => {
    const b = await body(c)
    return c.json(ideaJson(await done(await resolveIdea(lab, c.req.param('id'), status, str(b.text, 'text', status === 'open') ?? ''))))
  })
  resolve('conclude', 'concluded')
  resolve('abandon', 'abandoned')
  resolve('reopen', 'open')

  app.post('/api/ideas/:id/note', async c => {
    const b = await body(c)
    return c.json(ideaJson(await done(await noteIdea(lab, c.req.param('id'), str(b.text, 'text')!))))
  })

  app.post('/api/messages', async c => {
    const b = await body(c)
    return c.json(messageJson(await done(await sendMessage(lab, str(b.to, 'to')!, str(b.text, 'text')!))))
  })
}
