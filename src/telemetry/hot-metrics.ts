// A Prometheus histogram and counter for the per-request path, registered in a prom-client
// Registry and scraped through it like prom-client's own. prom-client's labelled child
// validates the label values, hashes them into a key and looks its series up in an object on
// every observe or inc (~1.5–3 µs; the infer path makes two of each per request); a series here
// is found once, by the caller, and an update is a few additions. Same output as prom-client's
// Histogram and Counter (series in order of their first update; cumulative buckets, +Inf, _sum,
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

/** What the base class needs of a series: its labels, and whether it is shown. */
interface Series {
  readonly labels: Labels
  /** Updated since the last reset: prom-client shows a series from its first update only. */
  shown: boolean
  /** Back to zero (a registry reset). */
  zero: () => void
}

/** The series of one metric by label values, registered in prom-client registries. */
abstract class HotMetric<S extends Series> {
  readonly aggregator = 'sum'
  private readonly byValues = new Map<string, S>()
  /** Updated series, in order of their first update (prom-client's order). */
  protected shown: S[] = []

  constructor (readonly name: string, readonly help: string, readonly labelNames: readonly string[], registers: client.Registry[]) {
    for (const r of registers) r.registerMetric(this as unknown as client.Metric)
  }

  protected abstract make (labels: Labels): S

  /** The series of these label values (in labelNames order); keep it, the lookup is the slow part. */
  labels (...values: string[]): S {
    const key = values.join('\u0000')
    let s = this.byValues.get(key)
    if (s === undefined) {
      if (values.length !== this.labelNames.length) throw new Error(`${this.name}: ${this.labelNames.length} label values expected, got ${values.length}`)
      // In labelNames order, as prom-client's getLabels makes it.
      const labels: Labels = {}
      this.labelNames.forEach((n, i) => { labels[n] = values[i]! })
      s = this.make(labels)
      this.byValues.set(key, s)
    }
    return s
  }

  /** @internal a series' first update since the last reset. */
  show (s: S): void {
    s.shown = true
    this.shown.push(s)
  }

  reset (): void {
    for (const s of this.shown) { s.zero(); s.shown = false }
    this.shown = []
  }
}

export class HistogramSeries implements Series {
  /** Observations per bound (not cumulative); beyond the last bound only in count. */
  readonly counts: Float64Array
  sum = 0
  count = 0
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

  zero (): void {
    this.counts.fill(0)
    this.sum = 0
    this.count = 0
  }
}

export class HotHistogram extends HotMetric<HistogramSeries> {
  readonly type = 'histogram'

  constructor (name: string, help: string, labelNames: readonly string[], readonly upperBounds: readonly number[], registers: client.Registry[]) {
    super(name, help, labelNames, registers)
  }

  protected make (labels: Labels): HistogramSeries { return new HistogramSeries(this, labels) }

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

export class CounterSeries implements Series {
  value = 0
  shown = false

  constructor (private readonly owner: HotCounter, readonly labels: Labels) {}

  inc (by = 1): void {
    if (!Number.isFinite(by)) throw new TypeError(`Value is not a valid number: ${by}`)
    if (by < 0) throw new Error('It is not possible to decrease a counter')
    this.value += by
    if (!this.shown) this.owner.show(this)
  }

  zero (): void { this.value = 0 }
}

export class HotCounter extends HotMetric<CounterSeries> {
  readonly type = 'counter'

  protected make (labels: Labels): CounterSeries { return new CounterSeries(this, labels) }

  async get (): Promise<{ name: string, help: string, type: string, values: Array<{ value: number, labels: Labels }>, aggregator: string }> {
    return { help: this.help, name: this.name, type: this.type, values: this.shown.map(s => ({ value: s.value, labels: s.labels })), aggregator: this.aggregator }
  }
}
