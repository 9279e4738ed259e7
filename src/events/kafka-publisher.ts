// The Kafka side of the event stream, built around kafkajs' known limits: an idempotent
// producer retries a send forever (retries = MAX_SAFE_INTEGER), so a send() to a dead broker
// never settles. We therefore keep exactly ONE send outstanding and hold everything else in our
// own bounded ring. The outstanding send is never abandoned and re-sent — it is the same
// idempotent batch that lands once the broker is back, which is what keeps an outage free of
// duplicates. A send that exceeds events.send_timeout_ms marks the stream stalled (logged,
// visible in fairgate_event_buffer); only a send that fails outright is retried with backoff.
import { Kafka, logLevel, Partitioners, type Admin, type LogEntry, type Producer, type TopicMessages } from 'kafkajs'
import type { InferJob } from '../batching/index.js'
import type { Clock } from '../clock.js'
import type { Config } from '../config/index.js'
import type { Logger } from '../models/index.js'
import type { GatewayMetrics } from '../telemetry/index.js'
import { EventRing, type OutboundMessage } from './event-ring.js'

export const TOPIC_PREDICTIONS = 0
export const TOPIC_FEEDBACK = 1
export const TOPIC_DECISIONS = 2

export type SerializePrediction = (job: InferJob, row: number) => OutboundMessage

export interface PublisherOptions {
  config: Config
  log: Logger
  metrics: GatewayMetrics
  clock: Clock
  serialize: SerializePrediction
}

/** kafkajs log lines go to our logger, at most one identical line per 10 s (outages are loud). */
function kafkaLogCreator (log: Logger): () => (entry: LogEntry) => void {
  const last = new Map<string, number>()
  return () => ({ level, log: entry }) => {
    if (level > logLevel.WARN) return
    const key = `${entry.message}`
    const now = Date.now()
    if ((last.get(key) ?? 0) > now - 10_000) return
    last.set(key, now)
    if (last.size > 1000) last.clear()
    log.warn({ kafka: entry.message, broker: (entry as { broker?: string }).broker }, 'kafka client')
  }
}

export class KafkaPublisher {
  readonly topics: string[]
  private readonly ring: EventRing
  private readonly kafka: Kafka
  private readonly producer: Producer
  private readonly admin: Admin
  private readonly cfg: Config['events']
  private readonly kcfg: Config['kafka']
  private readonly log: Logger
  private readonly clock: Clock
  private readonly serialize: SerializePrediction
  private readonly counters: Array<{ buffered: { inc: (n?: number) => void }, sent: { inc: (n?: number) => void }, dropped: { inc: (n?: number) => void }, failed: { inc: (n?: number) => void } }>
  /** Events per topic in the ring plus in flight, for fairgate_event_buffer. */
  private readonly pending: Int32Array
  private connected = false
  private connecting = false
  /** The batch taken out of the ring: sending, or waiting to be re-sent after a failure. */
  private readonly batchTopics: Uint8Array
  private readonly batchMsgs: OutboundMessage[] = []
  private inflight = 0
  private sending = false
  private inflightSince = 0
  private stalledLogged = false
  private backoffMs = 0
  private retryAt = 0
  private closed = false
  private finished = false
  private lingerTimer: unknown = null
  private readonly tick: NodeJS.Timeout
  private waiters: Array<() => void> = []
  private readonly onLinger: () => void
  private readonly onSent: () => void
  private readonly onFailed: (err: unknown) => void

  constructor (opts: PublisherOptions) {
    const { config, log, metrics } = opts
    this.cfg = config.events
    this.kcfg = config.kafka
    this.log = log
    this.clock = opts.clock
    this.serialize = opts.serialize
    const p = config.kafka.topic_prefix
    this.topics = [`${p}predictions`, `${p}feedback`, `${p}decisions`]
    this.ring = new EventRing(this.cfg.buffer_size)
    this.pending = new Int32Array(this.topics.length)
    this.batchTopics = new Uint8Array(this.cfg.batch_size)
    this.counters = this.topics.map(topic => ({
      buffered: metrics.events.labels(topic, 'buffered'),
      sent: metrics.events.labels(topic, 'sent'),
      dropped: metrics.events.labels(topic, 'dropped'),
      failed: metrics.events.labels(topic, 'failed')
    }))
    metrics.onCollect(() => {
      for (let t = 0; t < this.topics.length; t++) metrics.eventBuffer.labels(this.topics[t] as string).set(this.pending[t] as number)
    })
    this.kafka = new Kafka({
      clientId: config.kafka.client_id,
      brokers: config.kafka.brokers,
      logLevel: logLevel.WARN,
      logCreator: kafkaLogCreator(log),
      retry: { initialRetryTime: 100, maxRetryTime: 2_000, retries: 8 }
    })
    this.producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      // Unbounded retries (kafkajs forces them for idempotence), but quick to notice recovery.
      retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: Number.MAX_SAFE_INTEGER }
    })
    this.admin = this.kafka.admin()
    this.onLinger = () => { this.lingerTimer = null; this.pump(true) }
    this.onSent = () => { this.sent() }
    this.onFailed = (err) => { this.failed(err) }
    // One shared timer: reconnects, retries after backoff, and notices a stalled send.
    this.tick = setInterval(() => { this.onTick() }, 250)
    this.tick.unref()
  }

  /** Events waiting (ring + in flight). */
  get backlog (): number { return this.ring.size + this.inflight }

  start (): void { void this.connect() }

  private async connect (): Promise<void> {
    // Still connects while closing: a flush at shutdown needs the broker too.
    if (this.connecting || this.connected || this.finished) return
    this.connecting = true
    try {
      await this.admin.connect()
      await this.ensureTopics()
      await this.producer.connect()
      this.connected = true
      this.backoffMs = 0
      this.log.info({ brokers: this.kcfg.brokers.length, topics: this.topics }, 'kafka connected')
      this.pump(false)
    } catch (err) {
      this.backoff()
      this.log.warn({ err: (err as Error).message, retry_in_ms: this.backoffMs }, 'kafka not reachable; buffering events')
    } finally {
      this.connecting = false
    }
  }

  private async ensureTopics (): Promise<void> {
    const existing = new Set(await this.admin.listTopics())
    const missing = this.topics.filter(t => !existing.has(t))
    if (missing.length === 0) return
    await this.admin.createTopics({
      waitForLeaders: true,
      topics: missing.map(topic => ({
        topic,
        numPartitions: this.kcfg.partitions,
        replicationFactor: this.kcfg.replication_factor,
        // The decisions topic is a compacted log keyed by model: its latest record per model is
        // the active variant, kept forever; events age out with the broker's retention.
        configEntries: topic === this.topics[TOPIC_DECISIONS] ? [{ name: 'cleanup.policy', value: 'compact' }] : []
      }))
    }).catch((err: Error & { type?: string }) => {
      // Another replica created them first.
      if (err.type !== 'TOPIC_ALREADY_EXISTS' && !/already exists/i.test(err.message)) throw err
    })
  }

  /** Buffers one prediction row; serialized only when sent. */
  enqueuePrediction (job: InferJob, row: number): void { this.push(TOPIC_PREDICTIONS, job, row, null) }

  enqueue (topic: number, msg: OutboundMessage): void { this.push(topic, null, 0, msg) }

  private push (topic: number, job: InferJob | null, row: number, msg: OutboundMessage | null): void {
    if (this.closed) {
      (this.counters[topic] as { dropped: { inc: () => void } }).dropped.inc()
      return
    }
    const evicted = this.ring.push(topic, job, row, msg)
    this.counters[topic]!.buffered.inc()
    this.pending[topic]!++
    if (evicted >= 0) {
      this.counters[evicted]!.dropped.inc()
      this.pending[evicted]!--
    }
    if (!this.sending) this.pump(false)
  }

  private pump (lingerDone: boolean): void {
    if (!this.connected || this.sending || this.clock.now() < this.retryAt) return
    if (this.inflight === 0) {
      if (this.ring.size === 0) return
      if (!lingerDone && !this.closed && this.cfg.linger_ms > 0 && this.ring.size < this.cfg.batch_size) {
        if (this.lingerTimer === null) this.lingerTimer = this.clock.setTimer(this.onLinger, this.cfg.linger_ms)
        return
      }
      this.takeBatch()
    }
    if (this.lingerTimer !== null) { this.clock.clearTimer(this.lingerTimer); this.lingerTimer = null }
    this.send()
  }

  /** Moves the oldest events out of the ring, serializing predictions now. */
  private takeBatch (): void {
    const n = Math.min(this.ring.size, this.cfg.batch_size)
    for (let k = 0; k < n; k++) {
      const i = this.ring.at(k)
      this.batchTopics[k] = this.ring.topic[i] as number
      this.batchMsgs[k] = this.ring.msgs[i] ?? this.serialize(this.ring.jobs[i] as InferJob, this.ring.rows[i] as number)
    }
    this.ring.drop(n)
    this.inflight = n
  }

  /** Sends the current batch; a retry sends the same bytes (same ce_id) in the same order. */
  private send (): void {
    const byTopic: TopicMessages[] = this.topics.map(topic => ({ topic, messages: [] }))
    for (let k = 0; k < this.inflight; k++) byTopic[this.batchTopics[k] as number]!.messages.push(this.batchMsgs[k] as OutboundMessage)
    this.sending = true
    this.inflightSince = this.clock.now()
    this.producer.sendBatch({ topicMessages: byTopic.filter(tm => tm.messages.length > 0), acks: -1 }).then(this.onSent, this.onFailed)
  }

  private sent (): void {
    const n = this.inflight
    for (let k = 0; k < n; k++) {
      const t = this.batchTopics[k] as number
      this.counters[t]!.sent.inc()
      this.pending[t]!--
    }
    this.batchMsgs.length = 0
    this.inflight = 0
    this.sending = false
    this.backoffMs = 0
    if (this.stalledLogged) {
      this.log.info({ stalled_ms: Math.round(this.clock.now() - this.inflightSince), backlog: this.ring.size }, 'kafka send recovered')
      this.stalledLogged = false
    }
    this.notify()
    this.pump(this.ring.size >= this.cfg.batch_size || this.closed)
  }

  private failed (err: unknown): void {
    const n = this.inflight
    for (let k = 0; k < n; k++) this.counters[this.batchTopics[k] as number]!.failed.inc()
    this.sending = false
    this.backoff()
    this.log.warn({ err: (err as Error).message, events: n, retry_in_ms: this.backoffMs }, 'kafka send failed; will retry the same events')
    this.notify()
  }

  private backoff (): void {
    this.backoffMs = this.backoffMs === 0 ? this.cfg.retry_initial_ms : Math.min(this.cfg.retry_max_ms, this.backoffMs * 2)
    this.retryAt = this.clock.now() + this.backoffMs
  }

  private onTick (): void {
    const now = this.clock.now()
    if (!this.connected) {
      if (now >= this.retryAt) void this.connect()
      return
    }
    if (this.sending && !this.stalledLogged && now - this.inflightSince > this.cfg.send_timeout_ms) {
      this.stalledLogged = true
      this.log.warn({ waited_ms: Math.round(now - this.inflightSince), backlog: this.backlog, capacity: this.cfg.buffer_size }, 'kafka send stalled; buffering events until the broker answers')
    }
    if (!this.sending) this.pump(true)
  }

  private notify (): void {
    if (this.backlog === 0 && this.waiters.length > 0) {
      const w = this.waiters
      this.waiters = []
      for (const f of w) f()
    }
  }

  /** Resolves when everything buffered is acked, or after timeoutMs (whichever first). */
  async flush (timeoutMs: number): Promise<void> {
    if (this.backlog === 0) return
    this.pump(true)
    await new Promise<void>(resolve => {
      const timer = setTimeout(resolve, timeoutMs)
      this.waiters.push(() => { clearTimeout(timer); resolve() })
    })
  }

  /** Flushes (bounded), counts what is left as dropped, disconnects. */
  async close (timeoutMs: number): Promise<void> {
    this.closed = true
    await this.flush(timeoutMs)
    this.finished = true
    clearInterval(this.tick)
    if (this.lingerTimer !== null) this.clock.clearTimer(this.lingerTimer)
    const left = this.backlog
    if (left > 0) {
      for (let k = 0; k < this.ring.size; k++) this.counters[this.ring.topic[this.ring.at(k)] as number]!.dropped.inc()
      for (let k = 0; k < this.inflight; k++) this.counters[this.batchTopics[k] as number]!.dropped.inc()
      this.log.error({ events: left, timeout_ms: timeoutMs }, 'kafka unreachable at shutdown; buffered events are lost')
    }
    await Promise.race([
      Promise.allSettled([this.producer.disconnect(), this.admin.disconnect()]),
      new Promise(resolve => setTimeout(resolve, 2_000))
    ])
  }
}
