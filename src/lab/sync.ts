// Sync through any git remote, the pre-push hook, status, and fsck.
import { isDeepStrictEqual } from 'node:util'
import type { Lab } from './lab.ts'
import { isLabRemote } from './setup.ts'
import { labRefspecs } from './remotes.ts'
import { listMessages } from './messages.ts'
import { sweepClaims } from './claim-sweep.ts'
import { LabError, NotFoundError, UsageError, reasonOf } from '../errors.ts'
import { parseTrailers, remoteWriterRef, writerRef } from '../store/layout.ts'
import { STATUSES } from '../store/state.ts'
import { indexView, type IndexData } from '../store/index-file.ts'

function pickRemote(lab: Lab, given?: string): string {
  const r = given ?? lab.remote
  if (!r) throw new UsageError("no remote to sync with: pass one ('git lab sync origin') or run 'git lab init --remote NAME'")
  return r
}

async function seqAt(lab: Lab, sha: string | undefined): Promise<number> {
  if (!sha) return 0
  const c = await lab.repo.catFile.read(sha, 1 << 20)
  return parseTrailers(c?.data?.toString('utf8') ?? '')?.seq ?? 0
}

/** Operations of this writer that the remote-tracking ref does not have yet (null: no remote). */
export async function unpushed(lab: Lab, remote = lab.remote, given?: IndexData): Promise<number | null> {
  const w = lab.identity.writer
  if (!w || !remote) return null
  const index = given ?? await lab.index()
  return Math.max(0, (await seqAt(lab, index.refs[writerRef(w)])) - (await seqAt(lab, index.refs[remoteWriterRef(remote, w)])))
}

/** Fetches every lab record from the lab remote (no push, no refresh). */
export async function fetchLab(lab: Lab): Promise<void> {
  const r = pickRemote(lab)
  await lab.repo.fetch(r, labRefspecs(r))
}

export interface SyncResult { remote: string; pushed: number; new_ops: number; writers: number }

export async function sync(lab: Lab, remote?: string): Promise<SyncResult> {
  const w = lab.requireWriter()
  const r = pickRemote(lab, remote)
  // A name only: a lab remote's records are fetched into refs/lab/remotes/<name>/, which a URL cannot name.
  if (remote !== undefined && !(await lab.repo.remotes()).includes(remote)) {
    throw new NotFoundError(`no remote named ${JSON.stringify(remote)}: 'git remote -v' lists them, 'git remote add NAME URL' adds one`)
  }
  const before = (await lab.index()).op_count
  try {
    await lab.repo.fetch(r, labRefspecs(r))
  } catch (e) {
    throw new LabError(`cannot fetch from ${r}: ${reasonOf(e)}`)
  }
  const index = await lab.index()
  const pending = await unpushed(lab, r, index)
  if (index.refs[writerRef(w)]) {
    try {
      await lab.repo.push(r, [`${writerRef(w)}:${writerRef(w)}`])
    } catch (e) {
      // Only this clone writes its log: a copy on the remote that is not on its chain was put there by someone else.
      if (index.refused[remoteWriterRef(r, w)]) {
        throw new LabError(`cannot push ${writerRef(w)} to ${r}: the remote's copy of this clone's log was rewritten by someone else (it is not read here). ` +
          `Check who can push to ${r}, then restore it: git push --force ${r} ${writerRef(w)}`)
      }
      throw new LabError(`cannot push to ${r}: ${reasonOf(e)}`)
    }
  }
  // The push moved only the remote-tracking copy of our own log: nothing new to fold, so no third refresh here.
  // Ended attempts' claims go now that their ends are on the remote (src/lab/claim-sweep.ts); a failure waits a sync.
  if (r === lab.remote) await sweepClaims(lab, index.state).catch(() => 0)
  return { remote: r, pushed: pending ?? 0, new_ops: index.op_count - before, writers: Object.keys(index.chosen).length }
}

/** Called by the pre-push hook: pushes this writer's ref to the remote being pushed to. */
export async function hookPrePush(lab: Lab, remote: string | undefined): Promise<boolean> {
  const w = lab.identity.writer
  // git passes the remote's name, or a URL for `git push URL`: a URL is no lab remote.
  if (!w || !remote || !(await lab.repo.revParse(writerRef(w)))) return false
  // Only remotes set up for the lab ('git lab init --remote'): a push to a public mirror carries no lab records.
  if (!isLabRemote(lab, remote)) return false
  await lab.repo.push(remote, [`${writerRef(w)}:${writerRef(w)}`])
  return true
}

export async function status(lab: Lab) {
  const id = lab.identity
  const index = await lab.index()
  const s = index.state
  const counts: Record<string, number> = Object.fromEntries(STATUSES.map(k => [k, index.counts[k] ?? 0]))
  return {
    writer: id.writer, agent: id.agent, role: id.role, author: `${id.author.name} <${id.author.email}>`,
    remote: lab.remote, objective: s.config.objective,
    experiments: Object.values(counts).reduce((a, b) => a + b, 0), counts,
    ideas: Object.keys(s.ideas).length,
    unread_messages: id.writer ? (await listMessages(lab, { unread: true })).length : 0,
    writers: Object.keys(index.chosen).length,
    unpushed_ops: await unpushed(lab, lab.remote, index),
    problems: index.rejected.length + index.warnings.length + s.skipped.length + Object.keys(index.refused).length + Object.keys(index.ignored).length,
    /** writers whose records are (partly) not read, and why */
    writer_problems: writerProblems(index),
  }
}

/**
 * What keeps records from being read, one line each: refs whose log was rewritten or grew apart from the one read
 * (that one stays in force), and writers whose log this version cannot read.
 */
export function writerProblems(index: IndexData): string[] {
  const out: string[] = []
  for (const [ref, r] of Object.entries(index.refused).sort(([a], [b]) => a < b ? -1 : 1)) {
    out.push(`writer ${r.writer}: ${ref} (${r.sha.slice(0, 12)}) ${r.reason}; it is not read, the records read before stay in force`)
  }
  for (const [w, x] of Object.entries(index.ignored).sort(([a], [b]) => a < b ? -1 : 1)) {
    out.push(`writer ${w}: its log is not read: ${x.reason}`)
  }
  return out
}

export async function fsck(lab: Lab, opts: { rebuild?: boolean } = {}) {
  const current = await lab.index()
  const fresh = await lab.store.rebuild(!!opts.rebuild)
  // Chunks and artifacts are named by blob id: each must be in this repository (a partial fetch would lack them).
  const missing: string[] = []
  await Promise.all(Object.values(fresh.state.experiments).flatMap(e => [
    ...e.chunks.flatMap(c => [c.output, c.metrics].filter(x => x !== null).map(x => ({ id: e.id, sha: x!.blob, what: `attempt ${c.attempt} chunk` }))),
    ...e.artifacts.filter(a => a.blob).map(a => ({ id: e.id, sha: a.blob!, what: `artifact ${a.path}` })),
  ].map(async b => {
    const obj = await lab.repo.catFile.read(b.sha, 0)
    if (!obj || obj.type !== 'blob') missing.push(`experiment ${b.id}: ${b.what} ${b.sha} is missing`)
  })))
  return {
    writers: Object.keys(fresh.chosen).length,
    operations: fresh.op_count,
    rejected: fresh.rejected,
    warnings: [...fresh.warnings, ...writerProblems(fresh), ...missing.sort()],
    skipped: fresh.state.skipped,
    // (as saved: a loaded state's maps and a folded one's may differ in prototype only)
    index_consistent: isDeepStrictEqual(indexView(current), indexView(fresh)),
    rebuilt: !!opts.rebuild,
  }
}
