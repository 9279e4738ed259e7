// Per-group rates and gaps of every variant, computed by the live monitor itself: the rows are
// recorded into a Monitor (one window, a frozen clock) with their labels joined, and its report
// is read back. So evaluate and /v1/fairness share one definition of every number (Fairlearn's,
// test/monitor/fairlearn.test.ts), intervals included; this file only picks the fields the
// offline report shows.
import type { Clock } from '../clock.js'
import type { Config } from '../config/index.js'
import type { Manifest } from '../models/index.js'
import { Monitor, type AttributeReport, type Interval, type StoredPrediction } from '../monitor/index.js'
import type { Dataset } from './dataset.js'

export interface GroupRow {
  n: number
  status: 'ok' | 'insufficient'
  selection_rate: number
  selection_rate_ci: Interval
  positives: number
  negatives: number
  tpr: number | null
  tpr_ci: Interval | null
  fpr: number | null
  fpr_ci: Interval | null
  calibration_error: number | null
}

export interface Gaps {
  demographic_parity_difference: number | null
  demographic_parity_difference_ci: Interval | null
  demographic_parity_ratio: number | null
  equal_opportunity_difference: number | null
  equal_opportunity_difference_ci: Interval | null
  false_positive_rate_difference: number | null
  false_positive_rate_difference_ci: Interval | null
  equalized_odds_difference: number | null
  calibration_gap: number | null
}

export interface AttributeTable { groups: Record<string, GroupRow>, suppressed: number, gaps: Gaps }

/** A clock that stands still: every row lands in one bucket of one window. */
const frozen = (at: number): Clock => ({ now: () => at, wallNow: () => at, setTimer: () => null, clearTimer: () => {} })

/**
 * Records each variant's decisions (and, for labelled rows, the label) into a fresh monitor and
 * returns its per-attribute tables, keyed by variant name.
 */
export function groupTables (model: { name: string, manifest: Manifest }, names: string[], ds: Dataset, scores: Map<string, Float32Array>, decisions: Map<string, Uint8Array>, cfg: Config['monitor']): Map<string, Record<string, AttributeTable>> {
  const at = 1_700_000_000_000
  // The whole data set must sit in the window: one bucket, never evicted, never cached stale.
  const monitorCfg = { ...cfg, refresh_ms: 0 }
  const mon = new Monitor([{ name: model.name, manifest: model.manifest, variants: names }], monitorCfg, frozen(at))
  const attrs = ds.attrs
  names.forEach((name, vi) => {
    const s = scores.get(name)!
    const d = decisions.get(name)!
    for (let r = 0; r < ds.rows; r++) {
      mon.record(0, vi, at, ds.groups, r * attrs, s[r]!, d[r]!, 0)
      const y = ds.labels[r]!
      if (y < 0) continue
      const p: StoredPrediction = { model: 0, variant: vi, decision: d[r]!, score: s[r]!, ts: at, groups: ds.groups.subarray(r * attrs, (r + 1) * attrs) }
      mon.recordLabel(p, y)
    }
  })
  const report = mon.report(model.name)!
  const out = new Map<string, Record<string, AttributeTable>>()
  for (const name of names) {
    const tables: Record<string, AttributeTable> = {}
    for (const [attr, a] of Object.entries(report.variants[name]!.attributes)) tables[attr] = table(a)
    out.set(name, tables)
  }
  return out
}

function table (a: AttributeReport): AttributeTable {
  const groups: Record<string, GroupRow> = {}
  for (const [g, r] of Object.entries(a.groups)) {
    groups[g] = {
      n: r.n,
      status: r.status,
      selection_rate: r.selection_rate,
      selection_rate_ci: r.selection_rate_ci,
      positives: r.positives,
      negatives: r.negatives,
      tpr: r.tpr,
      tpr_ci: r.tpr_ci,
      fpr: r.fpr,
      fpr_ci: r.fpr_ci,
      calibration_error: r.calibration_error
    }
  }
  const g = a.gaps
  return {
    groups,
    suppressed: a.suppressed,
    gaps: {
      demographic_parity_difference: g.demographic_parity_difference,
      demographic_parity_difference_ci: g.demographic_parity_difference_ci,
      demographic_parity_ratio: g.demographic_parity_ratio,
      equal_opportunity_difference: g.equal_opportunity_difference,
      equal_opportunity_difference_ci: g.equal_opportunity_difference_ci,
      false_positive_rate_difference: g.false_positive_rate_difference,
      false_positive_rate_difference_ci: g.false_positive_rate_difference_ci,
      equalized_odds_difference: g.equalized_odds_difference,
      calibration_gap: g.calibration_gap
    }
  }
}
