// Per-group fairness series (DESIGN.md), filled from the monitor's report at scrape time: the
// hot path never touches a per-group Prometheus child, and suppressed groups never appear.
import client from 'prom-client'
import type { GatewayMetrics } from './metrics.js'

/** The figures these series read from a fairness report (the monitor's report has them). */
interface GroupFigures {
  n: number
  selection_rate: number
  latency_ms: { p95: number | null }
  drift: { psi: number | null, selection_rate_change: number | null }
}
interface AttributeFigures {
  groups: Record<string, GroupFigures>
  gaps: object
  drift: { demographic_parity_difference_change: number | null }
}

/** Where the per-group series come from: the in-process monitor, or `fairgate monitor`'s. */
export interface FairnessSource {
  modelNames: () => string[]
  report: (model: string) => { variants: Record<string, { attributes: Record<string, AttributeFigures> }> } | undefined
}

export function registerFairnessMetrics (metrics: GatewayMetrics, monitor: FairnessSource): void {
  const registers = [metrics.registry]
  const selection = new client.Gauge({ name: 'fairgate_group_selection_rate', help: 'Share of positive decisions per group over the monitor window', labelNames: ['model', 'variant', 'attribute', 'group'], registers })
  const p95 = new client.Gauge({ name: 'fairgate_group_latency_p95_seconds', help: 'p95 request latency per group over the monitor window', labelNames: ['model', 'variant', 'attribute', 'group'], registers })
  const gap = new client.Gauge({ name: 'fairgate_fairness_gap', help: 'Fairness gap per attribute over the monitor window (Fairlearn definitions)', labelNames: ['model', 'variant', 'attribute', 'metric'], registers })
  const drift = new client.Gauge({ name: 'fairgate_drift', help: 'Drift against the manifest baseline per group (psi, selection_rate_change)', labelNames: ['model', 'variant', 'attribute', 'group', 'metric'], registers })
  const samples = new client.Gauge({ name: 'fairgate_group_samples', help: 'Rows per group in the monitor window', labelNames: ['model', 'variant', 'attribute', 'group'], registers })
  metrics.onCollect(() => {
    selection.reset(); p95.reset(); gap.reset(); drift.reset(); samples.reset()
    for (const model of monitor.modelNames()) {
      const r = monitor.report(model)
      if (r === undefined) continue
      for (const [variant, vr] of Object.entries(r.variants)) {
        for (const [attribute, ar] of Object.entries(vr.attributes)) {
          for (const [group, g] of Object.entries(ar.groups)) {
            samples.labels(model, variant, attribute, group).set(g.n)
            selection.labels(model, variant, attribute, group).set(g.selection_rate)
            if (g.latency_ms.p95 !== null) p95.labels(model, variant, attribute, group).set(g.latency_ms.p95 / 1000)
            if (g.drift.psi !== null) drift.labels(model, variant, attribute, group, 'psi').set(g.drift.psi)
            if (g.drift.selection_rate_change !== null) drift.labels(model, variant, attribute, group, 'selection_rate_change').set(g.drift.selection_rate_change)
          }
          for (const [metric, v] of Object.entries(ar.gaps as Record<string, unknown>)) {
            if (typeof v === 'number') gap.labels(model, variant, attribute, metric).set(v)
          }
          if (ar.drift.demographic_parity_difference_change !== null) drift.labels(model, variant, attribute, '', 'demographic_parity_difference_change').set(ar.drift.demographic_parity_difference_change)
        }
      }
    }
  })
}
