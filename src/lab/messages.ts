// Messages between agents and humans: addressed to a writer, an agent, a role, or all.
import type { Lab } from './lab.ts'
import { newId } from './lab.ts'
import { checkText } from './ideas.ts'
import { resolveId } from './ids.ts'
import { newestFirst } from './order.ts'
import { InvalidError } from '../errors.ts'
import type { Message, State } from '../store/state.ts'

/** The names a message can be addressed to that mean "me". */
export function myNames(lab: Lab): Set<string> {
  const id = lab.identity
  return new Set(['all', id.writer, id.agent, id.role].filter((x): x is string => !!x))
}

const reader = (lab: Lab) => lab.identity.agent ?? lab.identity.writer ?? 'unknown'

export async function sendMessage(lab: Lab, to: string, text: string): Promise<Message> {
  const who = (to ?? '').trim()
  if (!who || who.length > 200 || /\s/.test(who)) throw new InvalidError(`invalid recipient ${JSON.stringify(to ?? '')}: a writer id, agent, role, or all`)
  const id = newId()
  const payload = { to: who, from: lab.identity.name, text: checkText('message', text) }
  return (await lab.write([{ type: 'message.send', entity: id, payload }], `message to ${who}`)).messages[id]
}

export interface MessageView extends Message { unread: boolean; to_me: boolean }

export async function listMessages(lab: Lab, opts: { unread?: boolean; all?: boolean } = {}): Promise<MessageView[]> {
  return viewMessages(lab, await lab.state(), opts)
}

/** listMessages on a state already at hand (the hooks': no second look at the refs). */
export function viewMessages(lab: Lab, s: State, opts: { unread?: boolean; all?: boolean } = {}): MessageView[] {
  const names = myNames(lab)
  const me = reader(lab)
  return Object.values(s.messages)
    .map(m => ({ ...m, to_me: names.has(m.to), unread: names.has(m.to) && !m.read_by.includes(me) && m.from !== lab.identity.name }))
    .filter(m => opts.all || m.to_me || m.from === lab.identity.name)
    .filter(m => !opts.unread || m.unread)
    .sort(newestFirst)
}

/** Marks messages read by me: the given ids, or every unread one. Returns how many were marked. */
export async function markRead(lab: Lab, ids: string[]): Promise<number> {
  const s = await lab.state()
  const me = reader(lab)
  const targets = ids.length
    ? ids.map(i => resolveId('message', s.messages, i))
    : (await listMessages(lab, { unread: true })).map(m => m.id)
  const todo = [...new Set(targets)].filter(id => !s.messages[id].read_by.includes(me))
  if (todo.length) await lab.write(todo.map(id => ({ type: 'message.read', entity: id, payload: { reader: me } })), `read ${todo.length} messages`)
  return todo.length
}
