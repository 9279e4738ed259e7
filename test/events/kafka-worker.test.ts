// The Kafka worker thread: the compact batches the main thread posts become exactly the events
// the plain serializer would write, and a worker that dies is replaced without losing events.
import t from 'tap'
import type { InferJob } from '../../src/batching/index.js'
import { validateConfig } from '../../src/config/index.js'
import { predictionSerializer } from '../helpers/prediction-reference.js'
import { PredictionEncoder, type WireBatch } from '../../src/events/wire.js'
import { evalRows, parseMetrics, startGateway } from '../helpers/gateway.js'
import { readTopic, sharedBroker, uniquePrefix } from '../helpers/kafka.js'

const rows = evalRows()
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

t.test('worker-side encoding is byte for byte the reference serializer', async t => {
  // Nothing listens on port 1: the worker never connects, so we stand in for it.
  const overrides = { kafka: { brokers: ['127.0.0.1:1'] }, replica: 'r"1', events: { include_features: true, linger_ms: 0, batch_size: 7 } }
  const ref = predictionSerializer(validateConfig(overrides))
  const expected = new Map<string, ReturnType<typeof ref>>()
  const { app, gw } = await startGateway(overrides, { sinks: [{ onPredictions: (job: InferJob) => { for (let r = 0; r < job.rows; r++) expected.set(job.ids[r]!, ref(job, r)) }, flush: async () => {}, close: async () => {} }] })
  t.teardown(() => app.close())
  const batches: WireBatch[] = []
  const transport = gw.events!.publisher.transport
  transport.connect = async () => {}
  transport.send = async (b) => { batches.push(structuredClone({ ...b, newLanes: [...(transport as unknown as { lanes: [] }).lanes] })) }
  // End the real worker's hopeless first connect; the reconnect uses the stand-in.
  await transport.crashForTest()
  for (let i = 0; i < 40; i++) {
    const r = rows[i]!
    const payload = i % 4 === 0
      ? { model: 'income', instances: rows.slice(i, i + 3).map(x => x.features), groups: rows.slice(i, i + 3).map((x, k) => k === 1 ? { race: x.group.race } : x.group), variant: ['full', 'distilled', 'int8'][i % 3] }
      : { model: 'income', features: r.features, group: i % 5 === 0 ? {} : r.group, variant: ['full', 'distilled', 'int8'][i % 3] }
    const res = await app.inject({ method: 'POST', url: '/v1/predict', payload })
    t.equal(res.statusCode, 200, res.body)
  }
  gw.events!.publishFeedback({ prediction_id: [...expected.keys()][0]!, label: 1, ts: 1_700_000_000_123 })
  await gw.events!.publisher.flush(10_000)
  const enc = new PredictionEncoder({ replica: gw.config.replica, includeGroups: true, includeFeatures: true })
  let seen = 0
  let feedback = 0
  let mismatches = 0
  for (const b of batches) {
    if (b.newLanes !== null) enc.addLanes(b.newLanes)
    for (let k = 0; k < b.n; k++) {
      if (b.msgs?.[k] != null) { feedback++; continue }
      const got = enc.message(b, k)
      const want = expected.get(got.key)
      seen++
      if (JSON.stringify(got) !== JSON.stringify(want) && mismatches++ < 3) t.fail(`mismatch:\n${JSON.stringify(got)}\n${JSON.stringify(want)}`)
    }
  }
  t.equal(mismatches, 0, 'every event equal to the reference')
  t.equal(seen, expected.size, `all ${expected.size} predictions passed through`)
  t.equal(feedback, 1, 'prebuilt feedback message passed through')
})

t.test('a crashed worker is replaced: every event still reaches the topic', async t => {
  const brokers = await sharedBroker(t)
  const prefix = uniquePrefix()
  const { app, gw } = await startGateway({ kafka: { brokers: [brokers], topic_prefix: prefix } })
  let closed = false
  t.teardown(async () => { if (!closed) await app.close() })
  const ids: string[] = []
  const predict = async (n: number, from: number): Promise<void> => {
    for (let i = from; i < from + n; i++) {
      const r = rows[i % rows.length]!
      const res = await app.inject({ method: 'POST', url: '/v1/predict', payload: { model: 'income', features: r.features, group: r.group } })
      ids.push(res.json().id)
    }
  }
  await predict(200, 0)
  await gw.events!.publisher.flush(30_000)
  const transport = gw.events!.publisher.transport
  t.equal(transport.started, 1)
  // Crash with events buffered and (likely) one batch in flight.
  await predict(100, 200)
  await transport.crashForTest()
  await predict(200, 300)
  await sleep(100)
  await transport.crashForTest()
  await gw.events!.publisher.flush(30_000)
  t.ok(transport.started >= 2, `a new worker started (${transport.started} in all)`)
  const m = parseMetrics(await gw.metrics.registry.metrics())
  t.equal(m.get(`fairgate_event_buffer{topic="${prefix}predictions"}`), 0, 'backlog flushed')
  t.notOk(m.get(`fairgate_events_total{topic="${prefix}predictions",outcome="dropped"}`), 'nothing dropped')
  t.equal(m.get(`fairgate_events_total{topic="${prefix}predictions",outcome="buffered"}`), 500)
  await app.close()
  closed = true
  const records = await readTopic(brokers, `${prefix}predictions`, ids.length)
  const got = new Set(records.map(r => r.value.id as string))
  t.equal(ids.filter(id => !got.has(id)).length, 0, 'every answered prediction is on the topic (an in-flight batch may repeat after a crash)')
})
