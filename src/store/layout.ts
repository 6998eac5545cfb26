// Where things live in refs and in a writer's tree; the format version this code reads and writes.
export const FORMAT = 1
export const LOCAL_WRITER_PREFIX = 'refs/lab/w/'
/**
 * Lab refs fetched from a lab remote R live under refs/lab/remotes/R/: no branch or tag name can collide with them,
 * plain fetches of branches never touch them, and only the refspecs `git lab init` sets write there.
 */
export const REMOTES_PREFIX = 'refs/lab/remotes/'
/** A writer's tip this clone has read, pinned when no other ref holds it (its log was rewritten on a remote). */
export const KEPT_PREFIX = 'refs/lab/kept/'
export const WRITER_REF_PATTERNS = ['refs/lab/w/', 'refs/lab/remotes/**/w/*', 'refs/lab/kept/']
export const FORMAT_PATH = 'format'
/** Largest operation file read; anything bigger is skipped and reported. */
export const MAX_OP_BYTES = 256 * 1024

const WRITER_RE = /^[a-z0-9][a-z0-9_-]{0,39}$/
export const isWriterId = (w: string) => WRITER_RE.test(w)

export const writerRef = (writer: string) => LOCAL_WRITER_PREFIX + writer

export const keptRef = (writer: string) => KEPT_PREFIX + writer
export const remoteWriterRef = (remote: string, writer: string) => `${REMOTES_PREFIX}${remote}/w/${writer}`
export const remoteClaimsPrefix = (remote: string) => `${REMOTES_PREFIX}${remote}/claims/`

export type RefKind = 'local' | 'remote' | 'kept'
/** refs/lab/w/W, refs/lab/remotes/R/w/W or refs/lab/kept/W -> W and where it comes from (null for anything else). */
export function writerOfRef(ref: string): { writer: string; remote: string | null; kind: RefKind } | null {
  let m = /^refs\/lab\/w\/([^/]+)$/.exec(ref)
  if (m) return isWriterId(m[1]) ? { writer: m[1], remote: null, kind: 'local' } : null
  m = /^refs\/lab\/kept\/([^/]+)$/.exec(ref)
  if (m) return isWriterId(m[1]) ? { writer: m[1], remote: null, kind: 'kept' } : null
  m = /^refs\/lab\/remotes\/(.+)\/w\/([^/]+)$/.exec(ref)
  if (m) return isWriterId(m[2]) ? { writer: m[2], remote: m[1], kind: 'remote' } : null
  return null
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0')

/** seq -> ops/XXXX/XX/XX.json: fanned out so one write rewrites four small trees. */
export function opPath(seq: number): string {
  return `ops/${hex(Math.floor(seq / 65536), 4)}/${hex(Math.floor(seq / 256) % 256, 2)}/${hex(seq % 256, 2)}.json`
}

const OP_PATH_RE = /^ops\/([0-9a-f]{4})\/([0-9a-f]{2})\/([0-9a-f]{2})\.json$/
export function seqOfPath(path: string): number | null {
  const m = OP_PATH_RE.exec(path)
  if (!m) return null
  const seq = parseInt(m[1], 16) * 65536 + parseInt(m[2], 16) * 256 + parseInt(m[3], 16)
  return seq > 0 ? seq : null
}

/**
 * A companion blob of operation `seq` (a log or metric chunk, an artifact): ops/XXXX/XX/XX.N next to XX.json.
 * The operation names it by blob id; the path only keeps it reachable, so `git push` carries it.
 */
export function companionPath(seq: number, n: number): string {
  return opPath(seq).replace(/\.json$/, `.${n}`)
}
export const isCompanionPath = (p: string) => /^ops\/[0-9a-f]{4}\/[0-9a-f]{2}\/[0-9a-f]{2}\.\d{1,4}$/.test(p)
/** Largest companion blob a writer may add (a chunk is sealed well before this). */
export const MAX_COMPANION_BYTES = 32 * 1024 * 1024

/** Trailers on every writer commit, so a tip's position is known without reading its tree. */
export function commitMessage(summary: string, seq: number, lamport: number): string {
  return `${summary.replace(/\s+/g, ' ').slice(0, 72)}\n\nLab-Seq: ${seq}\nLab-Lamport: ${lamport}\nLab-Format: ${FORMAT}\n`
}

export function parseTrailers(commitText: string): { seq: number; lamport: number } | null {
  const seq = /^Lab-Seq: (\d+)$/m.exec(commitText)
  const lamport = /^Lab-Lamport: (\d+)$/m.exec(commitText)
  if (!seq || !lamport) return null
  return { seq: Number(seq[1]), lamport: Number(lamport[1]) }
}
