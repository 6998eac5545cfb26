// post-commit: a commit whose message has a `Lab-Run: CMD` trailer queues an experiment of exactly that commit.
import type { Lab } from './lab.ts'
import { hookOn } from './hooks.ts'
import { submit } from './experiments.ts'
import { parseParams } from './params.ts'
import { commitInfo, headReflog, trailerValues, type CommitInfo } from '../git/commits.ts'
import { InvalidError } from '../errors.ts'

/** The trailers a Lab-Run commit may carry; Lab-Experiment is prepare-commit-msg's own. */
const TRAILERS = ['Lab-Run', 'Lab-Idea', 'Lab-Param', 'Lab-Gpus']
const KNOWN = new Set([...TRAILERS, 'Lab-Experiment'].map(k => k.toLowerCase()))

/**
 * How HEAD's last reflog entry says it moved, if by `git commit`: null for a commit a rebase, cherry-pick, revert or
 * `am` replayed (its experiment was queued when it was first made), and for a HEAD whose reflog git does not keep.
 */
const BY_COMMIT = /^commit(?: \((initial|merge|amend)\))?: /

const labTrailers = (c: CommitInfo) => c.trailers.filter(t => KNOWN.has(t.key.toLowerCase()) && t.key.toLowerCase() !== 'lab-experiment')
  .map(t => `${t.key.toLowerCase()}: ${t.value}`).join('\n')

function single(c: CommitInfo, key: string): string | undefined {
  const v = trailerValues(c, key)
  if (v.length > 1) throw new InvalidError(`${key}: given ${v.length} times; a commit queues one experiment (a sweep: Lab-Param: lr=1e-3,3e-4)`)
  return v[0]
}

/** Queues the experiment HEAD's Lab-Run trailer asks for; returns the line to print (null: nothing to do). */
export async function hookPostCommit(lab: Lab): Promise<string | null> {
  if (!hookOn(lab, 'post-commit')) return null
  const head = await commitInfo(lab.repo, 'HEAD')
  if (!head || !trailerValues(head, 'Lab-Run').length) return null
  const [now, before] = await headReflog(lab.repo, 2)
  const how = now?.sha === head.sha ? BY_COMMIT.exec(now.subject) : null
  if (!how) return null
  lab.requireWriter()
  const run = single(head, 'Lab-Run')!
  const idea = single(head, 'Lab-Idea')
  const gpusText = single(head, 'Lab-Gpus')
  if (gpusText !== undefined && !/^\d{1,4}$/.test(gpusText)) throw new InvalidError(`Lab-Gpus: ${JSON.stringify(gpusText)} is not a number of GPUs`)
  const params = parseParams(trailerValues(head, 'Lab-Param'), 'Lab-Param:')
  const unknown = [...new Set(head.trailers.map(t => t.key).filter(k => /^lab-/i.test(k) && !KNOWN.has(k.toLowerCase())))]
  // An amend is a new commit, so a new experiment, unless it only reworded a commit that was queued already.
  if (how[1] === 'amend' && before) {
    const prev = await commitInfo(lab.repo, before.sha)
    const queued = prev && prev.tree === head.tree && labTrailers(prev) === labTrailers(head) &&
      Object.values((await lab.state()).experiments).find(e => e.commit === prev.sha)
    if (queued) return `not queued again: this amend changed neither the code nor the Lab- trailers of experiment ${queued.id}`
  }
  const message = head.subject.trim() || `commit ${head.sha.slice(0, 12)}`
  const r = await submit(lab, { message, run, idea, gpus: gpusText === undefined ? undefined : Number(gpusText), params, from: head.sha, exact: true })
  const what = r.sweep ? `sweep ${r.sweep} (${r.experiments.length} experiments: git lab log --tag sweep:${r.sweep})` : `experiment ${r.experiment.id}`
  const ignored = unknown.length ? ` (ignored: ${unknown.join(', ')}; known: ${TRAILERS.join(', ')})` : ''
  return `queued ${what} of commit ${head.sha.slice(0, 12)}: ${run.length > 60 ? `${run.slice(0, 57)}...` : run}${ignored}`
}
