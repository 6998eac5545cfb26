// Deep links: every view's state lives in the URL hash (#/view/arg?key=value), so a link can be pasted into a note.
// The hash (not the path) works the same served and in a static export opened from disk.
import { useEffect, useState } from 'preact/hooks'

export interface Route { view: string; arg: string; params: URLSearchParams }

export function parseRoute(hash: string): Route {
  const h = hash.replace(/^#\/?/, '')
  const q = h.indexOf('?')
  const [view = 'experiments', arg = ''] = (q >= 0 ? h.slice(0, q) : h).split('/').map(decodeURIComponent)
  return { view: view || 'experiments', arg, params: new URLSearchParams(q >= 0 ? h.slice(q + 1) : '') }
}

export function href(view: string, arg = '', params: Record<string, string | number | boolean | null | undefined> = {}): string {
  const p = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '' && v !== false) p.set(k, String(v))
  const qs = p.toString()
  return `#/${encodeURIComponent(view)}${arg ? '/' + encodeURIComponent(arg) : ''}${qs ? '?' + qs : ''}`
}

/** Changes the URL: replace (typing in a filter) keeps one history entry, push (a new view) adds one. */
export function go(to: string, replace = false) {
  if (replace) history.replaceState(null, '', to)
  else history.pushState(null, '', to)
  window.dispatchEvent(new Event('lab-route'))
}

/** A view's parameter as the URL has it, and a setter that writes it back (replacing the history entry). */
export function setParam(r: Route, key: string, value: string | null) {
  const p = new URLSearchParams(r.params)
  if (value === null || value === '') p.delete(key)
  else p.set(key, value)
  go(href(r.view, r.arg, Object.fromEntries(p)), true)
}

export function useRoute(): Route {
  const [r, setR] = useState(() => parseRoute(location.hash))
  useEffect(() => {
    const on = () => setR(parseRoute(location.hash))
    window.addEventListener('hashchange', on)
    window.addEventListener('lab-route', on)
    window.addEventListener('popstate', on)
    return () => { window.removeEventListener('hashchange', on); window.removeEventListener('lab-route', on); window.removeEventListener('popstate', on) }
  }, [])
  return r
}
