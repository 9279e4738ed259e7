// Prediction and feedback events on a real Kafka 4.x broker, read back by an independent
// consumer: exact counts, CloudEvents headers, the right variant, groups and ids.
import t from 'tap'
import { evalRows, parseMetrics, startGateway } from '../helpers/gateway.js'
import { readTopic, sharedBroker, uniquePrefix } from '../helpers/kafka.js'

const rows = evalRows()

t.test('10,000 predictions through HTTP give exactly 10,000 events', async t => {
  const brokers = await sharedBroker(t)
  const prefix = uniquePrefix()
  const { app, gw } = await startGateway({ kafka: { brokers: [brokers], topic_prefix: prefix }, replica: 'replica-a' })
  let closed = false
  t.teardown(async () => { if (!closed) await app.close() })

  const expected = new Map<string, { variant: string, group: Record<string, string>, score: number }>()
  const variants = ['full', 'distilled', 'fair']
  const total = 10_000
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < total) {
      const i = next++
      const r = rows[i % rows.length]!
      const variant = variants[i % 3]!
      // Every 10th request leaves race unlabelled: the event must then carry only sex.
      const group = i % 10 === 0 ? { sex: r.group.sex } : r.group
      const res = await app.inject({ method: 'POST', url: '/v1/predict', payload: { model: 'income', features: r.features, group, variant } })
      if (res.statusCode !== 200) throw new Error(res.body)
      const p = res.json()
      expected.set(p.id, { variant: p.variant, group, score: p.score })
    }
  }
  await Promise.all(Array.from({ length: 64 }, worker))
  t.equal(expected.size, total, 'every prediction id is unique')
  await app.close()
  closed = true

  const records = await readTopic(brokers, `${prefix}predictions`, total)
  t.equal(records.length, total, 'exactly one event per prediction')
  const seen = new Set<string>()
  let bad = 0
  for (const rec of records) {
    const v = rec.value as { id: string, variant: string, groups: Record<string, string>, score: number, model: string, replica: string, decision: number, features?: unknown }
    const want = expected.get(v.id)
    seen.add(v.id)
    const ok = want !== undefined && v.variant === want.variant && JSON.stringify(v.groups) === JSON.stringify(want.group) &&
      v.score === want.score && v.model === 'income' && v.replica === 'replica-a' && rec.key === v.id && v.features === undefined &&
      rec.headers.ce_specversion === '1.0' && rec.headers.ce_type === 'io.fairgate.prediction.v1' && rec.headers.ce_id === v.id &&
      rec.headers.ce_source === 'fairgate/replica-a' && rec.headers['content-type'] === 'application/json' && !Number.isNaN(Date.parse(rec.headers.ce_time!))
    if (!ok && bad++ < 3) t.fail(`event does not match its prediction: ${JSON.stringify(rec)} want ${JSON.stringify(want)}`)
  }
  t.equal(bad, 0, 'every event has the right variant, groups, id and headers')
  t.equal(seen.size, total, 'no duplicates')
  const m = parseMetrics(await gw.metrics.registry.metrics())
  t.equal(m.get(`fairgate_events_total{topic="${prefix}predictions",outcome="sent"}`), total)
  t.notOk(m.get(`fairgate_events_total{topic="${prefix}predictions",outcome="dropped"}`), 'nothing dropped')
})

t.test('feedback is validated and published; include_features puts features in events', async t => {
  const brokers = await sharedBroker(t)
  const prefix = uniquePrefix()
  const { app } = await startGateway({ kafka: { brokers: [brokers], topic_prefix: prefix }, events: { include_features: true } })
  t.teardown(() => app.close())
  const p = (await app.inject({ method: 'POST', url: '/v1/predict', payload: { model: 'income', features: rows[0]!.features, group: rows[0]!.group } })).json()
  const ok = await app.inject({ method: 'POST', url: '/v1/feedback', payload: { prediction_id: p.id, label: 1 } })
  t.equal(ok.statusCode, 202, ok.body)
  t.same(ok.json(), { accepted: 1, joined: 1, unknown: 0, duplicate: 0 })
  const dup = await app.inject({ method: 'POST', url: '/v1/feedback', payload: { prediction_id: p.id, label: 1 } })
  t.equal(dup.json().duplicate, 1, 'a repeated label is not joined twice')
  // With Kafka, an id this replica does not know may come from another replica: accepted.
  const other = await app.inject({ method: 'POST', url: '/v1/feedback', payload: [{ prediction_id: '01M8ABEGD4DXJT79000000161V', label: false }] })
  t.equal(other.statusCode, 202)
  t.equal(other.json().unknown, 1)
  for (const [payload, re] of [
    [{ prediction_id: 'nope', label: 1 }, /prediction_id: must be a prediction id/],
    [{ prediction_id: p.id, label: 2 }, /label: must be 0, 1/],
    [{ prediction_id: p.id }, /label/],
    [[{ prediction_id: p.id, label: 1 }, { prediction_id: 'x', label: 0 }], /\[1\]\.prediction_id/],
    [[], /1 to 10000 items/],
    [{ prediction_id: 'ZZZZZZZZZZ0000000000000000', label: 1 }, /from the future/]
  ] as Array<[unknown, RegExp]>) {
    const res = await app.inject({ method: 'POST', url: '/v1/feedback', payload: payload as object })
    t.equal(res.statusCode, 400, res.body)
    t.match(res.json().error, re)
  }
  const fb = await readTopic(brokers, `${prefix}feedback`, 2)
  t.equal(fb.length, 2, 'the joined label and the unknown-here label are published; the duplicate is not')
  t.same(fb.map(r => r.value.label).sort(), [0, 1])
  t.equal(fb.find(r => r.value.label === 1)!.key, p.id, 'keyed by prediction id, like the prediction')
  t.equal(fb[0]!.headers.ce_type, 'io.fairgate.feedback.v1')
  const ev = await readTopic(brokers, `${prefix}predictions`, 1)
  t.equal((ev[0]!.value.features as number[]).length, 112)
})
