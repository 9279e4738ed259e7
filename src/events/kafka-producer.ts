// The kafkajs client of the event stream (admin + idempotent producer) and the step from a
// WireBatch to producer records. It runs in the Kafka worker thread (kafka-worker.ts is only the
// RPC around it); it is a class of its own so that loadtest/profile-kafka-worker.ts can drive the
// very same code on its own thread and measure its CPU per event.
import type { LogEntry, Message, TopicMessages } from 'kafkajs'
import { fastPath, kafkajs, requestQueueFix } from './kafkajs-fast-path.js'
import { Murmur2Partitioner } from './kafka-partitioning.js'
import { PredictionEncoder, type WireBatch, type WorkerInit } from './wire.js'

const { Kafka, logLevel } = kafkajs

export type ProducerLog = (level: 'info' | 'warn' | 'error', obj: Record<string, unknown>, msg: string) => void

/** kafkajs log lines go to the gateway's logger, at most one identical line per 10 s (outages are loud). */
function kafkaLogCreator (log: ProducerLog): () => (entry: LogEntry) => void {
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

export class EventProducer {
  private readonly admin
  private readonly producer
  private readonly encoder: PredictionEncoder

  constructor (private readonly init: WorkerInit, log: ProducerLog) {
    const kafka = new Kafka({
      clientId: init.clientId,
      brokers: init.brokers,
      logLevel: logLevel.WARN,
      logCreator: kafkaLogCreator(log),
      retry: { initialRetryTime: 100, maxRetryTime: 2_000, retries: 8 }
    })
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // kafkajs' DefaultPartitioner's choices, computed cheaper (kafka-partitioning.ts).
      createPartitioner: Murmur2Partitioner,
      // Unbounded retries (kafkajs forces them for idempotence), but quick to notice recovery.
      retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: Number.MAX_SAFE_INTEGER }
    })
    this.admin = kafka.admin()
    this.encoder = new PredictionEncoder(init)
    if (!fastPath.active) log('warn', { reason: fastPath.reason }, 'kafka producer runs kafkajs without the fast path: more CPU per event')
    if (!requestQueueFix.active) log('warn', { reason: requestQueueFix.reason }, 'kafka producer runs kafkajs with its idle timer loop: CPU spent while idle')
  }

  private async ensureTopics (): Promise<void> {
    const init = this.init
    const existing = new Set(await this.admin.listTopics())
    const missing = init.topics.filter(t => !existing.has(t))
    if (missing.length === 0) return
    await this.admin.createTopics({
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

  async connect (): Promise<void> {
    await this.admin.connect()
    await this.ensureTopics()
    await this.producer.connect()
  }

  /** The records of one batch, per topic, in batch order. */
  build (b: WireBatch): TopicMessages[] {
    if (b.newLanes !== null) this.encoder.addLanes(b.newLanes)
    const topics = this.init.topics
    const byTopic: Message[][] = topics.map(() => [])
    for (let k = 0; k < b.n; k++) {
      const prebuilt = b.msgs === null ? null : b.msgs[k]
      ;(byTopic[b.topics[k] as number] as Message[]).push(prebuilt ?? this.encoder.message(b, k))
    }
    const out: TopicMessages[] = []
    for (let t = 0; t < byTopic.length; t++) if ((byTopic[t] as Message[]).length > 0) out.push({ topic: topics[t] as string, messages: byTopic[t] as Message[] })
    return out
  }

  async send (b: WireBatch): Promise<void> {
    await this.producer.sendBatch({ topicMessages: this.build(b), acks: -1 })
  }

  async disconnect (): Promise<void> {
    await Promise.allSettled([this.producer.disconnect(), this.admin.disconnect()])
  }
}
