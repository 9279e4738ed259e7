// OIP v2 and /v1/predict against the real bundled model through fastify's inject().
import t from 'tap'
import { evalRows, golden, parseMetrics, startGateway } from '../helpers/gateway.js'

const g = golden()
const rows = evalRows()

t.test('OIP v2 infer: request and response shapes', async t => {
  const { app } = await startGateway()
  t.teardown(() => app.close())
  const data = g.encoded.slice(0, 3)
  const res = await app.inject({
    method: 'POST',
    url: '/v2/models/income/infer',
    payload: { id: 'req-1', inputs: [{ name: 'input', shape: [3, 112], datatype: 'FP32', data }], parameters: { group: { sex: 'Female', race: 'White' } } }
  })
  t.equal(res.statusCode, 200, res.body)
  const body = res.json()
  t.equal(body.model_name, 'income')
  t.equal(body.model_version, 'full', 'served by the first variant')
  t.equal(body.id, 'req-1')
  const ids = body.outputs[1].data
  t.equal(body.outputs[1].name, 'prediction_id')
  t.equal(body.outputs[1].datatype, 'BYTES')
  t.same(body.outputs[1].shape, [3])
  t.equal(ids.length, 3)
  t.match(ids[0], /^[0-9A-Z]{26}$/)
  t.equal(new Set(ids).size, 3, 'one id per row')
  t.same(ids, [...ids].sort(), 'ids sort in creation order')
  t.same(body.outputs[0].shape, [3, 1])
  t.equal(body.outputs[0].name, 'probability')
  t.equal(body.outputs[0].datatype, 'FP32')
  for (let i = 0; i < 3; i++) t.ok(Math.abs(body.outputs[0].data[i] - g.variants.full![i]!) <= 1e-5)

  const flat = await app.inject({
    method: 'POST',
    url: '/v2/models/income/versions/distilled/infer',
    payload: { inputs: [{ name: 'input', shape: [2, 112], datatype: 'FP32', data: [...g.encoded[0]!, ...g.encoded[1]!] }], parameters: { groups: [{ sex: 'Male' }, { race: 'Black' }] } }
  })
  t.equal(flat.statusCode, 200, flat.body)
  t.equal(flat.json().model_version, 'distilled', 'version path pins the variant')
  t.ok(Math.abs(flat.json().outputs[0].data[1] - g.variants.distilled![1]!) <= 1e-5, 'flat row-major data')

  const pinned = await app.inject({
    method: 'POST',
    url: '/v2/models/income/infer',
    payload: { inputs: [{ name: 'input', shape: [1, 112], datatype: 'FP32', data: g.encoded[0] }], parameters: { variant: 'fair' } }
  })
  t.equal(pinned.json().model_version, 'fair')
})

t.test('/v1/predict on the first 200 eval rows matches the golden probabilities', async t => {
  const { app } = await startGateway()
  t.teardown(() => app.close())
  for (const variant of Object.keys(g.variants)) {
    const replies = await Promise.all(rows.slice(0, g.rows).map(r => app.inject({ method: 'POST', url: '/v1/predict', payload: { model: 'income', features: r.features, group: r.group, variant } })))
    let worst = 0
    replies.forEach((res, i) => {
      const p = res.json()
      if (res.statusCode !== 200 || p.variant !== variant) t.fail(`row ${i}: ${res.body}`)
      worst = Math.max(worst, Math.abs(p.score - g.variants[variant]![i]!))
      if (p.decision !== (p.score >= p.threshold ? 1 : 0)) t.fail('decision follows the threshold')
    })
    t.ok(worst <= 1e-5, `${variant}: max abs diff ${worst}`)
  }
  const many = await app.inject({ method: 'POST', url: '/v1/predict', payload: { model: 'income', instances: rows.slice(0, 5).map(r => r.features), groups: rows.slice(0, 5).map(r => r.group) } })
  t.equal(many.statusCode, 200, many.body)
  const list = many.json()
  t.equal(list.length, 5, 'instances answer a list')
  list.forEach((p: { score: number, id: string }, i: number) => { t.ok(Math.abs(p.score - g.variants.full![i]!) <= 1e-5) })
})

t.test('64 concurrent single-row requests are batched and each gets its own answer', async t => {
  const { app } = await startGateway({ batching: { max_inflight: 1 } })
  t.teardown(() => app.close())
  const n = 64
  const replies = await Promise.all(rows.slice(0, n).map(r => app.inject({ method: 'POST', url: '/v1/predict', payload: { model: 'income', features: r.features, group: r.group } })))
  replies.forEach((res, i) => {
    t.equal(res.statusCode, 200)
    t.ok(Math.abs(res.json().score - g.variants.full![i]!) <= 1e-5, `row ${i} got its own score`)
  })
  const metrics = parseMetrics((await app.inject('/metrics')).body)
  const batches = metrics.get('fairgate_batch_size_count{model="income",variant="full"}')!
  const batchedRows = metrics.get('fairgate_batch_size_sum{model="income",variant="full"}')!
  t.equal(batchedRows, n, 'every row ran once')
  t.ok(batches < n, `${n} rows ran in ${batches} batches`)
  t.ok(metrics.get('fairgate_batch_size_bucket{le="1",model="income",variant="full"}')! < batches, 'some batches are larger than 1')
  t.equal(metrics.get('fairgate_requests_total{model="income",variant="full",code="200"}'), n)
  t.equal(metrics.get('fairgate_active_variant{model="income",variant="full"}'), 1)
  t.equal(metrics.get('fairgate_active_variant{model="income",variant="fair"}'), 0)
  t.ok(metrics.has('fairgate_queue_depth{model="income",variant="full"}'))
  t.ok(metrics.has('process_resident_memory_bytes'), 'default process metrics')
})

t.test("a variant's own max_batch_size (its manifest entry) bounds its batches; the others keep batching.max_batch_size", async t => {
  const { app } = await startGateway()
  t.teardown(() => app.close())
  const data = g.encoded.slice(0, 200)
  for (const variant of ['distilled', 'full']) {
    const res = await app.inject({ method: 'POST', url: `/v2/models/income/versions/${variant}/infer`, payload: { inputs: [{ name: 'input', shape: [200, 112], datatype: 'FP32', data }] } })
    t.equal(res.statusCode, 200, res.body)
    const scores = res.json().outputs[0].data as number[]
    scores.forEach((s, i) => { t.ok(Math.abs(s - g.variants[variant]![i]!) <= 1e-5, `${variant} row ${i}`) })
  }
  const metrics = parseMetrics((await app.inject('/metrics')).body)
  t.equal(metrics.get('fairgate_batch_size_count{model="income",variant="distilled"}'), 1, 'distilled (max_batch_size 256 in model.yaml): 200 rows in one run')
  t.equal(metrics.get('fairgate_batch_size_sum{model="income",variant="distilled"}'), 200)
  t.equal(metrics.get('fairgate_batch_size_count{model="income",variant="full"}'), 4, 'full (the default 64): 64 + 64 + 64 + 8')
  t.equal(metrics.get('fairgate_batch_size_sum{model="income",variant="full"}'), 200)
})

t.test('queue full answers 429 with Retry-After and the server keeps serving', async t => {
  const { app } = await startGateway({ batching: { max_inflight: 1, max_batch_size: 8, max_queue_rows: 16 } })
  t.teardown(() => app.close())
  const instances = rows.slice(0, 8).map(r => r.features)
  const replies = await Promise.all(Array.from({ length: 12 }, () => app.inject({ method: 'POST', url: '/v1/predict', payload: { model: 'income', instances } })))
  const codes = replies.map(r => r.statusCode)
  t.ok(codes.includes(429), `some 429s: ${codes.join(',')}`)
  t.ok(codes.includes(200))
  const full = replies.find(r => r.statusCode === 429)!
  t.equal(full.headers['retry-after'], '1')
  t.match(full.json().error, /queue .* is full/)
  const after = await app.inject({ method: 'POST', url: '/v1/predict', payload: { model: 'income', features: rows[0]!.features } })
  t.equal(after.statusCode, 200)
})

t.test('a request whose budget expires in the queue gets 504 and is never run', async t => {
  const { app, gw } = await startGateway({ batching: { max_inflight: 1, max_batch_size: 256 }, http: { max_rows_per_request: 1024 } })
  t.teardown(() => app.close())
  const big = rows.slice(0, 1024).map(r => r.features)
  const heavy = [0, 1, 2].map(() => app.inject({ method: 'POST', url: '/v1/predict', payload: { model: 'income', instances: big } }))
  const full = gw.registry.model('income').variant('full')
  // Send the budgeted request only once rows are waiting behind a running batch.
  while (gw.batcher(full).queuedRows === 0) await new Promise(resolve => setImmediate(resolve))
  const late = app.inject({ method: 'POST', url: '/v1/predict', payload: { model: 'income', features: rows[0]!.features, latency_budget_ms: 1, variant: 'full' } })
  const [res] = await Promise.all([late, ...heavy])
  t.equal(res.statusCode, 504, res.body)
  t.match(res.json().error, /latency budget of 1 ms expired/)
  const m = parseMetrics(await gw.metrics.registry.metrics())
  t.equal(m.get('fairgate_batch_size_sum{model="income",variant="full"}'), 3 * 1024, 'the expired row never ran')
})
