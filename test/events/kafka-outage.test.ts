// A broker outage under load: requests keep being answered normally, events buffer, and after
// the broker returns every event is on the topic exactly once, in order per replica.
import t from 'tap'
import { evalRows, parseMetrics, startGateway } from '../helpers/gateway.js'
import { ownBroker, readTopic, uniquePrefix } from '../helpers/kafka.js'
import { waitFor } from '../helpers/wait.js'

const rows = evalRows()
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

t.test('broker down under load: no failed request, no lost or duplicate event', async t => {
  const broker = await ownBroker(t)
  const prefix = uniquePrefix()
  const { app, gw } = await startGateway({ kafka: { brokers: [broker.brokers], topic_prefix: prefix }, events: { send_timeout_ms: 2_000 } })
  let closed = false
  t.teardown(async () => { if (!closed) await app.close() })

  const ids = new Set<string>()
  const failures: string[] = []
  let stop = false
  let duringOutage = 0
  let outage = false
  const worker = async (w: number): Promise<void> => {
    for (let i = w; !stop; i += 16) {
      const r = rows[i % rows.length]!
      const res = await app.inject({ method: 'POST', url: '/v1/predict', payload: { model: 'income', features: r.features, group: r.group } })
      if (res.statusCode !== 200) failures.push(`${res.statusCode} ${res.body}`)
      else {
        ids.add(res.json().id)
        if (outage) duringOutage++
      }
      // ~1,000 requests/s in total: steady load, not a flood.
      await sleep(16)
    }
  }
  const load = Promise.all(Array.from({ length: 16 }, (_, w) => worker(w)))
  const metric = async (outcome: string): Promise<number> => parseMetrics(await gw.metrics.registry.metrics()).get(`fairgate_events_total{topic="${prefix}predictions",outcome="${outcome}"}`) ?? 0
  const bufferedNow = async (): Promise<number> => parseMetrics(await gw.metrics.registry.metrics()).get(`fairgate_event_buffer{topic="${prefix}predictions"}`) ?? 0
  // Events flow to the broker before it goes away.
  await waitFor('events acked by the broker', async () => ids.size >= 200 && await metric('sent') > 0)
  const beforeOutage = ids.size
  await broker.shutdown()
  outage = true
  // Down long enough that a real backlog builds up (and past send_timeout_ms: the stream stalls).
  await waitFor('a backlog of 1,000 events during the outage', async () => duringOutage > 1_000 && await bufferedNow() > 1_000)
  const backlog = await bufferedNow()
  const sentAtOutage = await metric('sent')
  await broker.start()
  outage = false
  // Back: the buffered events start to land while requests keep coming.
  const answeredAtRecovery = ids.size
  await waitFor('events acked again after the broker returned', async () => await metric('sent') > sentAtOutage && ids.size > answeredAtRecovery + 200)
  stop = true
  await load
  t.same(failures, [], 'every request answered normally during the outage')
  t.ok(beforeOutage > 0 && duringOutage > 1_000, `${duringOutage} requests answered while the broker was down`)
  t.ok(backlog > 1_000, `events were buffered during the outage (backlog ${backlog})`)

  await gw.events!.publisher.flush(30_000)
  const m = parseMetrics(await gw.metrics.registry.metrics())
  t.equal(m.get(`fairgate_event_buffer{topic="${prefix}predictions"}`), 0, 'backlog flushed after recovery')
  t.notOk(m.get(`fairgate_events_total{topic="${prefix}predictions",outcome="dropped"}`), 'nothing dropped')
  await app.close()
  closed = true

  const records = await readTopic(broker.brokers, `${prefix}predictions`, ids.size, 60_000, 3_000)
  const got = new Set(records.map(r => r.value.id as string))
  t.equal(records.length, ids.size, `exactly ${ids.size} events (no duplicates)`)
  t.equal(got.size, ids.size)
  t.ok([...ids].every(id => got.has(id)), 'every answered prediction is on the topic')
  // Ids sort by creation time, and the buffer flushes in order: per partition the ids ascend.
  const byPartition = new Map<number, string[]>()
  for (const r of records) byPartition.set(r.partition, [...(byPartition.get(r.partition) ?? []), r.value.id as string])
  let ordered = true
  for (const list of byPartition.values()) for (let i = 1; i < list.length; i++) if (list[i]! < list[i - 1]!) ordered = false
  t.ok(ordered, 'per partition, events arrive in the order they were made')
})

t.test('overflow beyond the buffer drops the oldest events and counts every one', async t => {
  const broker = await ownBroker(t)
  const prefix = uniquePrefix()
  const { app, gw } = await startGateway({ kafka: { brokers: [broker.brokers], topic_prefix: prefix }, events: { buffer_size: 500, batch_size: 100, flush_timeout_ms: 1_000 } })
  t.teardown(() => app.close())
  // Wait until connected (topics exist), then take the broker away.
  const m0 = async (): Promise<Map<string, number>> => parseMetrics(await gw.metrics.registry.metrics())
  await app.inject({ method: 'POST', url: '/v1/predict', payload: { model: 'income', features: rows[0]!.features } })
  await waitFor('the first event acked', async () => (await m0()).get(`fairgate_events_total{topic="${prefix}predictions",outcome="sent"}`) === 1)
  await broker.shutdown()
  const instances = rows.slice(0, 100).map(r => r.features)
  for (let i = 0; i < 20; i++) {
    const res = await app.inject({ method: 'POST', url: '/v1/predict', payload: { model: 'income', instances } })
    t.equal(res.statusCode, 200)
  }
  const m = await m0()
  const buffered = m.get(`fairgate_events_total{topic="${prefix}predictions",outcome="buffered"}`)!
  const dropped = m.get(`fairgate_events_total{topic="${prefix}predictions",outcome="dropped"}`)!
  const backlog = m.get(`fairgate_event_buffer{topic="${prefix}predictions"}`)!
  t.equal(buffered, 2_001)
  t.ok(backlog <= 500 + 100, `backlog bounded by buffer + one batch in flight (${backlog})`)
  t.equal(buffered - 1 - dropped, backlog, 'every event is either waiting or counted as dropped')
})
