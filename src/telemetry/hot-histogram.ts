// A Prometheus histogram for the per-request path, registered in a prom-client Registry and
// scraped through it like prom-client's own. prom-client's labelled child validates the label
// values, hashes them into a key and looks its series up in an object on every observe (~3 µs,
// and the infer path observes twice per request); a series here is found once, by the caller,
// and an observe is a scan of the bounds and three additions. Same output as prom-client's
// Histogram (series in order of their first observation, cumulative buckets, +Inf, _sum,
// _count), so the exposition, dashboards and recording rules do not see the difference.
import type client from 'prom-client'

type Labels = Record<string, string>

interface ValuePair {
  labels: Record<string, string | number>
  sharedLabels?: Labels
  value: number
  metricName: string
  exemplar: null | undefined
}

export class HistogramSeries {
  /** Observations per bound (not cumulative); beyond the last bound only in count. */
  readonly counts: Float64Array
  sum = 0
  count = 0
  /** Observed since the last reset: prom-client shows a series from its first observation only. */
  shown = false

  constructor (private readonly owner: HotHistogram, readonly labels: Labels) {
    this.counts = new Float64Array(owner.upperBounds.length)
  }

  observe (value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`)
    const bounds = this.owner.upperBounds
    let i = 0
    while (i < bounds.length && value > bounds[i]!) i++
    if (i < bounds.length) this.counts[i]!++
    this.sum += value
    this.count++
    if (!this.shown) this.owner.show(this)
  }
}

export class HotHistogram {
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  private readonly byValues = new Map<string, HistogramSeries>()
  /** Observed series, in order of their first observation (prom-client's order). */
  private shown: HistogramSeries[] = []

  constructor (readonly name: string, readonly help: string, readonly labelNames: readonly string[], readonly upperBounds: readonly number[], registers: client.Registry[]) {
    for (const r of registers) r.registerMetric(this as unknown as client.Metric)
  }

  /** The series of these label values (in labelNames order); keep it, the lookup is the slow part. */
  labels (...values: string[]): HistogramSeries {
    if (values.length !== this.labelNames.length) throw new Error(`${this.name}: ${this.labelNames.length} label values expected, got ${values.length}`)
    const key = values.join('\u0000')
    let s = this.byValues.get(key)
    if (s === undefined) {
      const labels: Labels = {}
      this.labelNames.forEach((n, i) => { labels[n] = values[i]! })
      s = new HistogramSeries(this, labels)
      this.byValues.set(key, s)
    }
    return s
  }

  /** @internal a series' first observation since the last reset. */
  show (s: HistogramSeries): void {
    s.shown = true
    this.shown.push(s)
  }

  reset (): void {
    for (const s of this.shown) {
      s.counts.fill(0)
      s.sum = 0
      s.count = 0
      s.shown = false
    }
    this.shown = []
  }

  /** What the registry's text exposition reads: the labels of a series as sharedLabels. */
  async getForPromString (): Promise<{ name: string, help: string, type: string, values: ValuePair[], aggregator: string }> {
    const values: ValuePair[] = []
    const bucket = `${this.name}_bucket`
    for (const s of this.shown) {
      let acc = 0
      for (let i = 0; i < this.upperBounds.length; i++) {
        acc += s.counts[i]!
        values.push({ labels: { le: this.upperBounds[i]! }, sharedLabels: s.labels, value: acc, metricName: bucket, exemplar: null })
      }
      values.push({ labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: bucket, exemplar: null })
      values.push({ labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum`, exemplar: undefined })
      values.push({ labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_count`, exemplar: undefined })
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator }
  }

  /** The JSON form (registry.getMetricsAsJSON): a series' labels merged into each value's. */
  async get (): Promise<{ name: string, help: string, type: string, values: ValuePair[], aggregator: string }> {
    const data = await this.getForPromString()
    data.values = data.values.map(({ sharedLabels, labels, ...v }) => ({ ...v, labels: { ...labels, ...sharedLabels } }))
    return data
  }
}
