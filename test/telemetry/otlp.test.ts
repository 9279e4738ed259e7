// The real SDK path, configured only by OTEL_* variables: OTEL_TRACES_EXPORTER=otlp turns tracing
// on without fairgate configuration, spans go by OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT (a fake
// collector here) under OTEL_SERVICE_NAME, and closing the gateway flushes them.
import t from 'tap'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { golden, startGateway } from '../helpers/gateway.js'

interface OtlpValue { stringValue?: string, intValue?: string | number }
interface OtlpSpan { traceId: string, spanId: string, parentSpanId?: string, name: string, links?: Array<{ spanId: string }>, attributes: Array<{ key: string, value: OtlpValue }> }
interface OtlpBody { resourceSpans: Array<{ resource: { attributes: Array<{ key: string, value: OtlpValue }> }, scopeSpans: Array<{ scope: { name: string }, spans: OtlpSpan[] }> }> }

t.test('OTEL_TRACES_EXPORTER=otlp exports to OTEL_EXPORTER_OTLP_ENDPOINT', async t => {
  const bodies: OtlpBody[] = []
  const paths: string[] = []
  const collector = createServer((req, res) => {
    let data = ''
    req.setEncoding('utf8')
    req.on('data', (c: string) => { data += c })
    req.on('end', () => {
      paths.push(req.url ?? '')
      bodies.push(JSON.parse(data) as OtlpBody)
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>(resolve => collector.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { collector.close() })
  const port = (collector.address() as AddressInfo).port
  process.env.OTEL_TRACES_EXPORTER = 'otlp'
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${port}`
  process.env.OTEL_SERVICE_NAME = 'fairgate-otlp-test'
  delete process.env.OTEL_SDK_DISABLED

  const { gw, app } = await startGateway()
  t.equal(gw.tracing.enabled, true, 'on through OTEL_TRACES_EXPORTER alone')
  t.equal(gw.tracing.exporter, 'otlp')
  const g = golden()
  const res = await app.inject({
    method: 'POST',
    url: '/v1/predict',
    headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    payload: { model: 'income', features: g.encoded[0], group: { sex: 'Female' } }
  })
  t.equal(res.statusCode, 200, res.body)
  await app.close() // flushes the BatchSpanProcessor

  t.ok(bodies.length > 0, 'the collector got an export')
  t.ok(paths.every(p => p === '/v1/traces'), 'at <endpoint>/v1/traces')
  const spans: OtlpSpan[] = []
  for (const b of bodies) {
    for (const rs of b.resourceSpans) {
      const name = rs.resource.attributes.find(a => a.key === 'service.name')?.value.stringValue
      t.equal(name, 'fairgate-otlp-test', 'service.name from OTEL_SERVICE_NAME')
      for (const ss of rs.scopeSpans) {
        t.equal(ss.scope.name, 'fairgate')
        spans.push(...ss.spans)
      }
    }
  }
  const server = spans.find(s => s.name === 'POST /v1/predict')
  t.ok(server, 'the server span')
  t.equal(server?.traceId, '0af7651916cd43dd8448eb211c80319c')
  t.equal(server?.parentSpanId, 'b7ad6b7169203331')
  t.same(spans.map(s => s.name).sort(), ['POST /v1/predict', 'fairgate.batch', 'fairgate.queue', 'fairgate.route'])
  const batch = spans.find(s => s.name === 'fairgate.batch')
  t.equal(batch?.links?.[0]?.spanId, server?.spanId, 'batch linked to the request')
})
