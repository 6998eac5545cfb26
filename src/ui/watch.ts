// Watches what moves the lab: its refs (loose under refs/lab, and packed-refs) and the run journals of jobs running
// in this clone. A ref change refreshes the view (incrementally: only the changed writers' records are read); a
// journal change only tells the pages which experiment's output or metrics grew.
import { watch, existsSync, mkdirSync, type FSWatcher } from 'node:fs'
import path from 'node:path'
import type { LabView } from './model.ts'
import { runsDir } from '../lab/journal.ts'

export interface Watcher { close(): void }

/**
 * debounceMs: changes within this window make one refresh (a write moves several files). A refresh that fails (a
 * record read while another process writes it) is tried again shortly; and every `checkMs` the refs are compared
 * once more (one for-each-ref; nothing is read unless a tip moved), in case an event was missed.
 */
export function watchLab(view: LabView, debounceMs = 40, checkMs = 5000): Watcher {
  const repo = view.lab.repo
  const watchers: FSWatcher[] = []
  let timer: NodeJS.Timeout | null = null
  let failures = 0
  const refresh = (delay = debounceMs) => {
    if (timer) return
    timer = setTimeout(() => {
      timer = null
      view.refresh().then(() => { failures = 0 }, err => {
        if (++failures === 3) view.emit('error', err)
        refresh(Math.min(2000, 100 * failures))
      })
    }, delay)
  }
  const check = setInterval(() => refresh(0), checkMs)
  check.unref()
  const journals = new Map<string, NodeJS.Timeout>()
  const journal = (id: string) => {
    if (journals.has(id)) return
    journals.set(id, setTimeout(() => { journals.delete(id); view.emit('journal', id) }, debounceMs * 2))
  }
  const add = (dir: string, recursive: boolean, fn: (file: string) => void) => {
    try {
      const w = watch(dir, { recursive, persistent: false }, (_ev, file) => fn(file ? String(file) : ''))
      w.on('error', () => undefined)
      watchers.push(w)
    } catch { /* not there (yet): the parent's watch covers it */ }
  }
  const common = repo.commonDir
  const labRefs = path.join(common, 'refs', 'lab')
  if (!existsSync(labRefs)) mkdirSync(labRefs, { recursive: true })
  add(labRefs, true, f => { if (!f.endsWith('.lock')) refresh() })
  // packed-refs is replaced by a rename: watch its folder
  add(common, false, f => { if (f === 'packed-refs') refresh() })
  const runs = runsDir(view.lab)
  if (!existsSync(runs)) mkdirSync(runs, { recursive: true })
  add(runs, true, f => {
    // <id>.<attempt>/output.log or metrics.jsonl
    const m = /^([0-9a-f]+)\.\d+[/\\]/.exec(f)
    if (m) journal(m[1])
    else refresh()
  })
  return {
    close() {
      for (const w of watchers) w.close()
      clearInterval(check)
      if (timer) clearTimeout(timer)
      for (const t of journals.values()) clearTimeout(t)
    },
  }
}
