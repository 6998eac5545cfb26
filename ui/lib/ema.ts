// EMA smoothing as TensorBoard does it (debiased, so the first points are not pulled to 0); nulls stay gaps. Pure.
export function ema(ys: Array<number | null>, weight: number): Array<number | null> {
  if (!(weight > 0)) return ys
  const out: Array<number | null> = new Array(ys.length)
  let last = 0
  let n = 0
  for (let i = 0; i < ys.length; i++) {
    const y = ys[i]
    if (y === null || !Number.isFinite(y)) { out[i] = null; continue }
    last = last * weight + (1 - weight) * y
    n++
    out[i] = last / (1 - Math.pow(weight, n))
  }
  return out
}
