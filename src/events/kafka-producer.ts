// The kafkajs client of the event stream (admin + idempotent producer) and the step from a
// WireBatch to producer records. It runs in the Kafka worker thread (kafka-worker.ts is only the
// RPC around it); it is a class of its own so that loadtest/profile-kafka-worker.ts can drive the
// very same code on its own thread and measure its CPU per event.
import type { LogEntry, Message, TopicMessages } from 'kafkajs'
import { fastPath, kafkajs, requestQueueFix } from './kafkajs-fast-path.js'
import { Murmur2Partitioner } from './kafka-partitioning.js'
import { PredictionRecords } from './prediction-records.js'
import { EncodedRecord } from './produce-request.js'
import { PredictionEncoder, type ContentRefusal, type LaneDef, type WireBatch, type WorkerInit } from './wire.js'

const { Kafka, logLevel, ConfigResourceTypes } = kafkajs

/** The broker's default message.max.bytes, used until (or unless) the topics' own limit is read. */
const DEFAULT_MAX_MESSAGE_BYTES = 1_048_588
/** Bytes a record batch (61) and a record add around key, value and headers (over-estimates). */
const BATCH_OVERHEAD = 72
const RECORD_OVERHEAD = 32
/**
 * Broker refusals of a batch's content: re-sending the same bytes can never succeed, so the
 * publisher splits the batch instead of retrying it.
 */
const CONTENT_ERRORS = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD'])

/** A send refused for what it carries (checked here, or by the broker); never retried as is. */
export class ContentError extends Error {
  constructor (message: string, readonly refusal: ContentRefusal) { super(message) }
}

function protocolType (err: unknown): string | undefined {
  const e = err as { type?: string, cause?: { type?: string } } | null
  return e?.type ?? e?.cause?.type
}

/** Encoded size of one record, in bytes (UTF-8). */
function recordBytes (m: Message): number {
  if (m instanceof EncodedRecord) return RECORD_OVERHEAD + m.end - m.start
  let n = RECORD_OVERHEAD + Buffer.byteLength(m.key as string) + Buffer.byteLength(m.value as string)
  const h = m.headers
  if (h !== undefined) for (const k in h) n += Buffer.byteLength(k) + Buffer.byteLength(h[k] as string) + 8
  return n
}

/** What writes a batch's prediction events as kafkajs messages (PredictionRecords or PredictionEncoder). */
interface PredictionMessages {
  addLanes: (defs: LaneDef[]) => void
  begin: (events: number) => void
  message: (b: WireBatch, k: number) => Message
}

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
  private readonly kafka
  private producer
  /** A replaced producer that could not connect yet (the next send connects it first). */
  private producerDown = false
  /** Pre-encoded records when the fast path, which alone can write them, is in; else strings. */
  private readonly predictions: PredictionMessages
  /** The smallest max.message.bytes of our topics: no record batch may be larger. */
  maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES

  constructor (private readonly init: WorkerInit, log: ProducerLog) {
    const kafka = new Kafka({
      clientId: init.clientId,
      brokers: init.brokers,
      logLevel: logLevel.WARN,
      logCreator: kafkaLogCreator(log),
      retry: { initialRetryTime: 100, maxRetryTime: 2_000, retries: 8 }
    })
    this.kafka = kafka
    this.producer = this.newProducer()
    this.admin = kafka.admin()
    this.predictions = fastPath.active ? new PredictionRecords(init) : new PredictionEncoder(init)
    if (!fastPath.active) log('warn', { reason: fastPath.reason }, 'kafka producer runs kafkajs without the fast path: more CPU per event')
    if (!requestQueueFix.active) log('warn', { reason: requestQueueFix.reason }, 'kafka producer runs kafkajs with its idle timer loop: CPU spent while idle')
  }

  private newProducer (): ReturnType<InstanceType<typeof Kafka>['producer']> {
    return this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // kafkajs' DefaultPartitioner's choices, computed cheaper (kafka-partitioning.ts).
      createPartitioner: Murmur2Partitioner,
      // Unbounded retries (kafkajs forces them for idempotence), but quick to notice recovery.
      retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: Number.MAX_SAFE_INTEGER }
    })
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
    this.maxMessageBytes = await this.readMessageLimit()
  }

  /** The topics' max.message.bytes (the broker default if they cannot be described). */
  private async readMessageLimit (): Promise<number> {
    try {
      const r = await this.admin.describeConfigs({
        includeSynonyms: false,
        resources: this.init.topics.map(name => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['max.message.bytes'] }))
      })
      let min = Infinity
      for (const res of r.resources) {
        for (const e of res.configEntries) if (e.configName === 'max.message.bytes') min = Math.min(min, Number(e.configValue))
      }
      return Number.isFinite(min) && min > BATCH_OVERHEAD ? min : DEFAULT_MAX_MESSAGE_BYTES
    } catch {
      return DEFAULT_MAX_MESSAGE_BYTES
    }
  }

  /**
   * Refuses, before anything is sent, a batch the broker would refuse for its size: the events
   * that cannot fit in any record batch, or (none such) that the whole batch is too large. A
   * partition's record batch is at most the whole send, so a send within the limit fits. The
   * cheap bound (3 bytes per UTF-16 unit) spares the exact count in the usual case.
   */
  private checkSize (out: TopicMessages[], n: number): void {
    const limit = this.maxMessageBytes - BATCH_OVERHEAD
    let bound = 0
    for (const tm of out) for (const m of tm.messages) bound += m instanceof EncodedRecord ? recordBytes(m) : 3 * ((m.key as string).length + (m.value as string).length + 256)
    if (bound <= limit) return
    const oversized: number[] = []
    let total = 0
    let k = 0
    const sizes = new Map<Message, number>()
    for (const tm of out) for (const m of tm.messages) sizes.set(m, recordBytes(m))
    // Event indices in batch order: build() keeps each topic's events in batch order.
    for (const m of this.order) {
      const bytes = sizes.get(m) as number
      if (bytes > limit) oversized.push(k)
      else total += bytes
      k++
    }
    if (oversized.length > 0 || total > limit) {
      throw new ContentError(`batch of ${n} events exceeds max.message.bytes ${this.maxMessageBytes}`, { oversized, limit: this.maxMessageBytes })
    }
  }

  /** The records of the last batch built, in batch order. */
  private readonly order: Message[] = []

  /** The records of one batch, per topic, in batch order. */
  build (b: WireBatch): TopicMessages[] {
    const predictions = this.predictions
    if (b.newLanes !== null) predictions.addLanes(b.newLanes)
    predictions.begin(b.n)
    const topics = this.init.topics
    const byTopic: Message[][] = topics.map(() => [])
    const order = this.order
    order.length = 0
    for (let k = 0; k < b.n; k++) {
      const prebuilt = b.msgs === null ? null : b.msgs[k]
      const m = prebuilt ?? predictions.message(b, k)
      ;(byTopic[b.topics[k] as number] as Message[]).push(m)
      order.push(m)
    }
    const out: TopicMessages[] = []
    for (let t = 0; t < byTopic.length; t++) if ((byTopic[t] as Message[]).length > 0) out.push({ topic: topics[t] as string, messages: byTopic[t] as Message[] })
    return out
  }

  async send (b: WireBatch): Promise<void> {
    const topicMessages = this.build(b)
    this.checkSize(topicMessages, b.n)
    if (this.producerDown) {
      await this.producer.connect()
      this.producerDown = false
    }
    try {
      await this.producer.sendBatch({ topicMessages, acks: -1 })
    } catch (err) {
      const type = protocolType(err)
      if (type === undefined || !CONTENT_ERRORS.has(type)) throw err
      // The broker may have appended the partitions it did not refuse, while kafkajs rolled every
      // partition's sequence back: the same producer would meet OUT_OF_ORDER_SEQUENCE_NUMBER on
      // each of them forever. A fresh producer id starts the sequences over; the events of those
      // partitions may then be written twice (at-least-once, in this case only).
      await this.producer.disconnect().catch(() => {})
      this.producer = this.newProducer()
      this.producerDown = true
      await this.producer.connect()
      this.producerDown = false
      throw new ContentError(`kafka refused the batch: ${type}`, { oversized: null, limit: this.maxMessageBytes })
    }
  }

  async disconnect (): Promise<void> {
    await Promise.allSettled([this.producer.disconnect(), this.admin.disconnect()])
  }
}
