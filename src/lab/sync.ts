// Sync through any git remote, the pre-push hook, status, and fsck.
import { isDeepStrictEqual } from 'node:util'
import type { Lab } from './lab.ts'
import { labRefspec, isLabRemote } from './setup.ts'
import { listMessages } from './messages.ts'
import { LabError, UsageError } from '../errors.ts'
import { parseTrailers, writerOfRef, writerRef } from '../store/layout.ts'
import { STATUSES } from '../store/state.ts'
import type { IndexData } from '../store/index-file.ts'

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
  return Math.max(0, (await seqAt(lab, index.refs[writerRef(w)])) - (await seqAt(lab, index.refs[`refs/remotes/${remote}/lab/w/${w}`])))
}

/** Fetches every lab record from the lab remote (no push, no refresh). */
export async function fetchLab(lab: Lab): Promise<void> {
  const r = pickRemote(lab)
  await lab.repo.fetch(r, [labRefspec(r)])
}

export interface SyncResult { remote: string; pushed: number; new_ops: number; writers: number }

export async function sync(lab: Lab, remote?: string): Promise<SyncResult> {
  const w = lab.requireWriter()
  const r = pickRemote(lab, remote)
  const before = (await lab.index()).op_count
  try {
    await lab.repo.fetch(r, [labRefspec(r)])
  } catch (e) {
    throw new LabError(`cannot fetch from ${r}: ${(e as Error).message}`)
  }
  const index = await lab.index()
  const pending = await unpushed(lab, r, index)
  if (index.refs[writerRef(w)]) {
    try {
      await lab.repo.push(r, [`${writerRef(w)}:${writerRef(w)}`])
    } catch (e) {
      throw new LabError(`cannot push to ${r}: ${(e as Error).message}`)
    }
  }
  // The push moved only the remote-tracking copy of our own log: nothing new to fold, so no third refresh here.
  return { remote: r, pushed: pending ?? 0, new_ops: index.op_count - before, writers: Object.keys(index.chosen).length }
}

/** Called by the pre-push hook: pushes this writer's ref to the remote being pushed to. */
export async function hookPrePush(lab: Lab, remote: string | undefined): Promise<boolean> {
  const w = lab.identity.writer
  // git passes the remote's name, or a URL for `git push URL`: a URL is no lab remote.
  if (!w || !remote || !(await lab.repo.revParse(writerRef(w)))) return false
  // Only remotes set up for the lab ('git lab init --remote'): a push to a public mirror carries no lab records.
  if (!(await isLabRemote(lab, remote))) return false
  await lab.repo.push(remote, [`${writerRef(w)}:${writerRef(w)}`])
  return true
}

export async function status(lab: Lab) {
  const id = lab.identity
  const index = await lab.index()
  const s = index.state
  const counts: Record<string, number> = Object.fromEntries(STATUSES.map(k => [k, 0]))
  for (const e of Object.values(s.experiments)) counts[e.status]++
  return {
    writer: id.writer, agent: id.agent, role: id.role, author: `${id.author.name} <${id.author.email}>`,
    remote: lab.remote, objective: s.config.objective,
    experiments: Object.keys(s.experiments).length, counts,
    ideas: Object.keys(s.ideas).length,
    unread_messages: id.writer ? (await listMessages(lab, { unread: true })).length : 0,
    writers: Object.keys(index.chosen).length,
    unpushed_ops: await unpushed(lab, lab.remote, index),
    problems: index.rejected.length + index.warnings.length + s.skipped.length,
  }
}

/** Writers whose refs are not all on one chain (a copied .git sharing a writer id): only the chosen tip is read. */
async function divergedWriters(lab: Lab, refs: Record<string, string>, chosen: Record<string, string>): Promise<string[]> {
  const out: string[] = []
  for (const [ref, sha] of Object.entries(refs)) {
    const w = writerOfRef(ref)!.writer
    if (chosen[w] && sha !== chosen[w] && !(await lab.repo.isAncestor(sha, chosen[w]))) {
      out.push(`writer ${w}: ${ref} has diverged from the log that is read (${chosen[w].slice(0, 12)}); its other records are hidden. Give one clone a new writer id: git config --unset lab.writer && git lab init`)
    }
  }
  return out
}

export async function fsck(lab: Lab, opts: { rebuild?: boolean } = {}) {
  const current = await lab.index()
  const fresh = await lab.store.rebuild(!!opts.rebuild)
  const diverged = await divergedWriters(lab, fresh.refs, fresh.chosen)
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
    warnings: [...fresh.warnings, ...diverged, ...missing.sort()],
    skipped: fresh.state.skipped,
    index_consistent: isDeepStrictEqual(current.state, fresh.state),
    rebuilt: !!opts.rebuild,
  }
}
