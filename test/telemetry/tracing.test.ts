// OpenTelemetry tracing through a real gateway (fastify inject, real onnxruntime sessions), with
// an in-memory exporter: one trace per request (server span continuing the caller's traceparent,
// routing and queue spans as its children), one batch span per batch linked to the request spans
// it served, and nothing at all when tracing is off.
import t from 'tap'
import { SpanKind } from '@opentelemetry/api'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { validateConfig } from '../../src/config/index.js'
import { noTracing, setTracerProvider, tracingRequested } from '../../src/telemetry/index.js'
import { golden, startGateway } from '../helpers/gateway.js'

const exporter = new InMemorySpanExporter()
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
setTracerProvider(provider)
t.teardown(() => { setTracerProvider(null) })
// The environment must not switch tracing on behind the test's back.
delete process.env.OTEL_TRACES_EXPORTER
delete process.env.OTEL_SDK_DISABLED

const g = golden()
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const PARENT_ID = '00f067aa0ba902b7'

function oip (rows: number[][]): object {
  return { inputs: [{ name: 'input', shape: [rows.length, 112], datatype: 'FP32', data: rows }], parameters: { group: { sex: 'Female', race: 'White' } } }
}

const byName = (spans: ReadableSpan[], name: string): ReadableSpan[] => spans.filter(s => s.name === name)
const hrMs = (t: [number, number]): number => t[0] * 1000 + t[1] / 1e6

t.test('one trace per request: server span continues traceparent; route and queue are its children; the batch span links to it', async t => {
  exporter.reset()
  const { gw, app } = await startGateway({ tracing: { enabled: true } })
  t.teardown(() => app.close())
  t.equal(gw.tracing.enabled, true)

  const res = await app.inject({
    method: 'POST',
    url: '/v2/models/income/infer',
    headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`, tracestate: 'vendor=abc' },
    payload: oip(g.encoded.slice(0, 3))
  })
  t.equal(res.statusCode, 200, res.body)
  await provider.forceFlush()
  const spans = exporter.getFinishedSpans()

  const servers = spans.filter(s => s.kind === SpanKind.SERVER)
  t.equal(servers.length, 1, 'one server span')
  const server = servers[0]!
  t.equal(server.name, 'POST /v2/models/:model/infer')
  t.equal(server.spanContext().traceId, TRACE_ID, 'continues the caller\'s trace')
  t.equal(server.parentSpanContext?.spanId, PARENT_ID, 'child of the caller\'s span')
  t.equal(server.parentSpanContext?.isRemote, true)
  t.equal(server.spanContext().traceState?.get('vendor'), 'abc', 'tracestate propagated')
  t.equal(server.attributes['http.request.method'], 'POST')
  t.equal(server.attributes['http.route'], '/v2/models/:model/infer')
  t.equal(server.attributes['http.response.status_code'], 200)
  t.equal(server.attributes['fairgate.model'], 'income')
  t.equal(server.attributes['fairgate.variant'], 'full')
  t.equal(server.attributes['fairgate.rows'], 3)
  t.equal(res.headers.traceparent, `00-${TRACE_ID}-${server.spanContext().spanId}-01`, 'the response names the server span')

  const inTrace = spans.filter(s => s.spanContext().traceId === TRACE_ID)
  t.same(inTrace.map(s => s.name).sort(), ['POST /v2/models/:model/infer', 'fairgate.queue', 'fairgate.route'], 'the request\'s trace: server, route, queue')
  const route = byName(spans, 'fairgate.route')[0]!
  const queue = byName(spans, 'fairgate.queue')[0]!
  for (const child of [route, queue]) {
    t.equal(child.parentSpanContext?.spanId, server.spanContext().spanId, `${child.name} is a child of the server span`)
  }
  t.equal(route.attributes['fairgate.variant'], 'full', 'routing names its choice')
  t.equal(route.attributes['fairgate.budget_ms'], 0, 'and the budget (none)')
  t.equal(route.attributes['fairgate.budget_source'], 'none')
  t.ok(hrMs(queue.endTime) >= hrMs(queue.startTime), 'queue span has explicit, ordered times')
  t.ok(hrMs(queue.startTime) >= hrMs(server.startTime) && hrMs(queue.endTime) <= hrMs(server.endTime), 'queue wait lies inside the request')

  const batches = byName(spans, 'fairgate.batch')
  t.equal(batches.length, 1, 'one batch span for one batch')
  const batch = batches[0]!
  t.not(batch.spanContext().traceId, TRACE_ID, 'the batch is its own trace')
  t.equal(batch.parentSpanContext, undefined, 'a root span')
  t.equal(batch.links.length, 1)
  t.equal(batch.links[0]!.context.spanId, server.spanContext().spanId, 'linked to the request span')
  t.equal(batch.links[0]!.context.traceId, TRACE_ID)
  t.equal(batch.attributes['fairgate.model'], 'income')
  t.equal(batch.attributes['fairgate.variant'], 'full')
  t.equal(batch.attributes['fairgate.batch.size'], 3, 'batch size in rows')
  t.same(batch.startTime, queue.endTime, 'the batch starts when the queue wait ends')
})

t.test('a request budget is on the routing span; /v1/predict is traced too; a request without traceparent starts a trace', async t => {
  exporter.reset()
  const { app } = await startGateway({ tracing: { enabled: true } })
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'POST', url: '/v1/predict', headers: { 'x-latency-budget-ms': '250' }, payload: { model: 'income', features: g.encoded[0], group: { sex: 'Male' } } })
  t.equal(res.statusCode, 200, res.body)
  await provider.forceFlush()
  const spans = exporter.getFinishedSpans()
  const server = spans.find(s => s.kind === SpanKind.SERVER)!
  t.equal(server.name, 'POST /v1/predict')
  t.equal(server.parentSpanContext, undefined, 'a new trace')
  const route = byName(spans, 'fairgate.route')[0]!
  t.equal(route.spanContext().traceId, server.spanContext().traceId)
  t.equal(route.attributes['fairgate.budget_ms'], 250)
  t.equal(route.attributes['fairgate.budget_source'], 'request')
  t.equal(typeof route.attributes['fairgate.predicted_ms'], 'number', 'the budget router\'s prediction')
})

t.test('8 concurrent single-row requests: one batch span linked to several request spans', async t => {
  exporter.reset()
  // One run slot and a queue delay, so the 8 requests wait for each other and share a batch.
  const { app } = await startGateway({ tracing: { enabled: true }, batching: { max_inflight: 1, max_queue_delay_ms: 100 } })
  t.teardown(() => app.close())
  const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => app.inject({
    method: 'POST',
    url: '/v2/models/income/infer',
    payload: oip([g.encoded[i % g.encoded.length]!])
  })))
  for (const a of answers) t.equal(a.statusCode, 200, a.body)
  await provider.forceFlush()
  const spans = exporter.getFinishedSpans()
  const servers = spans.filter(s => s.kind === SpanKind.SERVER)
  t.equal(servers.length, 8)
  t.equal(new Set(servers.map(s => s.spanContext().traceId)).size, 8, 'one trace per request')
  for (const s of servers) {
    const children = spans.filter(c => c.parentSpanContext?.spanId === s.spanContext().spanId).map(c => c.name).sort()
    t.same(children, ['fairgate.queue', 'fairgate.route'], 'each request has its route and queue spans')
  }
  const batches = byName(spans, 'fairgate.batch')
  const serverIds = new Set(servers.map(s => s.spanContext().spanId))
  const linked = batches.flatMap(b => b.links.map(l => l.context.spanId))
  t.equal(linked.length, 8, 'every request linked from exactly one batch')
  t.same(new Set(linked), serverIds, 'the links are the request spans')
  t.equal(batches.reduce((n, b) => n + (b.attributes['fairgate.batch.size'] as number), 0), 8, 'batch sizes add up to the rows')
  const biggest = Math.max(...batches.map(b => b.links.length))
  t.ok(biggest >= 4, `a batch span with several links (${biggest})`)
  for (const b of batches) t.equal(b.links.length, b.attributes['fairgate.batch.size'], 'one link per single-row request')
})

t.test('errors: a client mistake and an unknown model are recorded on the server span', async t => {
  exporter.reset()
  const { app } = await startGateway({ tracing: { enabled: true } })
  t.teardown(() => app.close())
  const bad = await app.inject({ method: 'POST', url: '/v2/models/nope/infer', payload: oip(g.encoded.slice(0, 1)) })
  t.equal(bad.statusCode, 404)
  t.match(bad.headers.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
  await provider.forceFlush()
  const server = exporter.getFinishedSpans().find(s => s.kind === SpanKind.SERVER)!
  t.equal(server.attributes['http.response.status_code'], 404)
  t.equal(server.attributes['error.type'], 'FG_ERR_MODEL_UNKNOWN')
  t.equal(server.status.code, 0, '4xx leaves a server span unset (the client\'s mistake)')
  t.equal(byName(exporter.getFinishedSpans(), 'fairgate.batch').length, 0, 'nothing ran')
})

t.test('a budget spent in the queue: 504, the queue span and the server span are errors, no batch', async t => {
  exporter.reset()
  const { app } = await startGateway({ tracing: { enabled: true }, batching: { max_queue_delay_ms: 50 } })
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'POST', url: '/v2/models/income/infer', headers: { 'x-latency-budget-ms': '1' }, payload: oip(g.encoded.slice(0, 1)) })
  t.equal(res.statusCode, 504, res.body)
  await provider.forceFlush()
  const spans = exporter.getFinishedSpans()
  const server = spans.find(s => s.kind === SpanKind.SERVER)!
  t.equal(server.status.code, 2, 'server span: error')
  t.equal(server.attributes['error.type'], 'FG_ERR_BATCH_DEADLINE')
  const queue = byName(spans, 'fairgate.queue')[0]!
  t.equal(queue.parentSpanContext?.spanId, server.spanContext().spanId)
  t.equal(queue.status.code, 2, 'queue span: error')
  t.equal(queue.attributes['error.type'], 'FG_ERR_BATCH_DEADLINE')
  t.ok(hrMs(queue.endTime) - hrMs(queue.startTime) >= 1, 'it waited past the budget')
  t.equal(byName(spans, 'fairgate.batch').length, 0, 'never ran')
})

t.test('tracing disabled: no spans, no hooks, no traceparent, the shared no-op', async t => {
  exporter.reset()
  const { gw, app } = await startGateway()
  t.teardown(() => app.close())
  t.equal(gw.tracing, noTracing, 'the shared no-op object')
  t.equal(gw.tracing.enabled, false)
  const answers = await Promise.all(Array.from({ length: 4 }, () => app.inject({
    method: 'POST',
    url: '/v2/models/income/infer',
    headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` },
    payload: oip(g.encoded.slice(0, 2))
  })))
  for (const a of answers) {
    t.equal(a.statusCode, 200)
    t.equal(a.headers.traceparent, undefined, 'no traceparent on the response')
  }
  await provider.forceFlush()
  t.equal(exporter.getFinishedSpans().length, 0, 'no spans recorded')
})

t.test('what turns tracing on', async t => {
  const off = validateConfig({})
  const on = validateConfig({ tracing: { enabled: true } })
  t.equal(off.tracing.enabled, false, 'off by default')
  t.equal(tracingRequested(off, {}), false)
  t.equal(tracingRequested(on, {}), true, 'tracing.enabled')
  t.equal(tracingRequested(off, { OTEL_TRACES_EXPORTER: 'otlp' }), true, 'OTEL_TRACES_EXPORTER=otlp')
  t.equal(tracingRequested(off, { OTEL_TRACES_EXPORTER: 'console' }), false, 'another exporter alone does not')
  t.equal(tracingRequested(on, { OTEL_SDK_DISABLED: 'true' }), false, 'OTEL_SDK_DISABLED wins')
})
