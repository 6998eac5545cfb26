// Whose queued experiments this clone's workers run: git config lab.trust, and why one is left queued.
//
// A writer id and an author email are claims made by whoever can push to a lab remote: the writer id is the name of
// the ref pushed, the author is any text that writer put in its operation. lab.trust narrows what runs here to what
// those claims say; it is only as strong as the lab remote's own push access control, and no stronger.
import { UsageError } from '../errors.ts'
import type { Lab } from './lab.ts'

/** What git config lab.trust says, read once (a worker reads it when it starts). */
export interface Trust {
  /** this clone's writer: what its own user queued always runs here */
  self: string | null
  /** false without lab.trust: every writer on the lab remotes is trusted, as CI runs what anyone with push access pushes */
  restricted: boolean
  writers: ReadonlySet<string>
  /** lowercased */
  emails: ReadonlySet<string>
  /** the first invalid entry, as one line; such a clone runs only its own experiments (a worker refuses to start) */
  invalid: string | null
}

/** The fields trust looks at: an Experiment, or its JSON shape. */
export interface Queuer { writer: string; author: string }

const WRITER = /^[a-z0-9][a-z0-9_-]{0,39}$/
// No spaces, commas or angle brackets: those separate entries, or would be the "Name <email>" form itself.
const EMAIL = /^[^\s@<>,]+@[^\s@<>,]+$/

/**
 * Reads lab.trust from a Lab's config (lowercased keys, every value of a multi-valued key). Each value holds one or
 * more entries separated by commas or whitespace, so `git config --add lab.trust 3fa9c2d1` and
 * `git config lab.trust "3fa9c2d1, eve@example.com"` both work. An entry is a writer id or an email address.
 */
export function readTrust(config: ReadonlyMap<string, readonly string[]>, self: string | null): Trust {
  const values = config.get('lab.trust')
  const writers = new Set<string>()
  const emails = new Set<string>()
  let invalid: string | null = null
  for (const value of values ?? []) {
    const entries = value.split(/[\s,]+/).filter(Boolean)
    // An empty value would otherwise mean "trust nobody" or "trust everyone" depending on how one reads it.
    if (!entries.length) invalid ??= 'invalid lab.trust: an empty value; name writer ids or author emails, or unset lab.trust to trust every writer'
    for (const x of entries) {
      if (x.includes('@') && EMAIL.test(x)) emails.add(x.toLowerCase())
      else if (!x.includes('@') && WRITER.test(x)) writers.add(x)
      else invalid ??= `invalid lab.trust entry ${JSON.stringify(x)}: expected a writer id (like 3fa9c2d1) or an author email (like ann@example.com)`
    }
  }
  return { self, restricted: values !== undefined, writers, emails, invalid }
}

/** This clone's trust, from the config read when the lab was opened. */
export const labTrust = (lab: Lab): Trust => readTrust(lab.config, lab.identity.writer)

/** The email in an author "Name <email>", lowercased, or null without one. */
export function authorEmail(author: string): string | null {
  const m = /<([^<>]*)>\s*$/.exec(author)
  return m && m[1].includes('@') ? m[1].trim().toLowerCase() : null
}

/** Why this clone's workers leave the experiment queued, or null when they would run it. */
export function untrustedReason(t: Trust, e: Queuer): string | null {
  if (t.self !== null && e.writer === t.self) return null
  if (t.invalid) return `not run here: ${t.invalid}`
  if (!t.restricted || t.writers.has(e.writer)) return null
  const email = authorEmail(e.author)
  if (email !== null && t.emails.has(email)) return null
  return `not trusted here: writer ${e.writer} (${e.author}) is not in lab.trust`
}

/** How many queued experiments this clone's workers leave alone (for status). */
export function untrustedQueued(t: Trust, experiments: Iterable<Queuer & { status: string }>): number {
  if (!t.restricted) return 0
  let n = 0
  for (const e of experiments) if (e.status === 'queued' && untrustedReason(t, e)) n++
  return n
}

/** For a worker: an invalid lab.trust stops it with one line (exit 2) rather than being ignored. */
export function checkTrust(t: Trust): Trust {
  if (t.invalid) throw new UsageError(t.invalid)
  return t
}
