// message.send / message.read: messages between agents and humans, and who has read them.
import type { OpKind } from './kind.ts'
import { checkFields, text } from './check.ts'

export const messageSend: OpKind = {
  type: 'message.send',
  validate: p => checkFields(p, { to: text(200), from: text(200), text: text(16384) }),
  apply(s, op) {
    if (s.messages[op.entity]) return `message ${op.entity} already exists`
    s.messages[op.entity] = {
      id: op.entity, from: String(op.payload.from), author: op.author, writer: op.writer,
      to: String(op.payload.to), text: String(op.payload.text), created_at: op.time, read_by: [],
    }
    return null
  },
}

export const messageRead: OpKind = {
  type: 'message.read',
  validate: p => checkFields(p, { reader: text(200) }),
  apply(s, op) {
    const m = s.messages[op.entity]
    if (!m) return `unknown message ${op.entity}`
    const reader = String(op.payload.reader)
    if (!m.read_by.includes(reader)) m.read_by.push(reader)
    return null
  },
}
