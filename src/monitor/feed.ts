// Feeds the monitor from decoded events (what `fairgate monitor` reads from Kafka): interns
// model, variant and group labels, remembers predictions to join labels, and holds a label that
// arrives before its prediction (the two topics are consumed independently) until it can join.
import type { FeedbackEvent, PredictionEvent } from '../events/index.js'
import { NO_GROUP } from '../models/index.js'
import type { Monitor } from './monitor.js'
import { PredictionStore } from './prediction-store.js'

export interface FeedStats {
  predictions: number
  labels: number
  /** Events naming a model or variant this monitor does not know. */
  unknown: number
  /** Labels still waiting for their prediction, and labels given up on. */
  pendingLabels: number
  orphanLabels: number
}

export class MonitorFeed {
  readonly store: PredictionStore
  private readonly pending = new Map<string, { label: number, at: number, arrivedAt: number }>()
  private readonly ids: Int16Array
  readonly stats: FeedStats = { predictions: 0, labels: 0, unknown: 0, pendingLabels: 0, orphanLabels: 0 }

  constructor (private readonly monitor: Monitor, storeSize: number, private readonly ttlMs: number, private readonly now: () => number) {
    const attributes = Math.max(1, ...monitor.modelNames().map((_, i) => monitor.layout(i).base))
    this.store = new PredictionStore(storeSize, ttlMs, attributes)
    this.ids = new Int16Array(attributes)
  }

  onPrediction (ev: PredictionEvent): void {
    const mi = this.monitor.modelIndex(ev.model)
    const vi = mi < 0 ? -1 : this.monitor.variantIndex(mi, ev.variant)
    if (vi < 0) { this.stats.unknown++; return }
    const layout = this.monitor.layout(mi)
    const ids = this.ids
    for (let a = 0; a < layout.base; a++) {
      const attr = layout.attributes[a]!
      const v = ev.groups?.[attr.name]
      // An unknown value is not a reason to drop the row: it is counted, just not for that attribute.
      ids[a] = v === undefined ? NO_GROUP : attr.values.indexOf(v)
    }
    // A request counts once for the latency SLO: each of its rows adds 1 / rows.
    const rows = ev.request_rows
    this.monitor.record(mi, vi, ev.ts, ids, 0, ev.score, ev.decision, ev.latency_ms, typeof rows === 'number' && Number.isInteger(rows) && rows >= 1 ? 1 / rows : 1)
    this.store.put(ev.id, ev.ts, mi, vi, ev.decision, ev.score, ids, 0, layout.base)
    this.stats.predictions++
    const waiting = this.pending.get(ev.id)
    if (waiting !== undefined) {
      this.pending.delete(ev.id)
      this.stats.pendingLabels = this.pending.size
      this.join(ev.id, waiting.label, waiting.arrivedAt)
    }
  }

  onFeedback (ev: FeedbackEvent): void {
    const now = this.now()
    // The label window is keyed by when the label was given (the event's ts, as the gateway
    // stamped it), so a replay after a restart puts it back where it was; never in the future.
    const arrivedAt = Number.isFinite(ev.ts) ? Math.min(ev.ts, now) : now
    if (this.store.has(ev.prediction_id, now)) {
      this.join(ev.prediction_id, ev.label, arrivedAt)
      return
    }
    if (this.pending.size >= this.store.capacity) this.expirePending(true)
    this.pending.set(ev.prediction_id, { label: ev.label, at: now, arrivedAt })
    this.stats.pendingLabels = this.pending.size
  }

  private join (id: string, label: number, arrivedAt: number): void {
    const p = this.store.get(id, this.now())
    if (p === undefined || !this.store.markLabelled(id)) return
    this.monitor.recordLabel(p, label, arrivedAt)
    this.stats.labels++
  }

  /** Drops labels that waited longer than the TTL (or the oldest half when forced). */
  expirePending (force = false): void {
    const limit = this.now() - this.ttlMs
    let i = 0
    const half = this.pending.size / 2
    for (const [id, p] of this.pending) {
      if (p.at < limit || (force && i++ < half)) { this.pending.delete(id); this.stats.orphanLabels++ }
    }
    this.stats.pendingLabels = this.pending.size
  }
}
