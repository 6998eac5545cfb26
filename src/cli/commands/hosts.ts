// git lab hosts: the lab's SSH hosts, and (unless --offline) whether each answers now, its GPUs and jobs, free disk.
import type { Ctx } from '../io.ts'
import { json } from '../io.ts'
import { withLab } from '../open.ts'
import { listHosts } from '../../lab/hosts.ts'
import type { Host, State } from '../../store/state.ts'
import { SshBackend } from '../../dispatch/ssh/backend.ts'
import { lastSeen } from '../../dispatch/ssh/last-seen.ts'
import type { Lab } from '../../lab/lab.ts'

export const hostJson = (h: Host) => ({
  name: h.name, address: h.address, user: h.user, port: h.port, gpus: h.gpus, workdir: h.workdir, jobs: h.jobs, tags: h.tags,
  updated_at: h.updated_at,
})

interface Live { reachable: boolean; error: string | null; last_seen: string | null; gpus: number | null; jobs_running: number | null; free_disk: number | null }

const ACTIVE = new Set(['claimed', 'setting_up', 'running'])
/** What the records say runs on each host now: experiments and the GPUs they asked for. */
function busy(s: State): Map<string, { jobs: number; gpus: number }> {
  const m = new Map<string, { jobs: number; gpus: number }>()
  for (const e of Object.values(s.experiments)) {
    const h = ACTIVE.has(e.status) ? e.runners[e.attempt]?.host : undefined
    if (!h || !s.hosts[h]) continue
    const b = m.get(h) ?? { jobs: 0, gpus: 0 }
    b.jobs++
    b.gpus += e.gpus
    m.set(h, b)
  }
  return m
}

const LIVE = `
cd "$1" 2>/dev/null || { echo jobs=0; exit 0; }
n=0; for d in runs/*/; do [ -s "$d/pid" ] && [ ! -s "$d/exit" ] && n=$((n + 1)); done; echo jobs=$n
df -Pk . | tail -1 | awk '{ print "disk=" $4 * 1024 }'
`

async function live(lab: Lab, b: SshBackend): Promise<Live> {
  try {
    const { root } = await b.hello()
    const [gpus, r] = await Promise.all([b.gpus(), b.sh(LIVE, [root])])
    const kv = Object.fromEntries(r.stdout.toString('utf8').trim().split('\n').map(l => l.split('=')))
    return { reachable: true, error: null, last_seen: new Date().toISOString(), gpus: gpus.length, jobs_running: Number(kv.jobs) || 0, free_disk: Number(kv.disk) || null }
  } catch (e) {
    return { reachable: false, error: (e as Error).message, last_seen: await lastSeen(lab, b.host.name), gpus: null, jobs_running: null, free_disk: null }
  }
}

export async function run(ctx: Ctx, _args: string[], o: Record<string, unknown>) {
  const rows = await withLab(ctx, async lab => {
    const hosts = await listHosts(lab)
    const used = busy(await lab.state())
    return Promise.all(hosts.map(async h => {
      const u = used.get(h.name) ?? { jobs: 0, gpus: 0 }
      if (o.offline) return { h, l: null, u }
      const b = new SshBackend(lab, h)
      try { return { h, l: await live(lab, b), u } } finally { b.close() }
    }))
  })
  if (o.json) return json(ctx.io, rows.map(({ h, l, u }) => ({ ...hostJson(h), ...(l ?? {}), gpus_busy: u.gpus, experiments_running: u.jobs })))
  if (!rows.length) { ctx.io.out("no hosts yet: git lab host add NAME [user@]host[:port]\n"); return }
  for (const { h, l, u } of rows) {
    const where = `${h.user ? `${h.user}@` : ''}${h.address}${h.port ? `:${h.port}` : ''}`
    const state = !l ? '' : l.reachable ? `up, GPUs ${u.gpus}/${l.gpus} busy, ${l.jobs_running} running, ${l.free_disk === null ? '?' : (l.free_disk / 1024 ** 3).toFixed(1)} GiB free` : `DOWN${l.last_seen ? ` (last reached ${l.last_seen.slice(0, 19).replace('T', ' ')} UTC)` : ' (never reached from this clone)'}: ${l.error}`
    ctx.io.out(`${h.name.padEnd(16)} ${where.padEnd(28)} ${h.tags.length ? `[${h.tags.join(',')}] ` : ''}${state}\n`)
  }
}
