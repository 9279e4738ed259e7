// tsx loadtest/profile-kafka-worker.ts — CPU per prediction event of the Kafka side alone, on a
// real broker: synthetic WireBatches (the shape KafkaPublisher posts) go through EventProducer
// (kafka-producer.ts: PredictionEncoder + kafkajs sendBatch), one send outstanding at a time as
// in the gateway. npm run bench:events tells whether the gateway is fast enough; this tells
// where the worker's CPU goes, without HTTP and inference on the same 2 cores.
//   --events N    events to send per round (default 200000)
//   --batch B     events per send (default 500, events.batch_size)
//   --rounds R    measured rounds (default 3); the machine is shared, so the minimum and the
//                 median are printed
//   --worker      through KafkaTransport and the real worker thread (adds the structured clone
//                 of each batch); CPU is that of every thread but the main one
//   --profile     (inline only, one round) sample with the V8 profiler and print self time by function;
//                 PROFILE_DIR (default /tmp/fairgate-prof) keeps the .cpuprofile
// Inline (the default), CPU is the main thread's, which does nothing else while it is measured.
// KAFKA_BROKERS reuses a running broker; else one is started for the run, with the full JIT a
// production broker has, and its CPU per event (all JVM threads) is printed too. BROKER_JVM adds
// JVM flags to it, e.g. BROKER_JVM=-XX:StartFlightRecording=filename=/tmp/broker.jfr to see
// where the broker's share goes (`jfr print --events jdk.ExecutionSample /tmp/broker.jfr`).
import { mkdirSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { startBroker } from '../scripts/kafka-broker.mjs'
import { EventProducer } from '../src/events/kafka-producer.js'
import { KafkaTransport } from '../src/events/kafka-transport.js'
import type { WireBatch, WorkerInit } from '../src/events/wire.js'
import { nextPredictionId } from '../src/prediction-id.js'
import { processCpuMs, threadCpuMs } from './lib/harness.js'
import { benchBrokerJvm } from './lib/kafka-on-off.js'
import { INCOME_LANES, wireBatch } from '../test/helpers/wire-batch.js'

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    batch: { type: 'string', default: '500' },
    rounds: { type: 'string', default: '3' },
    worker: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false }
  }
})
const EVENTS = Number(args.events)
const BATCH = Number(args.batch)
const ROUNDS = args.profile ? 1 : Number(args.rounds)
const DIR = process.env.PROFILE_DIR ?? '/tmp/fairgate-prof'

/** CPU ms of this process's main thread and of all its other threads. */
function threadCpu (): { main: number, others: number } {
  const t = threadCpuMs(process.pid)
  if (t === null) throw new Error('per-thread CPU needs Linux /proc')
  return t
}

/** A batch as KafkaPublisher.takeBatch makes it: one request per event, mostly one lane. */
function makeBatch (n: number, seq: number): WireBatch {
  const now = Date.now()
  return wireBatch(Array.from({ length: n }, (_, k) => {
    const ts = now + Math.floor(k / 20)
    const score = Math.fround(Math.random())
    return { id: nextPredictionId(ts), requestId: nextPredictionId(ts), ts, score, lane: (seq + k) % 10 === 0 ? 0 : 1, latencyMs: 1 + Math.random() * 10, queueMs: Math.random(), batchSize: 1 + (k % 32), groups: [k % 2, k % 7 === 0 ? -1 : k % 5] }
  }), seq === 0 ? INCOME_LANES : null)
}

const external = process.env.KAFKA_BROKERS
const broker = external === undefined || external === '' ? await startBroker({ quiet: true, jvmArgs: benchBrokerJvm(process.env.BROKER_JVM) }) : null
const prefix = `prof${Date.now()}.`
const init: WorkerInit = {
  clientId: 'fairgate-profile',
  brokers: [broker?.brokers ?? external!],
  topics: [`${prefix}predictions`, `${prefix}feedback`, `${prefix}decisions`],
  partitions: 3,
  replicationFactor: -1,
  decisionsTopic: 2,
  replica: 'profile-1',
  includeGroups: true,
  includeFeatures: false
}
const log = (level: string, obj: unknown, msg?: string): void => { console.error(level, JSON.stringify(obj), msg ?? '') }

let send: (b: WireBatch) => Promise<void>
let close: () => Promise<void>
if (args.worker) {
  const transport = new KafkaTransport(init, INCOME_LANES, { info: () => {}, warn: log.bind(null, 'warn'), error: log.bind(null, 'error') }, (err) => { throw err })
  await transport.connect()
  send = async (b) => { b.newLanes = null; await transport.send(b) }
  close = async () => { await transport.close(5_000) }
} else {
  const producer = new EventProducer(init, log)
  await producer.connect()
  send = async (b) => { await producer.send(b) }
  close = async () => { await producer.disconnect() }
}

try {
  // Warm-up: JIT, metadata, producer id.
  for (let i = 0; i < 40; i++) await send(makeBatch(BATCH, i))
  const session = args.profile && !args.worker ? new Session() : null
  const perEvent: number[] = []
  for (let r = 0; r < ROUNDS; r++) {
    // Made before the round, so that making them is not measured.
    const batches: WireBatch[] = []
    for (let sent = 0; sent < EVENTS; sent += BATCH) batches.push(makeBatch(Math.min(BATCH, EVENTS - sent), batches.length + 1))
    if (session !== null) {
      session.connect()
      await session.post('Profiler.enable')
      await session.post('Profiler.setSamplingInterval', { interval: 100 })
      await session.post('Profiler.start')
    }
    const cpu0 = threadCpu()
    const broker0 = processCpuMs(broker?.pid)
    const usage0 = process.cpuUsage()
    const t0 = performance.now()
    for (const b of batches) await send(b)
    const wallMs = performance.now() - t0
    const usage = process.cpuUsage(usage0)
    const cpu1 = threadCpu()
    const broker1 = processCpuMs(broker?.pid)
    const brokerUs = broker0 === null || broker1 === null ? NaN : (broker1 - broker0) * 1000 / EVENTS
    const thread = (args.worker ? cpu1.others - cpu0.others : cpu1.main - cpu0.main) * 1000 / EVENTS
    perEvent.push(thread)
    console.log(`round ${r + 1}: ${(EVENTS / wallMs * 1000).toFixed(0)} events/s; cpu/event ${args.worker ? 'non-main threads' : 'main thread'} ${thread.toFixed(1)} µs, whole process ${((usage.user + usage.system) / EVENTS).toFixed(1)} µs (user ${(usage.user / EVENTS).toFixed(1)}, system ${(usage.system / EVENTS).toFixed(1)})${Number.isNaN(brokerUs) ? '' : `; broker ${brokerUs.toFixed(1)} µs`}`)
  }
  perEvent.sort((a, b) => a - b)
  console.log(`${args.worker ? 'worker' : 'inline'}, batches of ${BATCH}: cpu/event (${args.worker ? 'non-main threads' : 'main thread'}) min ${perEvent[0]!.toFixed(1)} µs, median ${perEvent[Math.floor(perEvent.length / 2)]!.toFixed(1)} µs over ${ROUNDS} rounds of ${EVENTS} events`)
  if (session !== null) {
    const { profile } = await session.post('Profiler.stop')
    session.disconnect()
    mkdirSync(DIR, { recursive: true })
    const file = join(DIR, `kafka-worker-${Date.now()}.cpuprofile`)
    writeFileSync(file, JSON.stringify(profile))
    printSelfTime(profile, EVENTS)
    console.log(`profile: ${file}`)
  }
} finally {
  await close()
  await broker?.stop()
}

/** The top functions by self time, in µs per event. */
function printSelfTime (p: { nodes: Array<{ id: number, callFrame: { functionName: string, url: string, lineNumber: number } }>, samples?: number[], timeDeltas?: number[] }, events: number): void {
  const byId = new Map(p.nodes.map(n => [n.id, n.callFrame]))
  const self = new Map<string, number>()
  let total = 0
  ;(p.samples ?? []).forEach((id, i) => {
    const f = byId.get(id)!
    const where = f.url === '' ? '' : ` ${f.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/main\//, '')}:${f.lineNumber + 1}`
    const key = `${f.functionName === '' ? '(anonymous)' : f.functionName}${where}`
    const dt = p.timeDeltas?.[i] ?? 0
    if (f.functionName !== '(idle)') total += dt
    self.set(key, (self.get(key) ?? 0) + dt)
  })
  console.log(`\nsampled busy time ${(total / events).toFixed(1)} µs/event; top self time (µs/event):`)
  for (const [k, v] of [...self].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`${(v / events).toFixed(2).padStart(7)}  ${k}`)
}
