// Which tip of a writer's log to read. A log only grows: a ref that does not descend from the tip already read is
// refused (a rewritten or forged log), whatever its commits say about themselves.
import type { Repo } from '../git/repo.ts'
import { parseTrailers, type RefKind } from './layout.ts'
import type { IndexData, Refusal } from './index-file.ts'

export interface RefEntry { ref: string; sha: string; kind: RefKind }
/** tip null: no ref of the writer points to a commit */
export interface Pick { tip: string | null; floor: string | null; refused: Array<[string, Refusal]> }

interface CommitInfo { parent: string | null; seq: number | null; tree: string | null }

/** Longer distances than this are asked of git in one process instead of walked object by object. */
const WALK = 64

export class Tips {
  private readonly commits = new Map<string, CommitInfo | null>()

  constructor(private readonly repo: Repo) {}

  /** A commit's first parent and Lab-Seq trailer (null: no such commit here). Commits never change: cached. */
  async commitInfo(sha: string): Promise<CommitInfo | null> {
    const hit = this.commits.get(sha)
    if (hit !== undefined) return hit
    const c = await this.repo.catFile.read(sha, 1 << 20)
    const text = c?.type === 'commit' && c.data ? c.data.toString('utf8') : null
    const header = text === null ? '' : text.slice(0, Math.max(0, text.indexOf('\n\n')))
    const info = text === null ? null : {
      parent: /^parent ([0-9a-f]+)$/m.exec(header)?.[1] ?? null, seq: parseTrailers(text)?.seq ?? null,
      tree: /^tree ([0-9a-f]+)$/m.exec(header)?.[1] ?? null,
    }
    if (this.commits.size > 100_000) this.commits.clear()
    this.commits.set(sha, info)
    return info
  }

  /** A commit's tree (null: no such commit here). */
  async treeOf(sha: string): Promise<string | null> { return (await this.commitInfo(sha))?.tree ?? null }

  /**
   * True if `b` is `a` or on a's first-parent chain: a writer's log grows by commits on their first parent (code
   * snapshots are further parents). The Lab-Seq trailers only end a walk early (a real log's grow along it).
   */
  async descends(a: string, b: string): Promise<boolean> {
    if (a === b) return true
    const floor = await this.commitInfo(b)
    if (!floor) return false
    let cur = a
    for (let i = 0; i < WALK; i++) {
      const c = await this.commitInfo(cur)
      if (!c?.parent) return false
      if (c.parent === b) return true
      if (c.seq !== null && floor.seq !== null && c.seq <= floor.seq) return false
      cur = c.parent
    }
    return this.repo.onFirstParentChain(cur, b)
  }

  /**
   * The tip of writer `w` to read, from its refs (local, fetched from lab remotes, kept) and its floor: the tip read
   * before, or when building from nothing the kept ref, else the local one. Refs that are not on the floor's chain
   * are refused; of refs that grew apart, the local one, else the lowest sha, is read. Returns null when the floor's
   * commit is gone (then the caller reads from nothing).
   */
  async pick(w: string, entries: RefEntry[], prev: IndexData, fresh: boolean): Promise<Pick | null> {
    const kept = entries.find(e => e.kind === 'kept')?.sha ?? null
    const local = entries.find(e => e.kind === 'local')?.sha ?? null
    const known = !fresh && prev.chosen[w] ? prev.chosen[w] : null
    const floor = known ?? kept ?? local
    if (floor && !(await this.commitInfo(floor))) return null
    const refused: Array<[string, Refusal]> = []
    const ahead: RefEntry[] = []
    for (const e of entries) {
      if (e.sha === floor) continue
      if (!(await this.commitInfo(e.sha))) { refused.push([e.ref, { writer: w, sha: e.sha, reason: 'is not a commit' }]); continue }
      // Unchanged since it was last looked at, against the same floor: it was behind it, or refused.
      if (known && prev.refs[e.ref] === e.sha) {
        const r = prev.refused[e.ref]
        if (r && r.sha === e.sha) refused.push([e.ref, r])
        continue
      }
      if (!floor || await this.descends(e.sha, floor)) ahead.push(e)
      else if (!(await this.descends(floor, e.sha))) {
        refused.push([e.ref, { writer: w, sha: e.sha, reason: `does not descend from the log already read (${floor.slice(0, 12)}): rewritten` }])
      }
    }
    const order = [...new Map(ahead.map(e => [e.sha, e])).values()]
      .sort((x, y) => (x.kind === 'local' ? 0 : 1) - (y.kind === 'local' ? 0 : 1) || (x.sha < y.sha ? -1 : 1))
    let tip = floor
    const apart: string[] = []
    for (const e of order) {
      if (!tip || await this.descends(e.sha, tip)) tip = e.sha
      else if (!(await this.descends(tip, e.sha))) apart.push(e.sha)
    }
    for (const sha of apart) {
      if (await this.descends(tip!, sha)) continue
      for (const x of entries.filter(x => x.sha === sha)) {
        refused.push([x.ref, { writer: w, sha, reason: `has grown apart from ${tip!.slice(0, 12)}, the log that is read` }])
      }
    }
    return tip ? { tip, floor, refused } : { tip: null, floor, refused }
  }
}
