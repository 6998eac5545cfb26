// The operation envelope: immutable JSON, one file per operation in its writer's tree.
import { isWriterId } from './layout.ts'

export interface Op<P = Record<string, unknown>> {
  v: 1
  id: string
  type: string
  entity: string
  lamport: number
  writer: string
  seq: number
  time: string
  author: string
  payload: P
}

/** What a caller asks to write; the store fills in clocks and identity. */
export interface Draft {
  type: string
  entity: string
  payload: Record<string, unknown>
  /** blobs written next to the operation (its payload names them by blob id) */
  attachments?: Buffer[]
}

export const opId = (writer: string, seq: number) => `${writer}/${seq}`
export const ENTITY_RE = /^[a-z0-9][a-z0-9_-]{2,63}$/
/** A legitimate writer never jumps further than the number of operations it had not seen. */
export const MAX_LAMPORT_JUMP = 2 ** 32
export const MAX_LAMPORT = 2 ** 52

const MIN_TIME = Date.parse('2000-01-01T00:00:00Z')
const MAX_TIME = Date.parse('2200-01-01T00:00:00Z')

export function compareOps(a: Op, b: Op): number {
  if (a.lamport !== b.lamport) return a.lamport - b.lamport
  if (a.writer !== b.writer) return a.writer < b.writer ? -1 : 1
  return a.seq - b.seq
}

/** Checks the envelope of one operation read from `writer`'s tree at `seq`; returns the reason it is invalid, or null. */
export function checkEnvelope(o: unknown, writer: string, seq: number): string | null {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return 'not a JSON object'
  const op = o as Record<string, unknown>
  if (op.v !== 1) return `unsupported operation version ${JSON.stringify(op.v)}`
  if (op.writer !== writer || !isWriterId(writer)) return `writer ${JSON.stringify(op.writer)} does not match its ref (${writer})`
  if (op.seq !== seq) return `seq ${JSON.stringify(op.seq)} does not match its path (${seq})`
  if (op.id !== opId(writer, seq)) return `id ${JSON.stringify(op.id)} does not match ${opId(writer, seq)}`
  if (typeof op.type !== 'string') return 'type is not a string'
  if (typeof op.entity !== 'string' || !ENTITY_RE.test(op.entity)) return `invalid entity id ${JSON.stringify(op.entity)}`
  if (!Number.isSafeInteger(op.lamport) || (op.lamport as number) < 1 || (op.lamport as number) > MAX_LAMPORT) return `invalid lamport clock ${JSON.stringify(op.lamport)}`
  const t = typeof op.time === 'string' ? Date.parse(op.time) : NaN
  if (!(t >= MIN_TIME && t < MAX_TIME)) return `invalid time ${JSON.stringify(op.time)}`
  if (typeof op.author !== 'string' || op.author.length > 300) return 'invalid author'
  if (typeof op.payload !== 'object' || op.payload === null || Array.isArray(op.payload)) return 'payload is not an object'
  return null
}
