// The fold: state = all valid operations applied in (lamport, writer, seq) order. Pure; no I/O.
import { KINDS } from './ops/index.ts'
import { checkEnvelope, compareOps, MAX_LAMPORT_JUMP, type Op } from './op.ts'
import { emptyState, type State } from './state.ts'

export interface WriterCursor { last_seq: number; last_lamport: number }
export interface Rejected { writer: string; seq: number; reason: string }

/**
 * Validates one writer's new operations, in seq order, against where its log stood.
 * Depends only on that writer's own log, so every clone rejects the same operations.
 */
export function checkWriterOps(cursor: WriterCursor, writer: string, items: Array<{ seq: number; json: unknown }>):
  { valid: Op[]; rejected: Rejected[]; cursor: WriterCursor } {
  const valid: Op[] = []
  const rejected: Rejected[] = []
  let { last_seq, last_lamport } = cursor
  for (const { seq, json } of [...items].sort((a, b) => a.seq - b.seq)) {
    last_seq = Math.max(last_seq, seq)
    const bad = checkEnvelope(json, writer, seq)
    if (bad) { rejected.push({ writer, seq, reason: bad }); continue }
    const op = json as Op
    const kind = KINDS.get(op.type)
    if (!kind) { rejected.push({ writer, seq, reason: `unknown operation type ${JSON.stringify(op.type).slice(0, 80)}` }); continue }
    if (op.lamport <= last_lamport) { rejected.push({ writer, seq, reason: `lamport clock ${op.lamport} does not advance past ${last_lamport}` }); continue }
    if (op.lamport - last_lamport > MAX_LAMPORT_JUMP) { rejected.push({ writer, seq, reason: `lamport clock jumps from ${last_lamport} to ${op.lamport}` }); continue }
    const invalid = kind.validate(op.payload)
    if (invalid) { rejected.push({ writer, seq, reason: `invalid ${op.type}: ${invalid}` }); continue }
    last_lamport = op.lamport
    valid.push(op)
  }
  return { valid, rejected, cursor: { last_seq, last_lamport } }
}

/** Applies operations that are already in fold order and all sort after what `state` holds. */
export function applyOps(state: State, ops: Op[]): State {
  for (const op of ops) {
    const skip = KINDS.get(op.type)!.apply(state, op)
    if (skip) state.skipped.push({ op: op.id, reason: skip })
    if (op.lamport > state.max_lamport) state.max_lamport = op.lamport
  }
  return state
}

export function fold(ops: Op[]): State {
  return applyOps(emptyState(), [...ops].sort(compareOps))
}
