// The Kafka worker thread: owns the kafkajs client (admin + idempotent producer) and turns each
// WireBatch into records, so record encoding, headers, CRC32C, murmur2 partitioning, socket
// writes and the garbage they make stay off the gateway's main thread. It holds no state that
// matters for delivery: the ring, the one-outstanding-send rule, retries, backoff, stall
// detection and every metric live in KafkaPublisher on the main thread, which drives this
// worker by RPC (kafka-transport.ts). If this thread dies, the main thread starts a new one
// and re-sends the batch that was in flight.
import { parentPort, workerData } from 'node:worker_threads'
import { Kafka, logLevel, Partitioners, type LogEntry, type Message, type TopicMessages } from 'kafkajs'
import { PredictionEncoder, type FromWorker, type ToWorker, type WireBatch, type WorkerInit } from './wire.js'

const port = parentPort
if (port === null) throw new Error('kafka-worker.ts must run in a worker thread')
const init = workerData as WorkerInit

const post = (m: FromWorker): void => { port.postMessage(m) }
const log = (level: 'info' | 'warn' | 'error', obj: Record<string, unknown>, msg: string): void => { post({ t: 'log', level, obj, msg }) }

/** kafkajs log lines go to the gateway's logger, at most one identical line per 10 s (outages are loud). */
function kafkaLogCreator (): () => (entry: LogEntry) => void {
  const last = new Map<string, number>()
  return () => ({ level, log: entry }) => {
    if (level > logLevel.WARN) return
    const key = `${entry.message}`
    const now = Date.now()
    if ((last.get(key) ?? 0) > now - 10_000) return
    last.set(key, now)
    if (last.size > 1000) last.clear()
    log('warn', { kafka: entry.message, broker: (entry as { broker?: string }).broker }, 'kafka client')
  }
}

const kafka = new Kafka({
  clientId: init.clientId,
  brokers: init.brokers,
  logLevel: logLevel.WARN,
  logCreator: kafkaLogCreator(),
  retry: { initialRetryTime: 100, maxRetryTime: 2_000, retries: 8 }
})
const producer = kafka.producer({
  idempotent: true,
  maxInFlightRequests: 1,
  allowAutoTopicCreation: false,
  createPartitioner: Partitioners.DefaultPartitioner,
  // Unbounded retries (kafkajs forces them for idempotence), but quick to notice recovery.
  retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: Number.MAX_SAFE_INTEGER }
})
const admin = kafka.admin()
const encoder = new PredictionEncoder(init)

async function ensureTopics (): Promise<void> {
  const existing = new Set(await admin.listTopics())
  const missing = init.topics.filter(t => !existing.has(t))
  if (missing.length === 0) return
  await admin.createTopics({
    waitForLeaders: true,
    topics: missing.map(topic => ({
      topic,
      numPartitions: init.partitions,
      replicationFactor: init.replicationFactor,
      // The decisions topic is a compacted log keyed by model: its latest record per model is
      // the active variant, kept forever; events age out with the broker's retention.
      configEntries: topic === init.topics[init.decisionsTopic] ? [{ name: 'cleanup.policy', value: 'compact' }] : []
    }))
  }).catch((err: Error & { type?: string }) => {
    // Another replica created them first.
    if (err.type !== 'TOPIC_ALREADY_EXISTS' && !/already exists/i.test(err.message)) throw err
  })
}

async function connect (): Promise<void> {
  await admin.connect()
  await ensureTopics()
  await producer.connect()
}

/** The records of one batch, per topic, in batch order. */
function build (b: WireBatch): TopicMessages[] {
  const byTopic: Message[][] = init.topics.map(() => [])
  for (let k = 0; k < b.n; k++) {
    const prebuilt = b.msgs === null ? null : b.msgs[k]
    ;(byTopic[b.topics[k] as number] as Message[]).push(prebuilt ?? encoder.message(b, k))
  }
  const out: TopicMessages[] = []
  for (let t = 0; t < byTopic.length; t++) if ((byTopic[t] as Message[]).length > 0) out.push({ topic: init.topics[t] as string, messages: byTopic[t] as Message[] })
  return out
}

async function send (b: WireBatch): Promise<void> {
  if (b.newLanes !== null) encoder.addLanes(b.newLanes)
  await producer.sendBatch({ topicMessages: build(b), acks: -1 })
}

async function disconnect (): Promise<void> {
  await Promise.allSettled([producer.disconnect(), admin.disconnect()])
}

port.on('message', (m: ToWorker) => {
  const p = m.t === 'send' ? send(m.batch) : m.t === 'connect' ? connect() : disconnect()
  p.then(() => { post({ t: 'done', id: m.id }) }, (err: unknown) => {
    post({ t: 'error', id: m.id, message: err instanceof Error ? err.message : String(err) })
  })
})
