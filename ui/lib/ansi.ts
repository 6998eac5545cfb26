// A job's output with ANSI colours, made safe to show: SGR colour codes become class names on text spans (rendered
// as text, never as HTML); every other escape sequence and control character is dropped. Pure.

export interface Span { text: string; cls: string }

const CSI = /\x1b\[([0-9;?]*)([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]|[\x00-\x08\x0b-\x1f\x7f]/g

interface Style { fg: number | null; bg: number | null; bold: boolean; dim: boolean; italic: boolean; underline: boolean }
const plain = (): Style => ({ fg: null, bg: null, bold: false, dim: false, italic: false, underline: false })

function apply(s: Style, params: string): void {
  const codes = params === '' ? [0] : params.split(';').map(Number)
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i]
    if (c === 0) Object.assign(s, plain())
    else if (c === 1) s.bold = true
    else if (c === 2) s.dim = true
    else if (c === 3) s.italic = true
    else if (c === 4) s.underline = true
    else if (c === 22) { s.bold = false; s.dim = false }
    else if (c === 23) s.italic = false
    else if (c === 24) s.underline = false
    else if (c >= 30 && c <= 37) s.fg = c - 30
    else if (c >= 90 && c <= 97) s.fg = c - 90 + 8
    else if (c === 39) s.fg = null
    else if (c >= 40 && c <= 47) s.bg = c - 40
    else if (c >= 100 && c <= 107) s.bg = c - 100 + 8
    else if (c === 49) s.bg = null
    else if ((c === 38 || c === 48) && codes[i + 1] === 5) {
      // 256 colours: the 16 basic ones keep their class, the rest map to the nearest basic one (kept simple)
      const n = codes[i + 2] ?? 0
      const v = n < 16 ? n : 7
      if (c === 38) s.fg = v; else s.bg = v
      i += 2
    } else if ((c === 38 || c === 48) && codes[i + 1] === 2) i += 4
  }
}

const classOf = (s: Style) => [
  s.fg !== null ? `fg${s.fg}` : '', s.bg !== null ? `bg${s.bg}` : '', s.bold ? 'b' : '', s.dim ? 'dim' : '', s.italic ? 'i' : '', s.underline ? 'u' : '',
].filter(Boolean).join(' ')

/** Lines of spans. A lone \r (a progress bar redrawn) starts over the line, as a terminal shows its last state. */
export function parseAnsi(text: string): Span[][] {
  const lines: Span[][] = []
  const style = plain()
  let line: Span[] = []
  const push = (t: string) => {
    if (!t) return
    const cls = classOf(style)
    const last = line[line.length - 1]
    if (last && last.cls === cls) last.text += t
    else line.push({ text: t, cls })
  }
  const chunk = (t: string) => {
    const parts = t.split(/(\r?\n|\r)/)
    for (const p of parts) {
      if (p === '\n' || p === '\r\n') { lines.push(line); line = [] } else if (p === '\r') line = []
      else push(p)
    }
  }
  let at = 0
  CSI.lastIndex = 0
  for (let m = CSI.exec(text); m; m = CSI.exec(text)) {
    chunk(text.slice(at, m.index).replace(/[\t]/g, '    '))
    if (m[2] === 'm') apply(style, m[1])
    else if (m[0] === '\n' || m[0] === '\r') chunk(m[0])
    at = m.index + m[0].length
  }
  chunk(text.slice(at))
  if (line.length) lines.push(line)
  return lines
}
