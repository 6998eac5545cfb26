// The --json and HTTP shapes, declared once (snake_case, stable key order). Documented in README.md.
import type { Experiment, Idea, Message, Note } from '../store/state.ts'

const note = (n: Note) => ({ text: n.text, author: n.author, writer: n.writer, time: n.time })

export function experimentJson(e: Experiment) {
  return {
    id: e.id, status: e.status, message: e.message, run: e.run, setup: e.setup, commit: e.commit, base: e.base,
    idea: e.idea, priority: e.priority, tags: e.tags, depends_on: e.depends_on, gpus: e.gpus, timeout: e.timeout,
    author: e.author, writer: e.writer, created_at: e.created_at, started_at: e.started_at, finished_at: e.finished_at,
    exit_code: e.exit_code, reason: e.reason, attempt: e.attempt, metrics: e.metrics, notes: e.notes.map(note), updated_at: e.updated_at,
  }
}
export type ExperimentJson = ReturnType<typeof experimentJson>

export function ideaJson(i: Idea) {
  return {
    id: i.id, text: i.text, status: i.status, conclusion: i.conclusion, parents: i.parents, children: i.children,
    tags: i.tags, notes: i.notes.map(note), author: i.author, writer: i.writer, created_at: i.created_at, updated_at: i.updated_at,
  }
}

export function messageJson(m: Message & { unread?: boolean }) {
  return { id: m.id, from: m.from, to: m.to, text: m.text, author: m.author, writer: m.writer, created_at: m.created_at, read_by: m.read_by, unread: m.unread ?? false }
}
