// A Prometheus histogram and counter for the per-request path, registered in a prom-client
// Registry and scraped through it like prom-client's own. prom-client's labelled child
// validates the label values, hashes them into a key and looks its series up in an object on
// every observe or inc (~1.5–3 µs; the infer path makes two of each per request); a series here
// is found once, by the caller, and an update is a few additions. Same output as prom-client's
// Histogram and Counter (series in order of their first update; cumulative buckets, +Inf, _sum,
// _count), so the exposition, dashboards and recording rules do not see the difference.
import type client from 'prom-client'

type Labels = Record<string, string>

/** The label object of one series, in labelNames order (as prom-client's getLabels makes it). */
function labelsOf (metric: string, names: readonly string[], values: string[]): Labels {
  if (values.length !== names.length) throw new Error(`${metric}: ${names.length} label values expected, got ${values.length}`)
  const labels: Labels = {}
  names.forEach((n, i) => { labels[n] = values[i]! })
  return labels
}

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
    const key = values.join('\u0000')
    let s = this.byValues.get(key)
    if (s === undefined) {
      s = new HistogramSeries(this, labelsOf(this.name, this.labelNames, values))
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

export class CounterSeries {
  value = 0
  /** Counted since the last reset (prom-client shows a series from its first inc only). */
  shown = false

  constructor (private readonly owner: HotCounter, readonly labels: Labels) {}

  inc (by = 1): void {
    if (!Number.isFinite(by)) throw new TypeError(`Value is not a valid number: ${by}`)
    if (by < 0) throw new Error('It is not possible to decrease a counter')
    this.value += by
    if (!this.shown) this.owner.show(this)
  }
}

export class HotCounter {
  readonly type = 'counter'
  readonly aggregator = 'sum'
  private readonly byValues = new Map<string, CounterSeries>()
  private shown: CounterSeries[] = []

  constructor (readonly name: string, readonly help: string, readonly labelNames: readonly string[], registers: client.Registry[]) {
    for (const r of registers) r.registerMetric(this as unknown as client.Metric)
  }

  /** The series of these label values (in labelNames order); keep it on a hot path. */
  labels (...values: string[]): CounterSeries {
    const key = values.join('\u0000')
    let s = this.byValues.get(key)
    if (s === undefined) {
      s = new CounterSeries(this, labelsOf(this.name, this.labelNames, values))
      this.byValues.set(key, s)
    }
    return s
  }

  /** @internal a series' first inc since the last reset. */
  show (s: CounterSeries): void {
    s.shown = true
    this.shown.push(s)
  }

  reset (): void {
    for (const s of this.shown) { s.value = 0; s.shown = false }
    this.shown = []
  }

  async get (): Promise<{ name: string, help: string, type: string, values: Array<{ value: number, labels: Labels }>, aggregator: string }> {
    return { help: this.help, name: this.name, type: this.type, values: this.shown.map(s => ({ value: s.value, labels: s.labels })), aggregator: this.aggregator }
  }
}
