// One evaluation of one rule against a variant's report: pass, breach or inconclusive, with the
// numbers that decided it. Pure functions, so the statistics are tested without clocks.
//
// A fairness gap breaches only when the confidence interval of the gap lies wholly beyond the
// threshold: for a difference its LOWER bound must exceed the threshold (Newcombe's interval
// between the two groups that define the gap); for demographic_parity_ratio the UPPER bound of
// the ratio must be below it. So a breach is a statistically significant one, and a small group
// with a noisy rate cannot trigger an action on its own. It passes when the point estimate is
// within the threshold, and is inconclusive when fewer than two groups have min_samples (for
// TPR-based metrics: labelled positives; FPR: labelled negatives) or a value is undefined.
import type { AttributeReport, GroupReport, VariantReport } from '../monitor/index.js'
import { extremesOf, newcombe, wilson, type Interval, type Rate } from '../monitor/index.js'
import type { DriftRule, FairnessRule, Policy } from './schema.js'

export type Outcome = 'pass' | 'breach' | 'inconclusive'

export interface RuleResult {
  rule: string
  kind: 'fairness' | 'drift' | 'latency'
  metric: string
  attribute?: string
  outcome: Outcome
  value: number | null
  ci?: Interval
  threshold: number
  reason?: string
  groups?: Record<string, { n: number, rate: number }>
}

/** A group's rate as k of n; the gaps compare the extremes (extremesOf, as the report does). */
type Counted = Rate

function counted (groups: Record<string, GroupReport>, pick: (g: GroupReport) => [number, number] | null, min: number): Counted[] {
  const out: Counted[] = []
  for (const [name, g] of Object.entries(groups)) {
    const kn = pick(g)
    if (kn !== null && kn[1] >= min) out.push({ name, k: kn[0], n: kn[1] })
  }
  return out
}

const selection = (g: GroupReport): [number, number] => [Math.round(g.selection_rate * g.n), g.n]
const tprCounts = (g: GroupReport): [number, number] | null => g.positives === 0 || g.tpr === null ? null : [Math.round(g.tpr * g.positives), g.positives]
const fprCounts = (g: GroupReport): [number, number] | null => g.negatives === 0 || g.fpr === null ? null : [Math.round(g.fpr * g.negatives), g.negatives]

/** Number of pairwise comparisons a rule makes (for the Bonferroni correction). */
export function comparisons (rule: FairnessRule, a: AttributeReport | undefined): number {
  if (a === undefined) return 0
  const pick = rule.metric === 'equal_opportunity_difference' ? tprCounts : rule.metric === 'equalized_odds_difference' ? tprCounts : selection
  const k = counted(a.groups, pick, rule.min_samples).length
  const pairs = k * (k - 1) / 2
  return rule.metric === 'equalized_odds_difference' ? 2 * pairs : pairs
}

function gapResult (rule: FairnessRule, xs: Counted[], z: number): Omit<RuleResult, 'rule' | 'kind' | 'metric' | 'attribute' | 'threshold'> {
  if (xs.length < 2) return { outcome: 'inconclusive', value: null, reason: `fewer than 2 groups with ${rule.min_samples} samples` }
  const [hi, lo] = extremesOf(xs)!
  const value = hi.k / hi.n - lo.k / lo.n
  const ci = newcombe(hi.k, hi.n, lo.k, lo.n, z)
  const groups = { [hi.name]: { n: hi.n, rate: hi.k / hi.n }, [lo.name]: { n: lo.n, rate: lo.k / lo.n } }
  return { outcome: ci[0] > rule.threshold ? 'breach' : value <= rule.threshold ? 'pass' : 'inconclusive', value, ci, groups, ...(ci[0] <= rule.threshold && value > rule.threshold ? { reason: 'past the threshold but not significantly' } : {}) }
}

export function evaluateFairness (rule: FairnessRule, v: VariantReport | undefined, z: number): RuleResult {
  const base = { rule: rule.name, kind: 'fairness' as const, metric: rule.metric, attribute: rule.attribute, threshold: rule.threshold }
  const a = v?.attributes[rule.attribute]
  if (a === undefined) return { ...base, outcome: 'inconclusive', value: null, reason: 'no data for the attribute' }
  switch (rule.metric) {
    case 'demographic_parity_difference':
      return { ...base, ...gapResult(rule, counted(a.groups, selection, rule.min_samples), z) }
    case 'equal_opportunity_difference':
      return { ...base, ...gapResult(rule, counted(a.groups, tprCounts, rule.min_samples), z) }
    case 'equalized_odds_difference': {
      const t = gapResult(rule, counted(a.groups, tprCounts, rule.min_samples), z)
      const f = gapResult(rule, counted(a.groups, fprCounts, rule.min_samples), z)
      if (t.outcome === 'breach' || f.outcome === 'breach') return { ...base, ...(t.outcome === 'breach' ? t : f) }
      if (t.outcome === 'inconclusive' || f.outcome === 'inconclusive') return { ...base, outcome: 'inconclusive', value: Math.max(t.value ?? -Infinity, f.value ?? -Infinity), reason: t.reason ?? f.reason ?? 'inconclusive' }
      return { ...base, outcome: 'pass', value: Math.max(t.value!, f.value!) }
    }
    case 'demographic_parity_ratio': {
      const xs = counted(a.groups, selection, rule.min_samples)
      if (xs.length < 2) return { ...base, outcome: 'inconclusive', value: null, reason: `fewer than 2 groups with ${rule.min_samples} samples` }
      const [hi, lo] = extremesOf(xs)!
      if (hi.k === 0) return { ...base, outcome: 'inconclusive', value: null, reason: 'no group is selected: ratio undefined' }
      const value = (lo.k / lo.n) / (hi.k / hi.n)
      // Upper bound of min/max from the Wilson bounds (conservative: both at their extremes).
      const upper = Math.min(1, wilson(lo.k, lo.n, z)[1] / wilson(hi.k, hi.n, z)[0])
      const lower = wilson(lo.k, lo.n, z)[0] / wilson(hi.k, hi.n, z)[1]
      return { ...base, outcome: upper < rule.threshold ? 'breach' : value >= rule.threshold ? 'pass' : 'inconclusive', value, ci: [lower, upper] }
    }
    case 'calibration_gap':
    case 'latency_p95_ratio': {
      // No interval for these: the point estimate over groups with min_samples decides.
      const ok = Object.values(a.groups).filter(g => g.n >= rule.min_samples).length >= 2
      const value = a.gaps[rule.metric]
      if (!ok || value === null) return { ...base, outcome: 'inconclusive', value, reason: 'not enough groups or labels' }
      return { ...base, outcome: value > rule.threshold ? 'breach' : 'pass', value }
    }
  }
}

export function evaluateDrift (rule: DriftRule, v: VariantReport | undefined, z: number): RuleResult {
  const base = { rule: rule.name, kind: 'drift' as const, metric: rule.metric, attribute: rule.attribute, threshold: rule.threshold }
  const a = v?.attributes[rule.attribute]
  if (a === undefined) return { ...base, outcome: 'inconclusive', value: null, reason: 'no data for the attribute' }
  const eligible = Object.entries(a.groups).filter(([, g]) => g.n >= rule.min_samples)
  if (rule.metric === 'demographic_parity_difference_change') {
    const value = a.drift.demographic_parity_difference_change
    if (eligible.length < 2 || value === null) return { ...base, outcome: 'inconclusive', value, reason: 'not enough groups' }
    return { ...base, outcome: Math.abs(value) > rule.threshold ? 'breach' : 'pass', value }
  }
  let worst: { name: string, value: number, g: GroupReport } | null = null
  for (const [name, g] of eligible) {
    const value = rule.metric === 'psi' ? g.drift.psi : g.drift.selection_rate_change === null ? null : Math.abs(g.drift.selection_rate_change)
    if (value !== null && (worst === null || value > worst.value)) worst = { name, value, g }
  }
  if (worst === null) return { ...base, outcome: 'inconclusive', value: null, reason: `no group with ${rule.min_samples} samples and a baseline` }
  const groups = { [worst.name]: { n: worst.g.n, rate: worst.g.selection_rate } }
  if (rule.metric === 'psi') return { ...base, outcome: worst.value > rule.threshold ? 'breach' : 'pass', value: worst.value, groups }
  // Selection-rate change: significant only if the Wilson interval of the rate clears
  // baseline ± threshold.
  const [lo, hi] = wilson(Math.round(worst.g.selection_rate * worst.g.n), worst.g.n, z)
  const baseRate = worst.g.selection_rate - (worst.g.drift.selection_rate_change ?? 0)
  const breach = lo > baseRate + rule.threshold || hi < baseRate - rule.threshold
  return { ...base, outcome: breach ? 'breach' : worst.value <= rule.threshold ? 'pass' : 'inconclusive', value: worst.value, ci: [lo, hi], groups }
}

export function evaluateLatency (policy: Policy, v: VariantReport | undefined): RuleResult | null {
  const slo = policy.latency.slo
  if (slo === undefined) return null
  const base = { rule: slo.name, kind: 'latency' as const, metric: `latency_p${slo.percentile}_ms`, threshold: slo.threshold_ms }
  // Requests, not rows: one 1024-row request is one sample, so it cannot be 1% of the window alone.
  if (v === undefined || v.requests < slo.min_samples) return { ...base, outcome: 'inconclusive', value: null, reason: `fewer than ${slo.min_samples} requests in the window` }
  const value = slo.percentile === 50 ? v.latency_ms.p50 : slo.percentile === 95 ? v.latency_ms.p95 : v.latency_ms.p99
  if (value === null) return { ...base, outcome: 'inconclusive', value: null }
  return { ...base, outcome: value > slo.threshold_ms ? 'breach' : 'pass', value }
}
