// The fairness monitor: sliding windows per (model, variant) fed by answered predictions and
// joined labels, and the reports built from them. Plain TypeScript: the gateway feeds it
// in-process (it is a PredictionSink), `fairgate monitor` feeds it from Kafka.
import type { InferJob } from '../batching/index.js'
import type { Clock } from '../clock.js'
import type { Config } from '../config/index.js'
import type { PredictionSink } from '../events/index.js'
import type { Manifest } from '../models/index.js'
import { GroupLayout } from './layout.js'
import type { StoredPrediction } from './prediction-store.js'
import { buildVariantReport, type Baseline, type ReportSettings, type VariantReport } from './report.js'
import { zFor } from './stats.js'
import { SlidingWindow, WindowSums, closedCounts, closedSince, type ClosedCounts } from './window.js'

export interface MonitoredModel {
  name: string
  manifest: Manifest
  variants: string[]
}

export interface FairnessReport {
  model: string
  window_ms: number
  generated_at: string
  settings: { min_samples: number, min_labelled: number, report_min: number, confidence: number }
  variants: Record<string, VariantReport>
  /**
   * Sharded monitors (docs/scale-out.md): the partitions whose summary is missing, stale or still
   * rebuilding. Present only when some are: the counts then cover the other partitions only.
   */
  incomplete?: { partitions: number[] }
}

/** One (model, variant) window, as the shard summaries read and write them. */
export interface MonitorLane { model: string, variant: string, window: SlidingWindow }

class ModelMonitor {
  readonly layout: GroupLayout
  readonly windows: SlidingWindow[]
  readonly baseline: Baseline | undefined
  readonly sums: WindowSums

  constructor (readonly model: MonitoredModel, cfg: Config['monitor']) {
    const m = model.manifest
    this.layout = new GroupLayout(m.groups, cfg.intersections.filter(c => c.every(a => m.groups[a] !== undefined)))
    const edges = m.baseline?.bin_edges ?? [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]
    const inner = Float64Array.from(edges.slice(1, -1))
    this.windows = model.variants.map(() => new SlidingWindow(this.layout, cfg.bucket_ms, cfg.window_ms, inner, cfg.feedback_ttl_ms))
    this.sums = new WindowSums(this.layout.cells, inner.length + 1)
    if (m.baseline !== undefined) {
      this.baseline = new Map()
      for (const [attr, groups] of Object.entries(m.baseline.groups)) {
        this.baseline.set(attr, new Map(Object.entries(groups).map(([g, b]) => [g, { n: b.n, selectionRate: b.selection_rate, histogram: b.histogram }])))
      }
    }
  }
}

export class Monitor implements PredictionSink {
  private readonly models: ModelMonitor[]
  private readonly byName = new Map<string, number>()
  private readonly settings: ReportSettings
  private readonly cache = new Map<string, { at: number, report: FairnessReport }>()
  /** Set by the summary merge of a sharded monitor: the partitions the windows lack. */
  incompletePartitions: (() => number[]) | null = null

  constructor (models: MonitoredModel[], readonly cfg: Config['monitor'], private readonly clock: Clock) {
    this.models = models.map(m => new ModelMonitor(m, cfg))
    models.forEach((m, i) => this.byName.set(m.name, i))
    this.settings = { minSamples: cfg.min_samples, minLabelled: cfg.min_labelled, reportMin: cfg.report_min, z: zFor(1 - cfg.confidence) }
  }

  /** Every (model, variant) window, models in order, then variants. */
  lanes (): MonitorLane[] {
    return this.models.flatMap(mm => mm.model.variants.map((variant, vi) => ({ model: mm.model.name, variant, window: mm.windows[vi]! })))
  }

  modelIndex (name: string): number { return this.byName.get(name) ?? -1 }
  modelNames (): string[] { return this.models.map(m => m.model.name) }
  layout (model: number): GroupLayout { return this.models[model]!.layout }
  variantIndex (model: number, variant: string): number { return this.models[model]?.model.variants.indexOf(variant) ?? -1 }

  /** One prediction row. groupIds holds the model's base attribute ids starting at `at`. */
  record (model: number, variant: number, ts: number, groupIds: ArrayLike<number>, at: number, score: number, decision: number, latencyMs: number, requestShare = 1): void {
    this.models[model]!.windows[variant]!.add(ts, this.clock.wallNow(), groupIds, at, score, decision, latencyMs, requestShare)
  }

  /**
   * A label joined to a stored prediction; it counts in the label window from when it arrived
   * (arrivedAt, default now), for monitor.feedback_ttl_ms, whenever its prediction was made.
   */
  recordLabel (p: StoredPrediction, label: number, arrivedAt?: number): void {
    const now = this.clock.wallNow()
    this.models[p.model]!.windows[p.variant]!.addLabel(arrivedAt ?? now, now, p.groups, 0, p.score, p.decision, label)
  }

  // --- PredictionSink: the in-process feed from the gateway (models in registry order).
  onPredictions (job: InferJob): void {
    const mi = this.byName.get(job.model.name)
    if (mi === undefined) return
    const w = this.models[mi]!.windows[job.variant!.index]!
    const now = this.clock.wallNow()
    const attrs = job.model.groups.size
    const latency = job.finishedAt - job.receivedAt
    // One group set for the whole request (parameters.group): one window update for its rows.
    if (!job.groupsPerRow) {
      w.addRows(job.completedAtWall, now, job.groupIds, 0, job.scores, job.thresholds, job.rows, latency)
      return
    }
    const share = 1 / job.rows
    for (let r = 0; r < job.rows; r++) {
      const score = job.scores[r]!
      w.add(job.completedAtWall, now, job.groupIds, r * attrs, score, score >= job.thresholds[r]! ? 1 : 0, latency, share)
    }
  }

  /**
   * Counts of one variant's buckets closed after bucket `after` (the sequential tests' disjoint
   * batches), with the layout to find an attribute's cells; undefined for an unknown model.
   */
  closedCounts (model: string, variant: string, after: number, out?: ClosedCounts): { counts: ClosedCounts, layout: GroupLayout } | undefined {
    const mi = this.byName.get(model)
    if (mi === undefined) return undefined
    const mm = this.models[mi]!
    const vi = mm.model.variants.indexOf(variant)
    if (vi < 0) return undefined
    const counts = closedSince(mm.windows[vi]!, after, this.clock.wallNow(), out ?? closedCounts(mm.layout.cells))
    return { counts, layout: mm.layout }
  }

  async flush (): Promise<void> {}
  async close (): Promise<void> {}

  /** The report of one model over the last windowMs (default: the whole window), cached briefly. */
  report (model: string, windowMs = this.cfg.window_ms): FairnessReport | undefined {
    const mi = this.byName.get(model)
    if (mi === undefined) return undefined
    // Reports exist per whole bucket count, which also bounds the cache.
    const span = Math.min(this.cfg.window_ms / this.cfg.bucket_ms, Math.max(1, Math.round(windowMs / this.cfg.bucket_ms)))
    windowMs = span * this.cfg.bucket_ms
    const key = `${model}:${span}`
    const now = this.clock.wallNow()
    const hit = this.cache.get(key)
    if (hit !== undefined && now - hit.at < this.cfg.refresh_ms && now >= hit.at) return hit.report
    const mm = this.models[mi]!
    const variants: Record<string, VariantReport> = {}
    mm.model.variants.forEach((v, vi) => {
      const w = mm.windows[vi]!
      const s = w.sum(now, windowMs, mm.sums)
      variants[v] = buildVariantReport(mm.layout, s, w.scoreBins, mm.baseline, this.settings, w.late, w.lateLabels, w.nonFinite)
    })
    const report: FairnessReport = {
      model,
      window_ms: windowMs,
      generated_at: new Date(now).toISOString(),
      settings: { min_samples: this.cfg.min_samples, min_labelled: this.cfg.min_labelled, report_min: this.cfg.report_min, confidence: this.cfg.confidence },
      variants
    }
    const missing = this.incompletePartitions?.() ?? []
    if (missing.length > 0) report.incomplete = { partitions: missing }
    this.cache.set(key, { at: now, report })
    return report
  }
}
