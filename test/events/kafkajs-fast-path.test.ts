// kafkajs-fast-path.ts puts its modules where kafkajs takes them from, in a fresh module
// registry like the Kafka worker's, and records produced through it reach a real broker with the
// key, value, headers, timestamp and partition kafkajs would have given them. Nothing may load
// kafkajs before the fast path here, so everything is imported in order, dynamically.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import t from 'tap'

const require = createRequire(import.meta.url)
const { fastPath, kafkajs, requestQueueFix } = await import('../../src/events/kafkajs-fast-path.js')
const { KAFKAJS_VERSION } = await import('../../src/events/kafkajs-pin.js')
const { groupMessagesPerPartition } = await import('../../src/events/kafka-partitioning.js')
const { EventProducer } = await import('../../src/events/kafka-producer.js')
const { readTopic, sharedBroker, uniquePrefix } = await import('../helpers/kafka.js')
const { wireBatch } = await import('../helpers/wire-batch.js')
const { PredictionEncoder } = await import('../../src/events/wire.js')

t.test('installed before kafkajs loads: kafkajs takes the replacements', async t => {
  t.ok(fastPath.active, fastPath.reason)
  t.ok(requestQueueFix.active, requestQueueFix.reason)
  t.equal((require('kafkajs/src/protocol/requests/produce/v3/request.js') as { name: string }).name, 'fairgateProduceRequest')
  t.equal(require('kafkajs/src/producer/groupMessagesPerPartition.js'), groupMessagesPerPartition)
  t.equal(kafkajs, require('kafkajs'), 'the one kafkajs of this thread')
  // v7 (what a 4.x broker gets) wraps v6, v5 and v3: loaded after the swap, it encodes through it.
  const v7 = require('kafkajs/src/protocol/requests/produce/v7/request.js') as (a: unknown) => { apiVersion: number, encode: () => Promise<{ buffer: Buffer }> }
  const req = v7({ acks: -1, timeout: 100, producerId: 1, producerEpoch: 0, topicData: [{ topic: 't', partitions: [{ partition: 0, firstSequence: 0, messages: [{ key: 'k', value: 'v', timestamp: '1' }] }] }] })
  t.equal(req.apiVersion, 7)
  t.ok((await req.encode()).buffer.length > 0)
})

t.test('the replaced files are those of the pinned kafkajs', async t => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> }
  t.equal(pkg.dependencies.kafkajs, KAFKAJS_VERSION, 'package.json pins kafkajs exactly')
  t.equal((require('kafkajs/package.json') as { version: string }).version, KAFKAJS_VERSION, 'and that is the one installed')
})

t.test('through a real broker: the records kafkajs would have written', async t => {
  const brokers = await sharedBroker(t)
  const prefix = uniquePrefix()
  const topics = [`${prefix}predictions`, `${prefix}feedback`, `${prefix}decisions`]
  const producer = new EventProducer({ clientId: 'fast-path-test', brokers: [brokers], topics, partitions: 3, replicationFactor: -1, decisionsTopic: 2, replica: 'ré-1', includeGroups: true, includeFeatures: false }, () => {})
  await producer.connect()
  t.teardown(() => producer.disconnect())
  const n = 300
  // Timestamps of now: records older than the broker's retention (7 days) are deleted by its
  // first retention check, 30 s after it starts, which a test run can reach.
  const base = Date.now()
  const feedback = { key: '01KB3M4Z8Q0000000000000000', value: '{"label":1}', headers: { ce_id: 'fb-1', 'content-type': 'application/json' }, timestamp: String(base + 500) }
  const batch = wireBatch([
    ...Array.from({ length: n }, (_, k) => ({
      id: `01KB3M4Z8Q${String(k).padStart(16, '0')}`,
      requestId: `req-${k}`,
      ts: base + (k * 37) % 1000,
      score: Math.fround(k / n),
      groups: [k % 2, (k % 3) - 1]
    })),
    { topic: 1, msg: feedback }
  ], [{ index: 0, model: 'income', variant: 'distilled', attributes: ['sex', 'race'], values: [['Female', 'Male'], ['Black', 'Whïte']], width: 112 }])
  // What kafkajs would send: the events as string messages (the worker sends them pre-encoded),
  // partitioned by kafkajs' own murmur2.
  const enc = new PredictionEncoder({ replica: 'ré-1', includeGroups: true, includeFeatures: false })
  enc.addLanes(batch.newLanes!)
  const expected = [{ topic: topics[0]!, messages: Array.from({ length: n }, (_, k) => enc.message(batch, k)) }, { topic: topics[1]!, messages: [feedback] }]
  const stockMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: unknown) => number
  const partitionOf = (key: string): number => (stockMurmur2(key) & 0x7fffffff) % 3
  await producer.send(batch)

  for (const [i, topic] of topics.slice(0, 2).entries()) {
    const want = expected.find(e => e.topic === topic)!.messages
    const got = await readTopic(brokers, topic, want.length)
    t.equal(got.length, want.length, `${topic}: every record`)
    const byKey = new Map(got.map(r => [`${r.key}|${r.headers.ce_id}`, r]))
    let bad = 0
    for (const m of want) {
      const r = byKey.get(`${m.key as string}|${m.headers!.ce_id as string}`)
      const ok = r !== undefined && JSON.stringify(r.value) === JSON.stringify(JSON.parse(m.value as string)) &&
        JSON.stringify(r.headers) === JSON.stringify(m.headers) && r.timestamp === m.timestamp && r.partition === partitionOf(m.key as string)
      if (!ok && bad++ < 3) t.fail(`record differs: ${JSON.stringify(r)} want ${JSON.stringify(m)}`)
    }
    t.equal(bad, 0, `${topic}: key, value, headers, timestamp and partition as kafkajs would write them`)
    if (i === 0) t.equal(new Set(got.map(r => r.partition)).size, 3, 'spread over the 3 partitions')
  }
})
