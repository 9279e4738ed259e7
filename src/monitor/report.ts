// From a window's summed counters to the fairness report: per group rates with intervals, per
// attribute gaps as Fairlearn defines them (max − min "between groups", ratio min / max,
// equalized odds = the larger of the TPR and FPR differences), and drift against the baseline.
import type { GroupLayout } from './layout.js'
import { psi, wilson, newcombe, type Interval } from './stats.js'
import { suppressedGroups } from './suppression.js'
import { LAT_BINS, latencyEdge, SHARE_UNIT, type WindowSums } from './window.js'

export interface ReportSettings {
  minSamples: number
  minLabelled: number
  reportMin: number
  z: number
}

export interface BaselineGroup { n: number, selectionRate: number, histogram: number[] }
/** Baseline per attribute name, per group value. */
export type Baseline = Map<string, Map<string, BaselineGroup>>

export interface GroupReport {
  n: number
  status: 'ok' | 'insufficient'
  selection_rate: number
  selection_rate_ci: Interval
  labelled: number
  positives: number
  negatives: number
  tpr: number | null
  /** Wilson interval of the TPR (null with the TPR). */
  tpr_ci: Interval | null
  fpr: number | null
  fpr_ci: Interval | null
  calibration_error: number | null
  latency_ms: { p50: number | null, p95: number | null, p99: number | null }
  drift: { psi: number | null, selection_rate_change: number | null }
}

export interface AttributeReport {
  groups: Record<string, GroupReport>
  /**
   * Groups not shown: those with fewer than report_min rows, and the smallest others it takes for
   * the hidden ones to hold ≥ report_min rows together (complementary suppression, suppression.ts).
   */
  suppressed: number
  gaps: {
    demographic_parity_difference: number | null
    demographic_parity_difference_ci: Interval | null
    demographic_parity_ratio: number | null
    equal_opportunity_difference: number | null
    /** Newcombe interval of the highest TPR minus the lowest. */
    equal_opportunity_difference_ci: Interval | null
    false_positive_rate_difference: number | null
    false_positive_rate_difference_ci: Interval | null
    equalized_odds_difference: number | null
    calibration_gap: number | null
    latency_p95_ratio: number | null
    /** Groups the selection-rate gaps compare (highest and lowest rate). */
    selection_rate_extremes: [string, string] | null
  }
  drift: { demographic_parity_difference_change: number | null, max_psi: number | null }
}

export interface VariantReport {
  n: number
  /** Requests the n rows came in (the latency SLO counts requests, not rows). */
  requests: number
  selection_rate: number | null
  /** Over requests: each request once, whatever its rows. The groups' latencies are over rows. */
  latency_ms: { p50: number | null, p95: number | null, p99: number | null }
  late_events: number
  late_labels: number
  /** Predictions and labels left out because their score was not a finite number. */
  non_finite_scores: number
  attributes: Record<string, AttributeReport>
}

/** A group's rate as k of n (selection: positive decisions of rows; TPR: true positives of positives). */
export interface Rate { name: string, k: number, n: number }

/** The groups with the highest and the lowest rate (the first of equal ones); null with fewer than two. */
export function extremesOf (xs: readonly Rate[]): [Rate, Rate] | null {
  if (xs.length < 2) return null
  let hi = xs[0]!
  let lo = xs[0]!
  for (const g of xs) {
    if (g.k / g.n > hi.k / hi.n) hi = g
    if (g.k / g.n < lo.k / lo.n) lo = g
  }
  return [hi, lo]
}

/** Highest rate minus lowest, with Newcombe's interval; both null with fewer than two groups. */
function spread (xs: Rate[], z: number): { diff: number | null, ci: Interval | null } {
  const e = extremesOf(xs)
  if (e === null) return { diff: null, ci: null }
  const [hi, lo] = e
  return { diff: hi.k / hi.n - lo.k / lo.n, ci: newcombe(hi.k, hi.n, lo.k, lo.n, z) }
}

/** Quantile q of a latency histogram, interpolated geometrically inside the bin. */
export function latencyQuantile (hist: ArrayLike<number>, at: number, q: number): number | null {
  let n = 0
  for (let b = 0; b < LAT_BINS; b++) n += hist[at + b]!
  if (n === 0) return null
  const target = q * n
  let cum = 0
  for (let b = 0; b < LAT_BINS; b++) {
    const c = hist[at + b]!
    if (c > 0 && cum + c >= target) {
      const lo = b === 0 ? 0 : latencyEdge(b - 1)
      const hi = latencyEdge(b)
      const f = (target - cum) / c
      return b === 0 ? hi * f : lo * (hi / lo) ** f
    }
    cum += c
  }
  return latencyEdge(LAT_BINS - 1)
}

const maxMin = (xs: number[]): [number, number] => [Math.max(...xs), Math.min(...xs)]
const nn = (x: number): number | null => Number.isFinite(x) ? x : null

export function buildVariantReport (layout: GroupLayout, s: WindowSums, scoreBins: number, baseline: Baseline | undefined, opt: ReportSettings, late: number, lateLabels: number, nonFinite = 0): VariantReport {
  const attributes: Record<string, AttributeReport> = {}
  for (const attr of layout.attributes) {
    const groups: Record<string, GroupReport> = {}
    let suppressed = 0
    const eligible: Rate[] = []
    const tprs: Rate[] = []
    const fprs: Rate[] = []
    const cals: number[] = []
    const p95s: number[] = []
    const psis: number[] = []
    const base = baseline?.get(attr.name)
    const hidden = suppressedGroups(s.n, layout, attr, opt.reportMin)
    attr.values.forEach((value, gid) => {
      const c = attr.offset + gid
      const n = s.n[c]!
      if (n === 0) return // absent groups take no part, as in Fairlearn
      if (hidden.has(gid)) { suppressed++; return }
      const k = s.pos[c]!
      const L = s.labels
      const tp = L.tp[c]!; const fn = L.fn[c]!; const fp = L.fp[c]!; const tn = L.tn[c]!
      const positives = tp + fn
      const negatives = fp + tn
      const labelled = positives + negatives
      const ok = n >= opt.minSamples
      const tpr = positives >= opt.minLabelled ? tp / positives : null
      const fpr = negatives >= opt.minLabelled ? fp / negatives : null
      const cal = labelled >= opt.minLabelled ? L.labelledScore[c]! / labelled - positives / labelled : null
      const lat = c * LAT_BINS
      const p95 = latencyQuantile(s.latHist, lat, 0.95)
      const b = base?.get(value)
      let groupPsi: number | null = null
      if (b !== undefined && b.histogram.length === scoreBins) groupPsi = nn(psi(s.scoreHist.subarray(c * scoreBins, (c + 1) * scoreBins), b.histogram))
      const rate = k / n
      groups[value] = {
        n,
        status: ok ? 'ok' : 'insufficient',
        selection_rate: rate,
        selection_rate_ci: wilson(k, n, opt.z),
        labelled,
        positives,
        negatives,
        tpr,
        tpr_ci: tpr === null ? null : wilson(tp, positives, opt.z),
        fpr,
        fpr_ci: fpr === null ? null : wilson(fp, negatives, opt.z),
        calibration_error: cal,
        latency_ms: { p50: latencyQuantile(s.latHist, lat, 0.5), p95, p99: latencyQuantile(s.latHist, lat, 0.99) },
        drift: { psi: groupPsi, selection_rate_change: b === undefined ? null : rate - b.selectionRate }
      }
      if (!ok) return
      eligible.push({ name: value, n, k })
      if (tpr !== null) tprs.push({ name: value, k: tp, n: positives })
      if (fpr !== null) fprs.push({ name: value, k: fp, n: negatives })
      if (cal !== null) cals.push(cal)
      if (p95 !== null) p95s.push(p95)
      if (groupPsi !== null) psis.push(groupPsi)
    })
    let dpd: number | null = null
    let dpr: number | null = null
    let ci: Interval | null = null
    let extremes: [string, string] | null = null
    let dpdChange: number | null = null
    const dp = extremesOf(eligible)
    if (dp !== null) {
      const [hi, lo] = dp
      const rh = hi.k / hi.n
      const rl = lo.k / lo.n
      dpd = rh - rl
      // 0/0 when nobody is selected: undefined, as Fairlearn's nan.
      dpr = rh === 0 ? null : rl / rh
      ci = newcombe(hi.k, hi.n, lo.k, lo.n, opt.z)
      extremes = [hi.name, lo.name]
      if (base !== undefined) {
        const baseRates = eligible.map(g => base.get(g.name)?.selectionRate).filter((r): r is number => r !== undefined)
        if (baseRates.length >= 2) { const [mx, mn] = maxMin(baseRates); dpdChange = dpd - (mx - mn) }
      }
    }
    const diff = (xs: number[]): number | null => { if (xs.length < 2) return null; const [mx, mn] = maxMin(xs); return mx - mn }
    const tprGap = spread(tprs, opt.z)
    const fprGap = spread(fprs, opt.z)
    const eod = tprGap.diff
    const fprd = fprGap.diff
    const [p95hi, p95lo] = p95s.length >= 2 ? maxMin(p95s) : [NaN, NaN]
    attributes[attr.name] = {
      groups,
      suppressed,
      gaps: {
        demographic_parity_difference: dpd,
        demographic_parity_difference_ci: ci,
        demographic_parity_ratio: dpr,
        equal_opportunity_difference: eod,
        equal_opportunity_difference_ci: tprGap.ci,
        false_positive_rate_difference: fprd,
        false_positive_rate_difference_ci: fprGap.ci,
        equalized_odds_difference: eod === null && fprd === null ? null : Math.max(eod ?? -Infinity, fprd ?? -Infinity),
        calibration_gap: diff(cals),
        latency_p95_ratio: p95s.length >= 2 && p95lo > 0 ? p95hi / p95lo : null,
        selection_rate_extremes: extremes
      },
      drift: { demographic_parity_difference_change: dpdChange, max_psi: psis.length > 0 ? Math.max(...psis) : null }
    }
  }
  return {
    n: s.total,
    requests: Math.round(s.requests / SHARE_UNIT),
    selection_rate: s.total > 0 ? s.totalPositive / s.total : null,
    latency_ms: { p50: latencyQuantile(s.latAll, 0, 0.5), p95: latencyQuantile(s.latAll, 0, 0.95), p99: latencyQuantile(s.latAll, 0, 0.99) },
    late_events: late,
    late_labels: lateLabels,
    non_finite_scores: nonFinite,
    attributes
  }
}
