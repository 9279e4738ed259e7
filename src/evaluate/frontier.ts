// The choice among variants: the Pareto frontier over the objectives, a weighted sum of the
// objectives normalised over the variants (best 1, worst 0), and how that choice moves with the
// weights — which variant wins over a grid of weights, and along each weight with the others held.

export const OBJECTIVES = ['accuracy', 'latency', 'gap', 'privacy'] as const
export type Objective = typeof OBJECTIVES[number]
export type Weights = Record<Objective, number>

/** What each objective reads, and which way is better. */
export const OBJECTIVE_INFO: Record<Objective, { label: string, better: 'higher' | 'lower' }> = {
  accuracy: { label: 'accuracy', better: 'higher' },
  latency: { label: 'median ms of a 32-row batch', better: 'lower' },
  gap: { label: 'max gap (max of the gap metrics over the gap attributes)', better: 'lower' },
  privacy: { label: 'membership advantage', better: 'lower' }
}

export const DEFAULT_WEIGHTS: Weights = { accuracy: 1, latency: 1, gap: 1, privacy: 1 }

export interface Point { name: string, values: Record<Objective, number | null> }

/** a dominates b: no worse on every objective, better on one (a missing value is the worst). */
export function dominates (a: Point, b: Point): boolean {
  let better = false
  for (const o of OBJECTIVES) {
    const x = orient(o, a.values[o])
    const y = orient(o, b.values[o])
    if (x < y) return false
    if (x > y) better = true
  }
  return better
}

/** Higher is better after orienting; null is worse than anything. */
function orient (o: Objective, v: number | null): number {
  if (v === null) return -Infinity
  return OBJECTIVE_INFO[o].better === 'higher' ? v : -v
}

export function frontier (points: Point[]): Set<string> {
  return new Set(points.filter(p => !points.some(q => q !== p && dominates(q, p))).map(p => p.name))
}

/** Each objective scaled over the variants to [0, 1], 1 the best (all 1 when every variant ties). */
export function normalised (points: Point[]): Map<string, Record<Objective, number>> {
  const out = new Map<string, Record<Objective, number>>(points.map(p => [p.name, { accuracy: 0, latency: 0, gap: 0, privacy: 0 }]))
  for (const o of OBJECTIVES) {
    const xs = points.map(p => orient(o, p.values[o])).filter(Number.isFinite)
    const lo = Math.min(...xs)
    const hi = Math.max(...xs)
    for (const p of points) {
      const x = orient(o, p.values[o])
      out.get(p.name)![o] = !Number.isFinite(x) ? 0 : hi > lo ? (x - lo) / (hi - lo) : 1
    }
  }
  return out
}

export function scoreOf (n: Record<Objective, number>, w: Weights): number {
  let s = 0
  let total = 0
  for (const o of OBJECTIVES) { s += w[o] * n[o]; total += w[o] }
  return total > 0 ? s / total : 0
}

export interface Choice { variant: string, score: number, runner_up: string | null, margin: number | null, scores: Record<string, number> }

/** The variant of the highest weighted score; ties go to the earlier variant (the manifest's preference). */
export function choose (points: Point[], w: Weights): Choice {
  const norm = normalised(points)
  const scores: Record<string, number> = {}
  for (const p of points) scores[p.name] = scoreOf(norm.get(p.name)!, w)
  const ranked = [...points].sort((a, b) => scores[b.name]! - scores[a.name]!)
  const best = ranked[0]!
  const second = ranked[1]
  return { variant: best.name, score: scores[best.name]!, runner_up: second?.name ?? null, margin: second === undefined ? null : scores[best.name]! - scores[second.name]!, scores }
}

export const GRID = [0, 0.5, 1, 2] as const
export const SWEEP = [0, 0.25, 0.5, 1, 2, 4, 8] as const

export interface Sensitivity {
  /** Share of the weight grid (each weight in GRID, not all zero) each variant wins. */
  grid: { weights: readonly number[], combinations: number, wins: Record<string, number> }
  /** Along one weight, the others held at the chosen weights: the winner at each value. */
  sweeps: Record<Objective, Array<{ weight: number, winner: string }>>
}

export function sensitivity (points: Point[], w: Weights): Sensitivity {
  const wins: Record<string, number> = Object.fromEntries(points.map(p => [p.name, 0]))
  let combinations = 0
  for (const a of GRID) for (const l of GRID) for (const g of GRID) for (const p of GRID) {
    if (a + l + g + p === 0) continue
    combinations++
    wins[choose(points, { accuracy: a, latency: l, gap: g, privacy: p }).variant]!++
  }
  const sweeps = {} as Sensitivity['sweeps']
  for (const o of OBJECTIVES) sweeps[o] = SWEEP.map(x => ({ weight: x, winner: choose(points, { ...w, [o]: x }).variant }))
  return { grid: { weights: GRID, combinations, wins }, sweeps }
}

/** Parses "accuracy=1,latency=0.5,gap=2,privacy=1" (missing names keep `base`). */
export function parseWeights (text: string, base: Weights): Weights | string {
  const w = { ...base }
  for (const part of text.split(',').map(s => s.trim()).filter(s => s !== '')) {
    const m = /^([a-z]+)=([0-9]*\.?[0-9]+)$/.exec(part)
    if (m === null) return `"${part}" is not name=number`
    const name = m[1] as Objective
    if (!OBJECTIVES.includes(name)) return `unknown objective "${m[1]}" (${OBJECTIVES.join(', ')})`
    const x = Number(m[2])
    if (!(x >= 0 && x <= 1000)) return `${name} must be within [0, 1000]`
    w[name] = x
  }
  if (OBJECTIVES.every(o => w[o] === 0)) return 'at least one weight must be above 0'
  return w
}
