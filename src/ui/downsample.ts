// Chart data cut to the pixels that show it. uPlot draws series on one shared x array, so several runs are aligned
// on one grid: each x bucket holds each run's min and max (in x order), so a spike survives at any zoom. Few points
// are sent as they are. Pure: tested without a server or a browser.

export interface RunPoints { x: ArrayLike<number>; y: ArrayLike<number> }
export interface Aligned {
  x: number[]
  /** per run, one value (or null: no point there) per x */
  ys: Array<Array<number | null>>
  /** true: every point in range is there as it is; false: min/max per bucket */
  exact: boolean
  /** points in range before downsampling, summed over the runs */
  points: number
}

/**
 * Values sent per chart are bounded by ~24 per pixel column whatever the number of runs (100 runs x 100,000 points
 * at 2,000 px: 240 buckets each, ~0.4 MB of JSON); up to 12 runs get one bucket per pixel.
 */
export function bucketsPerRun(px: number, runs: number): number {
  return Math.max(64, Math.min(Math.floor(px), Math.floor((px * 12) / Math.max(1, runs))))
}

/** Runs' points with x in [from, to] (NaN: unbounded), x ascending in each run, aligned for uPlot. */
export function align(runs: RunPoints[], px: number, from = NaN, to = NaN): Aligned {
  const ranges = runs.map(r => [Number.isNaN(from) ? 0 : lowerBound(r.x, from), Number.isNaN(to) ? r.x.length : upperBound(r.x, to)])
  const points = ranges.reduce((n, [lo, hi]) => n + Math.max(0, hi - lo), 0)
  const buckets = bucketsPerRun(px, runs.length)
  if (points <= buckets * 2) return exact(runs, ranges, points)
  let xmin = Infinity
  let xmax = -Infinity
  runs.forEach((r, k) => {
    const [lo, hi] = ranges[k]
    if (hi > lo) { xmin = Math.min(xmin, r.x[lo]); xmax = Math.max(xmax, r.x[hi - 1]) }
  })
  const span = xmax - xmin || 1
  const w = span / buckets
  const x: number[] = new Array(buckets * 2)
  for (let b = 0; b < buckets; b++) { x[2 * b] = xmin + (b + 0.25) * w; x[2 * b + 1] = xmin + (b + 0.75) * w }
  const ys = runs.map((r, k) => {
    const out: Array<number | null> = new Array(buckets * 2).fill(null)
    const [lo, hi] = ranges[k]
    // Each bucket's end found by binary search, then one tight pass over its values (no division per point).
    let i = lo
    while (i < hi) {
      const b = Math.min(buckets - 1, Math.floor((r.x[i] - xmin) / w))
      const end = b === buckets - 1 ? hi : Math.min(hi, lowerBound(r.x, xmin + (b + 1) * w, i + 1))
      const y = r.y
      let min = i
      let max = i
      let vmin = y[i]
      let vmax = vmin
      for (let j = i + 1; j < end; j++) {
        const v = y[j]
        if (v < vmin) { vmin = v; min = j } else if (v > vmax) { vmax = v; max = j }
      }
      out[2 * b] = round(min <= max ? vmin : vmax)
      out[2 * b + 1] = round(min <= max ? vmax : vmin)
      i = Math.max(end, i + 1)
    }
    return out
  })
  return { x, ys, exact: false, points }
}

function exact(runs: RunPoints[], ranges: number[][], points: number): Aligned {
  const xs = new Set<number>()
  runs.forEach((r, k) => { for (let i = ranges[k][0]; i < ranges[k][1]; i++) xs.add(r.x[i]) })
  const x = [...xs].sort((a, b) => a - b)
  const col = new Map(x.map((v, i) => [v, i]))
  const ys = runs.map((r, k) => {
    const out: Array<number | null> = new Array(x.length).fill(null)
    for (let i = ranges[k][0]; i < ranges[k][1]; i++) out[col.get(r.x[i])!] = r.y[i]
    return out
  })
  return { x, ys, exact: true, points }
}

/** Six significant digits: what a chart and its hover can show, at half the bytes of a full double. */
const round = (v: number) => Number(v.toPrecision(6))

function lowerBound(xs: ArrayLike<number>, v: number, from = 0): number {
  let a = from
  let b = xs.length
  while (a < b) { const m = (a + b) >> 1; if (xs[m] < v) a = m + 1; else b = m }
  return a
}

function upperBound(xs: ArrayLike<number>, v: number): number {
  let a = 0
  let b = xs.length
  while (a < b) { const m = (a + b) >> 1; if (xs[m] <= v) a = m + 1; else b = m }
  return a
}

/** x made ascending: points of a series whose steps went back (a restarted job) are re-ordered by x, stably. */
export function ascending(x: number[], y: number[]): { x: number[]; y: number[] } {
  let sorted = true
  for (let i = 1; i < x.length; i++) if (x[i] < x[i - 1]) { sorted = false; break }
  if (sorted) return { x, y }
  const idx = x.map((_, i) => i).sort((a, b) => x[a] - x[b] || a - b)
  return { x: idx.map(i => x[i]), y: idx.map(i => y[i]) }
}

/** Indices of at most ~2 * buckets points keeping each bucket's min and max (by index order): one run's static copy. */
export function keepIndices(values: ArrayLike<number>, buckets: number): number[] {
  const n = values.length
  if (n <= buckets * 2) return Array.from({ length: n }, (_, i) => i)
  const out: number[] = []
  const w = n / buckets
  for (let b = 0; b < buckets; b++) {
    const lo = Math.floor(b * w)
    const hi = Math.min(n, Math.floor((b + 1) * w))
    let min = lo
    let max = lo
    for (let i = lo + 1; i < hi; i++) { if (values[i] < values[min]) min = i; if (values[i] > values[max]) max = i }
    out.push(Math.min(min, max))
    if (max !== min) out.push(Math.max(min, max))
  }
  return out
}
