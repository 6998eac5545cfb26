// The fold: state = all valid operations applied in (lamport, writer, seq) order. Pure; no I/O.
import { KINDS } from './ops/index.ts'
import { checkEnvelope, compareOps, MAX_LAMPORT_JUMP, type Op } from './op.ts'
import { emptyState, sortSkipped, type State } from './state.ts'

export interface WriterCursor { last_seq: number; last_lamport: number }
export interface Rejected { writer: string; seq: number; reason: string }

/**
 * Why one operation, on its own, is invalid (null: valid): the envelope, a known type, the kind's payload schema.
 * Readers apply it to what they fetch and writers to what they are about to write, so both refuse the same things.
 */
export function checkOp(json: unknown, writer: string, seq: number): string | null {
  const bad = checkEnvelope(json, writer, seq)
  if (bad) return bad
  const op = json as Op
  const kind = KINDS.get(op.type)
  if (!kind) return `unknown operation type ${JSON.stringify(op.type).slice(0, 80)}`
  let invalid: string | null
  try { invalid = kind.validate(op.payload) } catch (e) { invalid = `cannot be checked (${(e as Error).message})` }
  return invalid ? `invalid ${op.type}: ${invalid}` : null
}

/**
 * Validates one writer's new operations, in seq order, against where its log stood.
 * Depends only on that writer's own log, so every clone rejects the same operations.
 */
export function checkWriterOps(cursor: WriterCursor, writer: string, items: Array<{ seq: number; json: unknown; error?: string }>):
  { valid: Op[]; rejected: Rejected[]; cursor: WriterCursor } {
  const valid: Op[] = []
  const rejected: Rejected[] = []
  let { last_seq, last_lamport } = cursor
  for (const { seq, json, error } of [...items].sort((a, b) => a.seq - b.seq)) {
    last_seq = Math.max(last_seq, seq)
    const bad = error ?? checkOp(json, writer, seq)
    if (bad) { rejected.push({ writer, seq, reason: bad }); continue }
    const op = json as Op
    if (op.lamport <= last_lamport) { rejected.push({ writer, seq, reason: `lamport clock ${op.lamport} does not advance past ${last_lamport}` }); continue }
    if (op.lamport - last_lamport > MAX_LAMPORT_JUMP) { rejected.push({ writer, seq, reason: `lamport clock jumps from ${last_lamport} to ${op.lamport}` }); continue }
    last_lamport = op.lamport
    valid.push(op)
  }
  return { valid, rejected, cursor: { last_seq, last_lamport } }
}

/** Applies operations that are already in fold order and all sort after what `state` holds. */
export function applyOps(state: State, ops: Op[]): State {
  for (const op of ops) {
    let skip: string | null
    // One operation that trips the code must not stop every command in every clone that fetched it.
    try { skip = KINDS.get(op.type)!.apply(state, op) } catch (e) { skip = `could not apply: ${(e as Error).message}` }
    if (skip) state.skipped.push({ op: op.id, reason: skip, lamport: op.lamport })
    if (op.lamport > state.max_lamport) state.max_lamport = op.lamport
  }
  return state
}

export function fold(ops: Op[]): State {
  const s = applyOps(emptyState(), [...ops].sort(compareOps))
  sortSkipped(s.skipped)
  return s
}
