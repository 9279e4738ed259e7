// The hot-path histogram and counter against prom-client's own: the same updates give the same
// text exposition and the same JSON, series in order of their first update, and reset alike.
import t from 'tap'
import client from 'prom-client'
import { HotCounter, HotHistogram } from '../../src/telemetry/hot-metrics.js'
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

t.test('the counter: same exposition and JSON as prom-client', async t => {
  const a = new client.Registry()
  const b = new client.Registry()
  const ours = new HotCounter('fairgate_requests_total', 'Inference requests answered, by HTTP status code', ['model', 'variant', 'code'], [a])
  const theirs = new client.Counter({ name: 'fairgate_requests_total', help: 'Inference requests answered, by HTTP status code', labelNames: ['model', 'variant', 'code'], registers: [b] })
  ours.labels('income', 'full', '999')
  theirs.labels('income', 'full', '999')
  const series = [['income', 'full', '200'], ['', '', '404'], ['income', 'distilled', '200'], ['income', 'full', '429']] as const
  for (let k = 0; k < 50; k++) {
    const [m, v, c] = series[(k * 3) % 4]!
    ours.labels(m, v, c).inc(k % 7 === 0 ? 2.5 : undefined)
    theirs.labels(m, v, c).inc(k % 7 === 0 ? 2.5 : undefined)
  }
  t.equal(await a.metrics(), await b.metrics())
  t.same(await a.getMetricsAsJSON(), await b.getMetricsAsJSON())
  a.resetMetrics(); b.resetMetrics()
  ours.labels('income', 'full', '200').inc(); theirs.labels('income', 'full', '200').inc()
  t.equal(await a.metrics(), await b.metrics(), 'after a reset')
  t.throws(() => { ours.labels('income', 'full', '200').inc(-1) }, /not possible to decrease/)
})
