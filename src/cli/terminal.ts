// The terminal's doors: everything the CLI prints passes safeText (records of other writers) or safeOutput / safeRedraw (a job's output).
import { StringDecoder } from 'node:string_decoder'
import { CONTROLS, uEscape } from '../lab/json.ts'

/**
 * Text from lab records (messages, notes, ideas, tags, commands, names, paths) and every other line the CLI prints.
 * Keeps \n and \t and writes every other control character as `\uXXXX`, so nothing is live and nothing is hidden.
 * The same escape is JSON's, so JSON text passed through here still decodes to the same value.
 */
export const safeText = (s: string): string => s.replace(CONTROLS, uEscape)

// One token per match: a CSI sequence (7- or 8-bit), a string sequence (OSC, DCS, SOS, PM, APC: up to 4096
// characters, ended by BEL or ST), another escape sequence (ESC c, ESC 7, ESC ( B ...), a lone \r, or one unsafe
// character. A string sequence longer or unended is not matched whole: its ESC ] goes, its text shows. A colour
// without an 8 in it, the bulk of a coloured log, and \r\n are not tokens at all: they pass with no callback.
const TOKEN = /(?!\x1b\[[0-79;:]*m)(?:(?:\x1b\[|\x9b)([\x30-\x3f]*)([\x20-\x2f]*)([\x40-\x7e])|(?:\x1b[\]PX^_]|[\x90\x98\x9d-\x9f])[^\x07\x1b\x9c]{0,4096}(?:\x07|\x1b\\|\x9c)|\x1b[\x20-\x2f]*[\x30-\x7e]|\r(?!\n)|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069])/g

/**
 * A job's own output (`logs`, the stream of `run`) and a diff: the job's colours stay, control does not.
 * - SGR (ESC [ digits ; : m) is kept, minus "conceal" (8), which only hides text.
 * - Every other complete escape sequence is removed: cursor moves, erasing, scroll regions, modes, resets, titles,
 *   hyperlinks (their text stays), clipboard writes (OSC 52), DCS. They print nothing, so nothing visible is lost.
 * - \r\n stays (CRLF files diff as they are). A lone \r, which a progress bar uses to redraw its line, becomes \n:
 *   every state of the bar shows, and no text can be drawn over an earlier line.
 * - Any other control character (a lone ESC, BEL, backspace, NUL, C1, bidi) is written as `\uXXXX`.
 */
export const safeOutput = (s: string): string => door(s, '\n')

/** Back to the start of the line and erase it: a redrawn line shows its latest state only. */
export const REDRAW = '\r\x1b[K'

/**
 * safeOutput for a job's output on a terminal (`logs`, `run`; never a diff, where a \r must not hide code): a lone
 * \r becomes REDRAW, so a progress bar redraws in place as it did for the job and shows its latest state. Only the
 * current line is ever drawn over; a file or a pipe gets safeOutput, every state on a line of its own.
 */
export const safeRedraw = (s: string): string => door(s, REDRAW)

const door = (s: string, cr: string): string => s.replace(TOKEN, (t, params?: string, mid?: string, final?: string) => {
  if (final !== undefined) return final === 'm' && !mid && /^[0-9;:]*$/.test(params!) ? sgr(params!) : ''
  return t.length > 1 ? '' : t === '\r' ? cr : uEscape(t)
})

function sgr(params: string): string {
  const p = params.split(';')
  const keep: string[] = []
  for (let i = 0; i < p.length; i++) {
    // 38;5;N and 38;2;R;G;B (and 48, 58): colour arguments, never attributes.
    const span = /^[345]8$/.test(p[i]) ? (p[i + 1] === '5' ? 3 : p[i + 1] === '2' ? 5 : 1) : 1
    if (span === 1 && /^0*8$/.test(p[i])) continue
    keep.push(...p.slice(i, i + span))
    i += span - 1
  }
  return keep.length || !params ? `\x1b[${keep.join(';')}m` : ''
}

// An escape sequence still being written at the end of a piece (7-bit forms; a string sequence up to its limit).
const UNFINISHED = /(?:\x1b(?:\[[\x30-\x3f]{0,64}[\x20-\x2f]{0,8}|[\]PX^_][^\x07\x1b\x9c]{0,4096}\x1b?|[\x20-\x2f]{0,8})?|\r)$/

/**
 * Cuts a job's output stream into pieces that each pass safeOutput as the whole stream would: no UTF-8 character,
 * escape sequence or \r\n is split between two pieces (a split colour would show escaped, a split title as text).
 */
export function outputPieces(emit: (text: string) => void) {
  const decoder = new StringDecoder('utf8')
  let held = ''
  const flush = (s: string) => { if (s) emit(s) }
  return {
    write(data: Buffer) {
      const s = held + decoder.write(data)
      const tail = UNFINISHED.exec(s.slice(-4200))
      const cut = tail ? s.length - tail[0].length : s.length
      held = s.slice(cut)
      flush(s.slice(0, cut))
    },
    end() {
      const s = held + decoder.end()
      held = ''
      flush(s)
    },
  }
}
