// npm run bench:shard — the sharded monitor's consumer path against the real broker
// (node scripts/kafka-broker.mjs run -- npm run bench:shard):
//  1. CPU per prediction event of each stage, from a topic filled beforehand: kafkajs' fetch and
//     record decoding alone (eachBatch that does nothing), + JSON.parse of every value, and the
//     whole shard path (fetch → decode → feed → window update). process.cpuUsage (user + system,
//     every thread) per event, so a machine shared with others does not skew it as wall rates do.
//  2. End-to-end lag under a steady 20,000 events/s: from a prediction's send to its count in the
//     merged report of a shard (summaries every monitor.summary_interval_ms).
import { randomBytes } from 'node:crypto'
import { Kafka, logLevel, type Producer } from 'kafkajs'
import { createShardedMonitor } from '../src/create-monitor-shard.js'
import { validateConfig } from '../src/config/index.js'
import { nextPredictionId } from '../src/prediction-id.js'

const brokers = process.env.KAFKA_BROKERS ?? ''
if (brokers === '') { console.error('KAFKA_BROKERS is not set: run through node scripts/kafka-broker.mjs run -- npm run bench:shard'); process.exit(2) }
const N = Number(process.env.BENCH_EVENTS ?? 200_000)
const RATE = Number(process.env.BENCH_RATE ?? 20_000)
const PARTITIONS = 6
const silent = { info () {}, warn () {}, error () {} }
const SEX = ['Female', 'Male']
const RACE = ['Amer-Indian-Eskimo', 'Asian-Pac-Islander', 'Black', 'Other', 'White']

/** One prediction event as the gateway's PredictionEncoder writes it (value and CloudEvents headers). */
function event (i: number): { key: string, value: string, headers: Record<string, string>, timestamp: string } {
  const id = nextPredictionId()
  const ts = Date.now()
  const score = ((i * 2654435761) % 1000) / 1000
  const value = `{"id":"${id}","request_id":"${id}","ts":${ts},"model":"income","variant":"${['full', 'distilled', 'fair'][i % 3]}","score":${score},"decision":${score >= 0.5 ? 1 : 0},"threshold":0.5,"latency_ms":${(i % 97) / 10},"queue_ms":0.1,"batch_size":8,"request_rows":1,"replica":"bench","groups":{"sex":"${SEX[i % 2]}","race":"${RACE[i % 5]}"}}`
  return { key: id, value, headers: { ce_specversion: '1.0', ce_id: id, ce_type: 'io.fairgate.prediction.v1', ce_source: 'fairgate/bench', ce_time: new Date(ts).toISOString(), 'content-type': 'application/json' }, timestamp: String(ts) }
}

async function fill (producer: Producer, topic: string, n: number, from = 0): Promise<void> {
  for (let i = 0; i < n; i += 2000) await producer.send({ topic, messages: Array.from({ length: Math.min(2000, n - i) }, (_, k) => event(from + i + k)) })
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
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: `${prefix}predictions`, numPartitions: PARTITIONS }, { topic: `${prefix}feedback`, numPartitions: PARTITIONS }, { topic: `${prefix}decisions`, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] })
  await admin.disconnect()
  const producer = kafka.producer()
  await producer.connect()
  console.log(`filling ${prefix}predictions with ${N} prediction events (${PARTITIONS} partitions)…`)
  await fill(producer, `${prefix}predictions`, N)

  const topic = `${prefix}predictions`
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
  const fetchOnly: number[] = []
  const parse: number[] = []
  const shard: number[] = []
  const config = validateConfig({ kafka: { brokers: [brokers], topic_prefix: prefix }, models: { dir: 'models' }, policy: { evaluate: false }, monitor: { sharded: true, intersections: [['sex', 'race']] }, replica: 'bench' })
  for (let r = 0; r < rounds; r++) {
    fetchOnly.push(await stage(kafka, topic, N, () => {}))
    let sink = 0
    parse.push(await stage(kafka, topic, N, v => { sink += (JSON.parse(v.toString()) as { ts: number }).ts & 1 }))
    if (sink < 0) console.log(sink)
    // The whole path: a shard that owns every partition rebuilds them from the log.
    const c0 = process.cpuUsage()
    const svc = createShardedMonitor({ ...config, monitor: { ...config.monitor, summary_interval_ms: 60_000 } }, { log: silent })
    const started = svc.start()
    for (;;) {
      const s = svc.status() as { predictions: number }
      if (s.predictions >= N) break
      await new Promise(resolve => setTimeout(resolve, 20))
    }
    shard.push(cpuUs(process.cpuUsage(c0)) / N)
    await started
    await svc.stop()
  }
  const med = (xs: number[]): string => { const s = [...xs].sort((a, b) => a - b); return `${s[Math.floor(s.length / 2)]!.toFixed(2)} µs (${s[0]!.toFixed(2)}–${s[s.length - 1]!.toFixed(2)})` }
  const perCore = (xs: number[]): string => { const s = [...xs].sort((a, b) => a - b); return `${Math.round(1e6 / s[Math.floor(s.length / 2)]!).toLocaleString('en')} events/s per core` }
  console.log(`CPU per prediction event, median of ${rounds} reads of ${N} events (range):`)
  console.log(`  kafkajs fetch + record decode:          ${med(fetchOnly)}  → ${perCore(fetchOnly)}`)
  console.log(`  + JSON.parse of the value:               ${med(parse)}  → ${perCore(parse)}`)
  console.log(`  shard path (fetch → decode → window):    ${med(shard)}  → ${perCore(shard)}`)

  // 2. Lag under a steady RATE: two shards, summaries every second (the default).
  const lagPrefix = `benchlag${randomBytes(3).toString('hex')}.`
  const lagConfig = validateConfig({ ...config, kafka: { brokers: [brokers], topic_prefix: lagPrefix }, monitor: { ...config.monitor, summary_interval_ms: 1_000, refresh_ms: 0 } })
  const admin2 = kafka.admin()
  await admin2.connect()
  await admin2.createTopics({ waitForLeaders: true, topics: [{ topic: `${lagPrefix}predictions`, numPartitions: PARTITIONS }, { topic: `${lagPrefix}feedback`, numPartitions: PARTITIONS }, { topic: `${lagPrefix}decisions`, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] })
  await admin2.disconnect()
  const shards = [createShardedMonitor({ ...lagConfig, replica: 'a' }, { log: silent }), createShardedMonitor({ ...lagConfig, replica: 'b' }, { log: silent })]
  await Promise.all(shards.map(s => s.start()))
  const seconds = Number(process.env.BENCH_SECONDS ?? 20)
  const sentAt: Array<[number, number]> = [] // [time, total sent]
  let sent = 0
  const tick = 50
  const perTick = Math.round(RATE * tick / 1000)
  const t0 = Date.now()
  const lags: number[] = []
  const sampler = setInterval(() => {
    const r = shards[0]!.monitor.report('income')
    const counted = Object.values(r?.variants ?? {}).reduce((s, v) => s + v.n, 0)
    const now = Date.now()
    // The first send after which the sent total reached what the report counts.
    const hit = sentAt.find(([, total]) => total >= counted)
    if (hit !== undefined && counted > 0 && now - t0 > 3_000) lags.push(now - hit[0])
  }, 100)
  const lagCpu0 = process.cpuUsage()
  while (Date.now() - t0 < seconds * 1000) {
    const due = t0 + (sentAt.length + 1) * tick
    await fill(producer, `${lagPrefix}predictions`, perTick, sent)
    sent += perTick
    sentAt.push([Date.now(), sent])
    const wait = due - Date.now()
    if (wait > 0) await new Promise(resolve => setTimeout(resolve, wait))
  }
  const lagCpu = cpuUs(process.cpuUsage(lagCpu0))
  await new Promise(resolve => setTimeout(resolve, 3_000))
  clearInterval(sampler)
  const achieved = sent / ((sentAt[sentAt.length - 1]![0] - t0) / 1000)
  lags.sort((a, b) => a - b)
  const q = (p: number): number => lags[Math.min(lags.length - 1, Math.floor(p * lags.length))]!
  console.log(`end-to-end lag, send → count in the merged report, at ${Math.round(achieved).toLocaleString('en')} events/s for ${seconds} s (2 shards, summaries every 1 s): median ${q(0.5)} ms, p95 ${q(0.95)} ms, max ${lags[lags.length - 1]} ms (${lags.length} samples)`)
  console.log(`  CPU of this process meanwhile (producer + 2 shards): ${(lagCpu / sent).toFixed(2)} µs per event`)
  await Promise.all(shards.map(s => s.stop()))
  await producer.disconnect()
}

await main()
process.exit(0)
