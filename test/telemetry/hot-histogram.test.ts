// The hot-path histogram against prom-client's own: the same observations give the same text
// exposition and the same JSON, series in order of their first observation, and reset alike.
import t from 'tap'
import client from 'prom-client'
import { HotHistogram } from '../../src/telemetry/hot-histogram.js'
import { LATENCY_BUCKETS } from '../../src/telemetry/metrics.js'

function pair (): { ours: HotHistogram, theirs: client.Histogram<'model' | 'variant'>, a: client.Registry, b: client.Registry } {
  const a = new client.Registry()
  const b = new client.Registry()
  const ours = new HotHistogram('fairgate_request_duration_seconds', 'Time from request arrival to answer', ['model', 'variant'], LATENCY_BUCKETS, [a])
  const theirs = new client.Histogram({ name: 'fairgate_request_duration_seconds', help: 'Time from request arrival to answer', labelNames: ['model', 'variant'], buckets: LATENCY_BUCKETS, registers: [b] })
  return { ours, theirs, a, b }
}

t.test('same exposition and JSON as prom-client for the same observations', async t => {
  const { ours, theirs, a, b } = pair()
  const series = [['income', 'distilled'], ['income', 'full'], ['credit', 'a"b\\c']] as const
  // A series asked for but not observed is not shown, in either.
  ours.labels('unused', 'x')
  theirs.labels('unused', 'x')
  const values = [0, 0.0005, 0.00051, 0.003, 0.0123456, 0.5, 5, 5.0001, 17, 1e-9]
  for (let k = 0; k < 200; k++) {
    const [m, v] = series[(k * 7) % 3]!
    const x = values[k % values.length]! * (1 + (k % 5) / 10)
    ours.labels(m, v).observe(x)
    theirs.labels(m, v).observe(x)
  }
  t.equal(await a.metrics(), await b.metrics())
  t.same(await a.getMetricsAsJSON(), await b.getMetricsAsJSON())
  a.resetMetrics()
  b.resetMetrics()
  t.equal(await a.metrics(), await b.metrics(), 'reset: no series')
  ours.labels('income', 'full').observe(0.25)
  theirs.labels('income', 'full').observe(0.25)
  t.equal(await a.metrics(), await b.metrics(), 'a series observed again after a reset')
})

t.test('a value that is not a finite number is refused, as by prom-client', async t => {
  const { ours } = pair()
  t.throws(() => { ours.labels('income', 'full').observe(NaN) }, TypeError)
  t.throws(() => { ours.labels('income') }, /2 label values expected/)
})
