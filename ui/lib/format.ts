// How numbers, times and durations read in tables.
export const num = (v: number | null | undefined) => v === null || v === undefined ? '' : Math.abs(v) >= 1e6 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(3) : String(Number(v.toPrecision(5)))
export const time = (iso: string | null | undefined) => iso ? iso.replace('T', ' ').slice(0, 19) : ''
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return ''
  const s = Math.round((now - Date.parse(iso)) / 1000)
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.round(s / 60)}m ago` : s < 86400 ? `${Math.round(s / 3600)}h ago` : `${Math.round(s / 86400)}d ago`
}
export function dur(e: { started_at: string | null; finished_at: string | null }, now = Date.now()): string {
  if (!e.started_at) return ''
  const s = Math.max(0, Math.round(((e.finished_at ? Date.parse(e.finished_at) : now) - Date.parse(e.started_at)) / 1000))
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`
}
export const short = (id: string | null | undefined) => id ? id.slice(0, 8) : ''
export const STATUS_COLORS: Record<string, string> = {
  queued: '#8a8f98', claimed: '#b08900', setting_up: '#b08900', running: '#1f6feb', succeeded: '#1a7f37', failed: '#cf222e',
  cancelled: '#6e7781', timed_out: '#bc4c00', lost: '#8250df', open: '#1f6feb', concluded: '#1a7f37', abandoned: '#8a8f98',
}
