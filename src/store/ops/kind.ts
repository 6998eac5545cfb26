// An operation kind is data plus two pure functions: validate(payload) and apply(state, op).
import type { Op } from '../op.ts'
import type { State } from '../state.ts'

export interface OpKind {
  type: string
  /** the reason a payload is invalid, or null */
  validate(payload: Record<string, unknown>): string | null
  /** applies the op; returns the reason it was skipped, or null */
  apply(state: State, op: Op): string | null
}

export const note = (op: Op) => ({ text: String(op.payload.text), author: op.author, writer: op.writer, time: op.time })
