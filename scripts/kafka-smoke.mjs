#!/usr/bin/env node
// scripts/kafka-smoke.mjs — proves kafkajs 2.2.4 works against the Kafka 4.x broker that
// scripts/kafka-broker.mjs starts, for every Kafka feature fairgate relies on.
//
//   node scripts/kafka-broker.mjs run -- node scripts/kafka-smoke.mjs
//
// Part A runs against KAFKA_BROKERS (the shared broker):
//   1. createTopics with 3 partitions, and a compacted topic (cleanup.policy=compact)
//      whose config is read back with describeConfigs
//   2. 1000 messages with headers from an IDEMPOTENT producer (acks=-1)
//   3. consumed back by a consumer group from the beginning: count, no duplicates, headers
//   4. admin.fetchTopicOffsetsByTimestamp (fairgate uses it to seek by time)
// Part B starts its OWN broker (it must stop it, which would break anyone else sharing
// KAFKA_BROKERS) and checks that a producer and a consumer survive a 10 s outage
// (graceful shutdown) and a crash (SIGKILL), with data intact and no duplicates.
// Set SMOKE_SKIP_OUTAGE=1 to run only part A (e.g. against an external cluster).
//
// Exit code 0 only if every check passed; the last line is "smoke: N passed, N failed".

import { Kafka, Partitioners, logLevel, CompressionTypes } from 'kafkajs'
import { startBroker } from './kafka-broker.mjs'

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const results = { passed: 0, failed: 0 }
function check(name, ok, detail = '') {
  results[ok ? 'passed' : 'failed']++
  console.log(`${ok ? 'ok    ' : 'NOT OK'} ${name}${detail ? ` — ${detail}` : ''}`)
}
const run = Date.now().toString(36)

function client(brokers, clientId) {
  return new Kafka({
    clientId,
    brokers: brokers.split(','),
    // WARN: kafkajs logs every rebalance/reconnect at INFO, which is noise here; real
    // problems (protocol errors, retries giving up) are WARN/ERROR and stay visible.
    logLevel: logLevel.WARN,
  })
}

function producerOf(kafka, extra = {}) {
  return kafka.producer({
    idempotent: true, // enable.idempotence: broker dedups retried batches by (producerId, seq)
    maxInFlightRequests: 1, // kafkajs only guarantees ordering+idempotence with 1 in flight
    // Explicit partitioner: kafkajs 2.x otherwise logs KAFKAJS_NO_PARTITIONER_WARNING on
    // every producer. DefaultPartitioner is murmur2, i.e. the same key→partition mapping
    // as the Java client (LegacyPartitioner is the kafkajs 1.x one).
    createPartitioner: Partitioners.DefaultPartitioner,
    ...extra,
  })
}

/** Consume `topic` with a fresh group until `want` messages arrived (then linger to catch dups). */
async function consumeAll(kafka, topic, want, { timeoutMs = 30_000, lingerMs = 1_500 } = {}) {
  const consumer = kafka.consumer({ groupId: `smoke-${topic}-${Date.now()}` })
  const seen = []
  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  await consumer.run({ eachMessage: async ({ partition, message }) => void seen.push({ partition, message }) })
  const deadline = Date.now() + timeoutMs
  while (seen.length < want && Date.now() < deadline) await sleep(100)
  await sleep(lingerMs)
  await consumer.disconnect()
  return seen
}

// -------------------------------------------------------------------------------------
// Part A
// -------------------------------------------------------------------------------------
async function partA(brokers) {
  console.log(`# part A against ${brokers}`)
  const kafka = client(brokers, 'fairgate-smoke')
  const admin = kafka.admin()
  await admin.connect()

  const topic = `smoke-events-${run}`
  const compacted = `smoke-compacted-${run}`
  const created = await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic, numPartitions: 3, replicationFactor: 1 },
      {
        topic: compacted, numPartitions: 1, replicationFactor: 1,
        configEntries: [
          { name: 'cleanup.policy', value: 'compact' },
          { name: 'min.cleanable.dirty.ratio', value: '0.01' },
          { name: 'segment.ms', value: '100' },
        ],
      },
    ],
  })
  check('createTopics (3 partitions + compacted)', created === true)

  const md = await admin.fetchTopicMetadata({ topics: [topic] })
  check('topic has 3 partitions', md.topics[0].partitions.length === 3)

  const cfg = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: 2 /* ConfigResourceTypes.TOPIC */, name: compacted, configNames: ['cleanup.policy'] }],
  })
  const policy = cfg.resources[0].configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue
  check('compacted topic has cleanup.policy=compact', policy === 'compact', `got ${policy}`)

  // Producing to a missing topic must fail since auto.create.topics.enable=false.
  // (kafkajs retries UNKNOWN_TOPIC_OR_PARTITION; keep retries low so this is quick.)
  // Idempotent producers need ≥1 retry in kafkajs, hence retries: 1.
  {
    const p = producerOf(kafka, { retry: { retries: 1, initialRetryTime: 100 } })
    await p.connect()
    let err = null
    try {
      await p.send({ topic: `smoke-missing-${run}`, acks: -1, messages: [{ value: 'x' }] })
    } catch (e) {
      err = e
    }
    await p.disconnect()
    check('auto-create is off (send to missing topic fails)', err !== null, err ? `${err.name}: ${err.message}` : 'it succeeded')
  }

  // 1000 messages: first 500 stamped at base, last 500 at base+10s, so a timestamp
  // lookup at base+5s has an exact expected answer.
  const producer = producerOf(kafka)
  await producer.connect()
  const base = Date.now() - 60_000
  const N = 1000
  let t0 = Date.now()
  for (let batch = 0; batch < N / 100; batch++) {
    const messages = []
    for (let i = batch * 100; i < (batch + 1) * 100; i++) {
      messages.push({
        key: `k${i}`,
        value: JSON.stringify({ i }),
        timestamp: String(i < N / 2 ? base : base + 10_000),
        headers: { 'x-fairgate-seq': String(i), 'x-model': 'smoke' },
      })
    }
    await producer.send({ topic, acks: -1, compression: CompressionTypes.GZIP, messages })
  }
  check(`idempotent producer sent ${N} messages`, true, `${Date.now() - t0} ms`)

  // Compacted topic: same key twice; just prove produce + read works on it.
  await producer.send({ topic: compacted, acks: -1, messages: [{ key: 'a', value: '1' }, { key: 'a', value: '2' }, { key: 'b', value: '1' }] })
  await producer.disconnect()

  const offsets = await admin.fetchTopicOffsets(topic)
  const total = offsets.reduce((s, p) => s + Number(p.high) - Number(p.low), 0)
  check('fetchTopicOffsets sums to 1000', total === N, `got ${total}`)

  t0 = Date.now()
  const seen = await consumeAll(kafka, topic, N)
  const ids = seen.map(({ message }) => JSON.parse(message.value.toString()).i)
  const unique = new Set(ids)
  check('consumer group got 1000 messages', seen.length === N, `got ${seen.length} in ${Date.now() - t0} ms`)
  check('no duplicates', unique.size === seen.length, `${seen.length - unique.size} dups`)
  const hdrOk = seen.every(({ message }) =>
    message.headers['x-fairgate-seq']?.toString() === String(JSON.parse(message.value.toString()).i) &&
    message.headers['x-model']?.toString() === 'smoke')
  check('headers round-trip', hdrOk)
  const byPartition = [0, 1, 2].map((p) => seen.filter((s) => s.partition === p).length)
  check('keys spread over all 3 partitions', byPartition.every((n) => n > 0), byPartition.join('/'))
  // Per-partition order: within a partition, i must be increasing (keys are unique, so
  // this is "producer order per partition").
  const ordered = [0, 1, 2].every((p) => {
    const xs = seen.filter((s) => s.partition === p).map((s) => JSON.parse(s.message.value.toString()).i)
    return xs.every((x, j) => j === 0 || xs[j - 1] < x)
  })
  check('per-partition order preserved', ordered)

  const byTs = await admin.fetchTopicOffsetsByTimestamp(topic, base + 5_000)
  const afterTs = byTs.reduce((s, { partition, offset }) => {
    const hi = offsets.find((o) => o.partition === partition).high
    return s + Number(hi) - Number(offset)
  }, 0)
  check('fetchTopicOffsetsByTimestamp(mid) → exactly the last 500', afterTs === N / 2, `got ${afterTs}; ${JSON.stringify(byTs)}`)
  const byTsFuture = await admin.fetchTopicOffsetsByTimestamp(topic, Date.now() + 3_600_000)
  const futureIsHigh = byTsFuture.every(({ partition, offset }) => offset === offsets.find((o) => o.partition === partition).high)
  check('fetchTopicOffsetsByTimestamp(future) → high watermark', futureIsHigh, JSON.stringify(byTsFuture))
  const byTsPast = await admin.fetchTopicOffsetsByTimestamp(topic, 0)
  const pastIsLow = byTsPast.every(({ offset }) => offset === '0')
  check('fetchTopicOffsetsByTimestamp(0) → offset 0', pastIsLow, JSON.stringify(byTsPast))

  const compactedSeen = await consumeAll(kafka, compacted, 3, { timeoutMs: 10_000, lingerMs: 200 })
  check('compacted topic produce/consume', compactedSeen.length >= 2, `got ${compactedSeen.length}`)

  await admin.deleteTopics({ topics: [topic, compacted] })
  check('deleteTopics', true)
  await admin.disconnect()
}

// -------------------------------------------------------------------------------------
// Part B: outage and crash on a private broker
// -------------------------------------------------------------------------------------
async function partB() {
  console.log('# part B: private broker, outage + crash')
  const broker = await startBroker()
  // kafkajs logs every refused reconnect at ERROR (hundreds of lines in a 10 s outage);
  // count them instead and print a summary.
  const errorLog = new Map()
  const countingLogger = () => ({ log }) => errorLog.set(log.message, (errorLog.get(log.message) ?? 0) + 1)
  try {
    const kafka = new Kafka({
      clientId: 'fairgate-smoke-outage',
      brokers: [broker.brokers],
      logLevel: logLevel.ERROR,
      logCreator: countingLogger,
      // Default kafkajs retry (5 retries, 300 ms initial, ×2) gives up after ~10 s in
      // total, i.e. right in the middle of a 10 s outage. The gateway must choose its own
      // policy; this one rides out ~30 s.
      retry: { initialRetryTime: 300, maxRetryTime: 2_000, retries: 20 },
    })
    const admin = kafka.admin()
    await admin.connect()
    const topic = `outage-${run}`
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 3, replicationFactor: 1 }] })
    await admin.disconnect()

    // A consumer that stays up through the outage: must get post-restart messages too.
    const live = new Set()
    let liveDups = 0
    const consumer = kafka.consumer({ groupId: `outage-live-${run}`, retry: { retries: 30, maxRetryTime: 2_000 } })
    await consumer.connect()
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    await consumer.run({
      eachMessage: async ({ message }) => {
        const i = Number(message.value.toString())
        if (live.has(i)) liveDups++
        live.add(i)
      },
    })

    const producer = producerOf(kafka)
    await producer.connect()
    const acked = new Set()
    let sendErrors = 0
    let i = 0
    let stopProducing = false
    // Produce one message every 20 ms, sequentially (like a gateway emitting events),
    // for the whole test, while the broker goes away and comes back.
    const producing = (async () => {
      while (!stopProducing) {
        const n = i++
        try {
          await producer.send({ topic, acks: -1, messages: [{ key: `k${n}`, value: String(n) }] })
          acked.add(n)
        } catch (e) {
          sendErrors++
          console.log(`  send ${n} failed: ${e.name}: ${e.message}`)
        }
        await sleep(20)
      }
    })()

    // Control group: kafkajs DEFAULTS (client retry unset) for a producer and a consumer,
    // to show what the gateway gets if it does not configure retries. Note kafkajs 2.2.4
    // merges producer retry as {...clientRetry, ...producerRetry}, so the documented
    // "idempotent ⇒ retries = MAX_SAFE_INTEGER" default never applies: it is 5 retries.
    const defaults = new Kafka({ clientId: 'fairgate-smoke-defaults', brokers: [broker.brokers], logLevel: logLevel.ERROR, logCreator: countingLogger })
    const defProducer = producerOf(defaults)
    await defProducer.connect()
    const defSeen = new Set()
    const defCrashes = []
    const defConsumer = defaults.consumer({ groupId: `outage-defaults-${run}` })
    defConsumer.on(defConsumer.events.CRASH, ({ payload }) =>
      defCrashes.push(`${payload.error.name}(${payload.error.message.slice(0, 60)}) restart=${payload.restart}`))
    await defConsumer.connect()
    await defConsumer.subscribe({ topics: [topic], fromBeginning: true })
    await defConsumer.run({ eachMessage: async ({ message }) => void defSeen.add(Number(message.value.toString())) })

    const waitAcked = async (n, ms) => {
      const deadline = Date.now() + ms
      while (acked.size < n && Date.now() < deadline) await sleep(50)
      return acked.size >= n
    }

    await waitAcked(100, 20_000)
    const beforeOutage = acked.size
    let t0 = Date.now()
    await broker.shutdown()
    console.log(`  graceful shutdown took ${Date.now() - t0} ms, ${beforeOutage} acked; down for 10 s`)
    const outageStart = Date.now()
    const defSend = defProducer.send({ topic, acks: -1, messages: [{ key: 'default', value: '-1' }] }).then(
      () => `delivered after ${Date.now() - outageStart} ms`,
      (e) => `FAILED after ${Date.now() - outageStart} ms: ${e.name}: ${e.message}`)
    await sleep(10_000)
    const duringOutage = acked.size - beforeOutage
    t0 = Date.now()
    await broker.start()
    const restartMs = Date.now() - t0
    console.log(`  info: default-retry idempotent producer, one send issued at outage start: ${await defSend}`)
    const recovered = await waitAcked(acked.size + 100, 30_000)
    check('producer resumes after 10 s outage (same port, data kept)', recovered,
      `restart ${restartMs} ms; acked while shutting down ${duringOutage}; send errors ${sendErrors}`)

    // Crash: SIGKILL, no clean shutdown; the broker must recover its log.
    const beforeCrash = acked.size
    await broker.kill()
    await sleep(2_000)
    t0 = Date.now()
    await broker.start()
    const crashRestartMs = Date.now() - t0
    const recovered2 = await waitAcked(beforeCrash + 100, 30_000)
    check('producer resumes after SIGKILL crash + restart', recovered2, `restart ${crashRestartMs} ms; send errors ${sendErrors}`)

    stopProducing = true
    await producing
    await producer.disconnect()
    check('no producer send gave up', sendErrors === 0, `${sendErrors} errors`)

    // The live consumer must end up with every acked message (it may also have messages
    // whose ack was lost in the outage — that is at-least-once, not a duplicate).
    const deadline = Date.now() + 30_000
    const missingLive = () => [...acked].filter((n) => !live.has(n))
    while (missingLive().length > 0 && Date.now() < deadline) await sleep(200)
    await consumer.disconnect()
    // The default-retry consumer may lag a lot: after a crash+restart it rejoins as a
    // NEW member and the group waits for the old member's session (30 s default) to
    // expire. Give it up to SMOKE_DEFAULT_CONSUMER_WAIT_MS (default 60 s) to catch up.
    const defWaitStart = Date.now()
    const defMissing = () => [...acked].filter((n) => !defSeen.has(n)).length
    const defDeadline = defWaitStart + Number(process.env.SMOKE_DEFAULT_CONSUMER_WAIT_MS ?? 60_000)
    while (defMissing() > 0 && Date.now() < defDeadline) await sleep(200)
    console.log(`  info: default-retry consumer: crashes [${defCrashes.join('; ')}]; ` +
      `missing ${defMissing()} of ${acked.size} after waiting ${Date.now() - defWaitStart} ms more than the tuned consumer`)
    await defConsumer.disconnect()
    await defProducer.disconnect()
    check('live consumer got every acked message across outage+crash', missingLive().length === 0,
      `${acked.size} acked, ${live.size} consumed, missing ${missingLive().length}`)
    check('live consumer: no message delivered twice', liveDups === 0,
      `${liveDups} redeliveries (a crash between processing and offset commit legitimately redelivers)`)

    // A fresh group reads the whole topic: data written before both restarts is intact,
    // and the idempotent producer left no duplicate records in the log.
    const all = await consumeAll(kafka, topic, acked.size)
    const vals = all.map(({ message }) => Number(message.value.toString()))
    const uniq = new Set(vals)
    const missing = [...acked].filter((n) => !uniq.has(n))
    check('fresh group re-reads everything (data intact after restarts)', missing.length === 0,
      `${acked.size} acked, ${all.length} in log, missing ${missing.length}`)
    check('no duplicate records in the log (idempotence across restarts)', uniq.size === all.length,
      `${all.length - uniq.size} duplicates`)
  } finally {
    await broker.stop()
    const top = [...errorLog].sort((a, b) => b[1] - a[1]).slice(0, 6)
    console.log(`  kafkajs ERROR log lines during part B (by message): ${top.map(([m, n]) => `${n}× ${m.slice(0, 90)}`).join(' | ')}`)
  }
}

const brokers = process.env.KAFKA_BROKERS
if (!brokers) {
  console.error('KAFKA_BROKERS is not set; run via: node scripts/kafka-broker.mjs run -- node scripts/kafka-smoke.mjs')
  process.exit(2)
}
try {
  await partA(brokers)
  if (process.env.SMOKE_SKIP_OUTAGE !== '1') await partB()
} catch (err) {
  check('smoke test threw', false, err.stack)
}
console.log(`smoke: ${results.passed} passed, ${results.failed} failed`)
process.exit(results.failed === 0 ? 0 : 1)
