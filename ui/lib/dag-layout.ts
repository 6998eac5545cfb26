// A layered layout for the idea DAG: each idea one layer below its deepest parent, ideas ordered within a layer
// by the mean position of their parents (a few sweeps of the barycenter heuristic), so edges mostly run down
// without crossing. Pure: positions for Cytoscape's preset layout.

export interface DagNode { id: string; parents: string[] }
export interface Placed { id: string; layer: number; order: number; x: number; y: number }

/**
 * maxPerRow: a layer wider than this wraps onto several rows (stacked a little closer than layers), so a lab of 500
 * ideas is a tall page to pan down, not a line 40,000 px wide; default ~1.5 sqrt(n), at least 8.
 */
export function layered(nodes: DagNode[], o: { dx?: number; dy?: number; maxPerRow?: number } = {}): Map<string, Placed> {
  const dx = o.dx ?? 180
  const dy = o.dy ?? 110
  const perRow = o.maxPerRow ?? Math.max(8, Math.ceil(1.5 * Math.sqrt(nodes.length)))
  const byId = new Map(nodes.map(n => [n.id, n]))
  const layer = new Map<string, number>()
  const depth = (id: string, seen: Set<string>): number => {
    const known = layer.get(id)
    if (known !== undefined) return known
    if (seen.has(id)) return 0 // a cycle (refused by the lab, but records are hostile input): cut it
    seen.add(id)
    const n = byId.get(id)!
    const ps = n.parents.filter(p => byId.has(p))
    const d = ps.length ? Math.max(...ps.map(p => depth(p, seen))) + 1 : 0
    layer.set(id, d)
    return d
  }
  for (const n of nodes) depth(n.id, new Set())
  const layers: string[][] = []
  for (const n of nodes) (layers[layer.get(n.id)!] ??= []).push(n.id)
  const pos = new Map<string, number>()
  layers.forEach(l => l.forEach((id, i) => pos.set(id, i)))
  const children = new Map<string, string[]>()
  for (const n of nodes) for (const p of n.parents) if (byId.has(p)) (children.get(p) ?? children.set(p, []).get(p)!).push(n.id)
  const mean = (ids: string[], fallback: number) => ids.length ? ids.reduce((s, x) => s + pos.get(x)!, 0) / ids.length : fallback
  for (let sweep = 0; sweep < 4; sweep++) {
    const down = sweep % 2 === 0
    const order = down ? layers.slice(1) : layers.slice(0, -1).reverse()
    for (const l of order) {
      const key = new Map(l.map(id => [id, mean(down ? byId.get(id)!.parents.filter(p => byId.has(p)) : children.get(id) ?? [], pos.get(id)!)]))
      l.sort((a, b) => key.get(a)! - key.get(b)! || (a < b ? -1 : 1))
      l.forEach((id, i) => pos.set(id, i))
    }
  }
  const widest = Math.min(perRow, Math.max(1, ...layers.map(l => l?.length ?? 0)))
  const out = new Map<string, Placed>()
  let y = 0
  layers.forEach((l, li) => {
    const rows = Math.ceil((l?.length ?? 0) / perRow)
    for (let r = 0; r < rows; r++) {
      const row = l.slice(r * perRow, (r + 1) * perRow)
      // each row centred under the widest one
      row.forEach((id, i) => out.set(id, { id, layer: li, order: r * perRow + i, x: (i - (row.length - 1) / 2) * dx + ((widest - 1) / 2) * dx, y }))
      y += r < rows - 1 ? dy * 0.6 : dy
    }
  })
  return out
}
