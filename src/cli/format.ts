// Text output helpers: tables, ages, one-line summaries.
import { safeText } from './terminal.ts'

export function age(iso: string | null, now: Date): string {
  if (!iso) return '-'
  const s = Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000))
  if (s < 60) return `${s}s ago`
  if (s < 3600) return `${Math.floor(s / 60)}m ago`
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`
  return `${Math.floor(s / 86400)}d ago`
}

export function oneLine(text: string, max = 60): string {
  const t = text.replace(/\s+/g, ' ').trim()
  return t.length > max ? t.slice(0, max - 1) + '…' : t
}

/** Left-aligned columns; the last column is not padded. */
export function table(rows: string[][], header?: string[]): string {
  // Escaped here too (io.out would anyway), so a cell holding control characters is measured as it will show.
  const all = (header ? [header, ...rows] : rows).map(r => r.map(safeText))
  if (all.length === 0) return ''
  const widths = all[0].map((_, i) => Math.max(...all.map(r => [...(r[i] ?? '')].length)))
  return all.map(r => r.map((c, i) => i === r.length - 1 ? c : c + ' '.repeat(widths[i] - [...c].length)).join('  ').trimEnd()).join('\n') + '\n'
}

export function list(values: string[]): string {
  return values.length ? values.join(', ') : '-'
}

/** "1 writer", "3 writers", "0 operations". */
export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`
}
