// npm run bench:shard — the sharded monitor's consumer path against the real broker
// (node scripts/kafka-broker.mjs run -- npm run bench:shard):
//  1. CPU per prediction event of each stage, from a topic filled beforehand: kafkajs' fetch and
//     record decoding alone (eachBatch that does nothing), + JSON.parse of every value, and the
//     whole shard path (fetch → decode → feed → window update). process.cpuUsage (user + system,
//     every thread) per event, so a machine shared with others does not skew it as wall rates do.
//  2. End-to-end lag under a steady BENCH_RATE (20,000) events/s for BENCH_SECONDS (20): from a
//     prediction's due time to its count in the merged report of a shard (2 shards, summaries
//     every second), with the producer in its own process (lib/paced-producer.ts, open loop); it
//     prints the rate achieved, the rate consumed, and whether every event reached the report.
// BENCH_ONLY=cpu or lag runs one part; BENCH_EVENTS, BENCH_ROUNDS size part 1; BENCH_PROFILE=dir
// profiles part 1's last shard path read.
import { randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { createShardedMonitor, type ShardedMonitorService } from '../src/create-monitor-shard.js'
import { validateConfig } from '../src/config/index.js'
import { recordDecoder } from '../src/events/kafkajs-record-decoder.js'
import { printProfile } from './lib/cpu-profile.js'
import { quantile } from './lib/open-loop.js'
import { startPacedProducer } from './lib/paced-producer.js'

const brokers = process.env.KAFKA_BROKERS ?? ''
if (brokers === '') { console.error('KAFKA_BROKERS is not set: run through node scripts/kafka-broker.mjs run -- npm run bench:shard'); process.exit(2) }
const N = Number(process.env.BENCH_EVENTS ?? 200_000)
const RATE = Number(process.env.BENCH_RATE ?? 20_000)
const PARTITIONS = 6
/** BENCH_PROFILE=<empty dir>: sample the last shard path read with the V8 profiler and print its self time. */
const PROFILE_DIR = process.env.BENCH_PROFILE ?? ''
const silent = { info () {}, warn () {}, error () {} }

/** Fills `topic` with n prediction events as the gateway writes them, from the paced producer's process. */
async function fill (topic: string, n: number): Promise<void> {
  const done = await startPacedProducer({ brokers: [brokers], topic, partitions: PARTITIONS, rate: 0, count: n, tickMs: 0 }).done
  if (done.acked !== n) throw new Error(`filling ${topic}: ${done.acked} of ${n} events acked`)
}

/**
 * The event topics of one run. A broker just started may answer the leader wait with
 * UNKNOWN_TOPIC_OR_PARTITION (retriable) while it sets the new partitions up: try again.
 */
async function createTopics (kafka: Kafka, prefix: string): Promise<void> {
  const admin = kafka.admin()
  await admin.connect()
  for (let attempt = 1; ; attempt++) {
    try {
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic: `${prefix}predictions`, numPartitions: PARTITIONS }, { topic: `${prefix}feedback`, numPartitions: PARTITIONS }, { topic: `${prefix}decisions`, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] })
      break
    } catch (err) {
      if ((err as { retriable?: boolean }).retriable !== true || attempt === 5) throw err
      await new Promise(resolve => setTimeout(resolve, 500))
    }
  }
  await admin.disconnect()
}

const cpuUs = (c: NodeJS.CpuUsage): number => c.user + c.system

/** CPU µs per event of reading the topic whole with a plain consumer doing `work` per message. */
async function stage (kafka: Kafka, topic: string, n: number, work: (v: Buffer) => void): Promise<number> {
  const consumer = kafka.consumer({ groupId: `bench-${randomBytes(4).toString('hex')}`, maxWaitTimeInMs: 100 })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  let seen = 0
  let c0: NodeJS.CpuUsage | null = null
  let done: () => void = () => {}
  const finished = new Promise<void>(resolve => { done = resolve })
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      c0 ??= process.cpuUsage()
      for (const m of batch.messages) work(m.value!)
      seen += batch.messages.length
      if (seen >= n) done()
    }
  })
  await finished
  const us = cpuUs(process.cpuUsage(c0!))
  await consumer.disconnect()
  return us / n
}

async function main (): Promise<void> {
  const prefix = `bench${randomBytes(3).toString('hex')}.`
  const kafka = new Kafka({ clientId: 'bench-shard', brokers: [brokers], logLevel: logLevel.NOTHING })
  await createTopics(kafka, prefix)
  const only = process.env.BENCH_ONLY ?? ''
  const topic = `${prefix}predictions`
  const config = validateConfig({ kafka: { brokers: [brokers], topic_prefix: prefix }, models: { dir: 'models' }, policy: { evaluate: false }, monitor: { sharded: true, intersections: [['sex', 'race']] }, replica: 'bench' })
  console.log(`load average ${loadavg().map(l => l.toFixed(2)).join(' ')}; kafkajs record decoder ${recordDecoder.active ? 'replaced' : `as shipped (${recordDecoder.reason})`}`)
  if (only !== 'lag') await cpuPerEvent(kafka, topic, prefix, config)
  if (only !== 'cpu') await lagUnderRate(kafka, config)
}

/** 1. CPU per event of each stage, reading a topic filled beforehand. */
async function cpuPerEvent (kafka: Kafka, topic: string, prefix: string, config: ReturnType<typeof validateConfig>): Promise<void> {
  console.log(`filling ${prefix}predictions with ${N} prediction events (${PARTITIONS} partitions)…`)
  await fill(topic, N)
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
  const fetchOnly: number[] = []
  const parse: number[] = []
  const shard: number[] = []
  for (let r = 0; r < rounds; r++) {
    fetchOnly.push(await stage(kafka, topic, N, () => {}))
    let sink = 0
    parse.push(await stage(kafka, topic, N, v => { sink += (JSON.parse(v.toString()) as { ts: number }).ts & 1 }))
    if (sink < 0) console.log(sink)
    // The whole path: a shard that owns every partition rebuilds them from the log.
    const profiling = PROFILE_DIR !== '' && r === rounds - 1 ? new Session() : null
    if (profiling !== null) {
      profiling.connect()
      await profiling.post('Profiler.enable')
      await profiling.post('Profiler.setSamplingInterval', { interval: 100 })
      await profiling.post('Profiler.start')
    }
    const c0 = process.cpuUsage()
    const svc = createShardedMonitor({ ...config, monitor: { ...config.monitor, summary_interval_ms: 60_000 } }, { log: silent })
    const started = svc.start()
    for (;;) {
      const s = svc.status() as { predictions: number }
      if (s.predictions >= N) break
      await new Promise(resolve => setTimeout(resolve, 20))
    }
    shard.push(cpuUs(process.cpuUsage(c0)) / N)
    if (profiling !== null) {
      const { profile } = await profiling.post('Profiler.stop')
      profiling.disconnect()
      mkdirSync(PROFILE_DIR, { recursive: true })
      writeFileSync(join(PROFILE_DIR, `bench-shard-${Date.now()}.cpuprofile`), JSON.stringify(profile))
    }
    await started
    await svc.stop()
  }
  const med = (xs: number[]): string => { const s = [...xs].sort((a, b) => a - b); return `${s[Math.floor(s.length / 2)]!.toFixed(2)} µs (${s[0]!.toFixed(2)}–${s[s.length - 1]!.toFixed(2)})` }
  const perCore = (xs: number[]): string => { const s = [...xs].sort((a, b) => a - b); return `${Math.round(1e6 / s[Math.floor(s.length / 2)]!).toLocaleString('en')} events/s per core` }
  console.log(`CPU per prediction event, median of ${rounds} reads of ${N} events (range):`)
  console.log(`  kafkajs fetch + record decode:          ${med(fetchOnly)}  → ${perCore(fetchOnly)}`)
  console.log(`  + JSON.parse of the value:               ${med(parse)}  → ${perCore(parse)}`)
  console.log(`  shard path (fetch → decode → window):    ${med(shard)}  → ${perCore(shard)}`)
  if (PROFILE_DIR !== '') {
    console.log(`self time of the last shard path read, µs per event (${PROFILE_DIR}):`)
    printProfile(PROFILE_DIR, N, 20)
  }
}

/** What the merged report of one shard counts: predictions of every variant in the window. */
function counted (svc: ShardedMonitorService): number {
  const r = svc.monitor.report('income')
  return Object.values(r?.variants ?? {}).reduce((s, v) => s + v.n, 0)
}

/** Predictions the shards have read (each its own partitions). */
function consumed (shards: ShardedMonitorService[]): number {
  return shards.reduce((s, svc) => s + (svc.status() as { predictions: number }).predictions, 0)
}

/**
 * 2. End-to-end lag under a steady RATE: two shards in this process (summaries every 1 s, the
 * default), the producer in its own (lib/paced-producer.ts). Event i is due at t0 + i / RATE;
 * when the merged report counts c events, it is behind the offered stream by now − due(c): that
 * is the lag, and it includes any backlog of the producer (open loop), so a producer that falls
 * behind shows as lag, and its achieved rate is printed next to it.
 */
async function lagUnderRate (kafka: Kafka, config: ReturnType<typeof validateConfig>): Promise<void> {
  const lagPrefix = `benchlag${randomBytes(3).toString('hex')}.`
  const lagConfig = validateConfig({ ...config, kafka: { brokers: [brokers], topic_prefix: lagPrefix }, monitor: { ...config.monitor, summary_interval_ms: 1_000, refresh_ms: 0 } })
  await createTopics(kafka, lagPrefix)
  const shards = [createShardedMonitor({ ...lagConfig, replica: 'a' }, { log: silent }), createShardedMonitor({ ...lagConfig, replica: 'b' }, { log: silent })]
  await Promise.all(shards.map(s => s.start()))
  // Both shards own their partitions before the first event is due.
  while (shards.some(s => s.owned().length === 0) || shards.reduce((n, s) => n + s.owned().length, 0) < PARTITIONS) await new Promise(resolve => setTimeout(resolve, 50))
  const seconds = Number(process.env.BENCH_SECONDS ?? 20)
  const tickMs = Number(process.env.BENCH_TICK_MS ?? 20)
  const warmMs = 3_000
  const producer = startPacedProducer({ brokers: [brokers], topic: `${lagPrefix}predictions`, partitions: PARTITIONS, rate: RATE, count: Math.round(RATE * seconds), tickMs })
  const t0 = await producer.started
  const lags: number[] = []
  interface Sample { at: number, acked: number, consumed: number, cpu: NodeJS.CpuUsage }
  let first: Sample | null = null
  let last: Sample | null = null
  const sampler = setInterval(() => {
    const now = Date.now()
    if (now - t0 < warmMs || now - t0 > seconds * 1000) return
    lags.push(now - (t0 + counted(shards[0]!) * 1000 / RATE))
    last = { at: now, acked: producer.acked(), consumed: consumed(shards), cpu: process.cpuUsage() }
    first ??= last
  }, 100)
  const done = await producer.done
  clearInterval(sampler)
  // No loss: every acked event reaches the merged report (the last summaries within a few intervals).
  const deadline = Date.now() + 30_000
  while (counted(shards[0]!) < done.acked && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 100))
  const merged = counted(shards[0]!)
  const read = consumed(shards)
  await Promise.all(shards.map(s => s.stop()))

  const achieved = done.acked / ((done.end - t0) / 1000)
  const s0 = first as Sample | null
  const s1 = last as Sample | null
  lags.sort((a, b) => a - b)
  const q = (p: number): number => quantile(lags, p)
  console.log(`steady ${RATE.toLocaleString('en')} events/s offered for ${seconds} s (open loop, a batch every ${tickMs} ms, producer in its own process${done.fastPath ? ', fast-path encoder' : ''}):`)
  console.log(`  sent:     ${done.acked.toLocaleString('en')} acked in ${((done.end - t0) / 1000).toFixed(2)} s = ${Math.round(achieved).toLocaleString('en')} events/s${done.failed > 0 ? `, ${done.failed} failed` : ''}; producer backlog at most ${done.maxBacklog} events; producer CPU ${(done.cpuUs / Math.max(1, done.acked)).toFixed(2)} µs per event`)
  for (const e of done.errors) console.log(`  send failed: ${e}`)
  if (s0 !== null && s1 !== null && s1.at > s0.at) {
    const per = (a: number, b: number): number => Math.round((b - a) * 1000 / (s1.at - s0.at))
    const sentRate = per(s0.acked, s1.acked)
    const n = s1.consumed - s0.consumed
    console.log(`  after the ${warmMs / 1000} s warm-up: sent ${sentRate.toLocaleString('en')} events/s, consumed ${per(s0.consumed, s1.consumed).toLocaleString('en')} events/s by the 2 shards; shards' process CPU ${((cpuUs(s1.cpu) - cpuUs(s0.cpu)) / Math.max(1, n)).toFixed(2)} µs per event`)
    if (Math.min(sentRate, achieved) < RATE * 0.98) console.log(`  SHORT: the producer sustained ${Math.round(Math.min(sentRate, achieved)).toLocaleString('en')} of the ${RATE.toLocaleString('en')} events/s asked; the lag below is at that rate`)
  }
  console.log(`  lag, send → count in the merged report (summaries every 1 s): median ${Math.round(q(0.5))} ms, p95 ${Math.round(q(0.95))} ms, max ${Math.round(q(1))} ms (${lags.length} samples, every 100 ms after the warm-up)`)
  console.log(`  counts: ${done.acked.toLocaleString('en')} acked, ${read.toLocaleString('en')} read by the shards, ${merged.toLocaleString('en')} in the merged report${merged === done.acked && read === done.acked ? ' — none lost' : ' — MISMATCH'}`)
  console.log(`load average ${loadavg().map(l => l.toFixed(2)).join(' ')}`)
}

await main()
process.exit(0)
