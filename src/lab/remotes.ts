// Lab remotes: the remotes whose lab refs this clone reads, the refspecs that make one, and the migration of clones
// set up by earlier versions (which fetched lab refs into refs/remotes/<remote>/lab/, where a branch named `lab` breaks
// plain fetches and any remote's branches named lab/w/* were read as writers).
import type { Repo } from '../git/repo.ts'
import { REMOTES_PREFIX } from '../store/layout.ts'

/** What `git lab init` adds to remote.<name>.fetch: writer logs and claims, each into refs/lab/remotes/<name>/. */
export const labRefspecs = (remote: string) => [
  `+refs/lab/w/*:${REMOTES_PREFIX}${remote}/w/*`,
  `+refs/lab/claims/*:${REMOTES_PREFIX}${remote}/claims/*`,
]
/** The refspec of versions before 0.2. */
export const oldLabRefspec = (remote: string) => `+refs/lab/*:refs/remotes/${remote}/lab/*`

/** The config keys Lab.open reads: lab.*, user.* and every remote's fetch refspecs (to know the lab remotes). */
export const CONFIG_KEYS = '^(lab|user)\\.|^remote\\..*\\.fetch$'

/** remote name -> its fetch refspecs, from config entries remote.<name>.fetch. */
function fetchSpecs(config: Map<string, string[]>): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const [k, v] of config) {
    const m = /^remote\.(.+)\.fetch$/.exec(k)
    if (m) out.set(m[1], v)
  }
  return out
}

/** The remotes whose fetch refspecs bring lab records (what `git lab init` sets up). */
export function labRemotesOf(config: Map<string, string[]>): Set<string> {
  const out = new Set<string>()
  for (const [r, specs] of fetchSpecs(config)) if (specs.includes(labRefspecs(r)[0])) out.add(r)
  return out
}

/**
 * Moves a clone from the old refspec to the new ones: config first, then the fetched refs (writer logs and claims)
 * into refs/lab/remotes/<remote>/ in one transaction, so nothing fetched before is lost, online or not.
 * Returns the remotes migrated; `config` is updated in place.
 */
export async function migrateRemotes(repo: Repo, config: Map<string, string[]>): Promise<string[]> {
  const done: string[] = []
  for (const [r, specs] of fetchSpecs(config)) {
    if (!specs.includes(oldLabRefspec(r))) continue
    const escaped = oldLabRefspec(r).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
    await repo.git(['config', '--local', '--unset-all', `remote.${r}.fetch`, `^${escaped}$`], { ok: [5] })
    const add = labRefspecs(r).filter(s => !specs.includes(s))
    for (const s of add) await repo.configAdd(`remote.${r}.fetch`, s)
    config.set(`remote.${r}.fetch`, [...specs.filter(s => s !== oldLabRefspec(r)), ...add])
    const old = `refs/remotes/${r}/lab/`
    const lines: string[] = []
    for (const { ref, sha } of await repo.forEachRef([old])) {
      const rest = ref.slice(old.length)
      if (!/^(w|claims)\//.test(rest)) continue
      lines.push(`update ${REMOTES_PREFIX}${r}/${rest} ${sha}\n`, `delete ${ref} ${sha}\n`)
    }
    if (lines.length) await repo.git(['update-ref', '--stdin'], { input: lines.join('') })
    done.push(r)
  }
  return done
}
