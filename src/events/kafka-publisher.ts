// The Kafka side of the event stream, built around kafkajs' known limits: an idempotent
// producer retries a send forever (retries = MAX_SAFE_INTEGER), so a send() to a dead broker
// never settles. We therefore keep exactly ONE send outstanding and hold everything else in our
// own bounded ring. The outstanding send is never abandoned and re-sent — it is the same
// idempotent batch that lands once the broker is back, which is what keeps an outage free of
// duplicates. A send that exceeds events.send_timeout_ms marks the stream stalled (logged,
// visible in fairgate_event_buffer); only a send that fails outright is retried with backoff.
//
// This state machine, the ring and every metric stay on the main thread; kafkajs itself (record
// encoding, partitioning, sockets) and the JSON of prediction events run in a worker thread
// (kafka-worker.ts) that this class drives through KafkaTransport: one postMessage per batch of
// compact columns (wire.ts). A worker that dies is logged, its pending send counts as failed,
// and a fresh worker reconnects and re-sends the same batch.
//
// A send refused for its content (too large for the broker's max.message.bytes, an invalid
// record) is the exception to "re-send the same batch": the same bytes would be refused forever
// and stall the stream. Such a batch is split in halves, each sent as a batch of its own, and
// an event that cannot be sent alone is dropped, counted as outcome="rejected" and logged.
import type { InferJob } from '../batching/index.js'
import type { Clock } from '../clock.js'
import type { Config } from '../config/index.js'
import type { Logger, VariantRuntime } from '../models/index.js'
import type { GatewayMetrics } from '../telemetry/index.js'
import { EventRing, type OutboundMessage } from './event-ring.js'
import { FailedOnce } from './failed-once.js'
import { KafkaTransport, TransportContentError } from './kafka-transport.js'
import { N_BATCH, N_DECISION, N_FEATURES, N_GROUPS, N_LANE, N_LATENCY, N_QUEUE, N_ROWS, N_SCORE, N_THRESHOLD, N_TS, NUMS, subBatch, wireRequestId, WireStrings, type LaneDef, type WireBatch } from './wire.js'

export const TOPIC_PREDICTIONS = 0
export const TOPIC_FEEDBACK = 1
export const TOPIC_DECISIONS = 2

export interface PublisherOptions {
  config: Config
  log: Logger
  metrics: GatewayMetrics
  clock: Clock
}

interface Inc { inc: (n?: number) => void }
interface Outcomes { buffered: Inc, sent: Inc, dropped: Inc, failed: Inc, rejected: Inc }

export class KafkaPublisher {
  readonly topics: string[]
  private readonly ring: EventRing
  /** kafkajs runs in a worker thread (kafka-worker.ts); this is the RPC to it. */
  readonly transport: KafkaTransport
  private readonly cfg: Config['events']
  private readonly kcfg: Config['kafka']
  private readonly log: Logger
  private readonly clock: Clock
  private readonly counters: Outcomes[]
  /** Events per topic in the ring plus in flight, for fairgate_event_buffer. */
  private readonly pending: Int32Array
  /**
   * Buffered events not yet added to their counter: prom-client's labelled inc() hashes its
   * labels on every call, so buffered counts are added once per burst (a microtask after the
   * enqueues of one completed inference batch) and before every scrape.
   */
  private readonly bufferedUncounted: Int32Array
  private bufferedFlushQueued = false
  private readonly flushBuffered: () => void
  private connected = false
  private connecting = false
  /** Interned (model, variant) lanes of prediction events; the worker gets the same table. */
  private readonly lanes: LaneDef[] = []
  private readonly laneOf = new Map<VariantRuntime, number>()
  /** The batch taken out of the ring: sending, or waiting to be re-sent after a failure. */
  private batch: WireBatch | null = null
  /** What is left of a batch split after a content refusal, sent one after the other. */
  private parts: WireBatch[] = []
  /** Batches whose events were counted as failed: a retry of the same batch counts nothing more. */
  private readonly failedOnce = new FailedOnce<WireBatch>()
  private inflight = 0
  private sending = false
  private inflightSince = 0
  private stalledLogged = false
  /** The last send failure or content refusal, for the shutdown report (null: none since the last ack). */
  private lastError: string | null = null
  /** When the stream was first asked to flush (shutdown), for the shutdown report. */
  private flushSince = -1
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
  /** Events evicted per topic by the last push (counted by buffered()). */
  private readonly evicted = new Int32Array(3)
  /** Reused scratch columns of the batch being encoded. */
  private groupsScratch = new Int16Array(1024)
  private featuresScratch: Float32Array | null = null

  constructor (opts: PublisherOptions) {
    const { config, log, metrics } = opts
    this.cfg = config.events
    this.kcfg = config.kafka
    this.log = log
    this.clock = opts.clock
    const p = config.kafka.topic_prefix
    this.topics = [`${p}predictions`, `${p}feedback`, `${p}decisions`]
    this.ring = new EventRing(this.cfg.buffer_size, this.cfg.buffer_bytes)
    this.pending = new Int32Array(this.topics.length)
    this.bufferedUncounted = new Int32Array(this.topics.length)
    this.counters = this.topics.map(topic => ({
      buffered: metrics.events.labels(topic, 'buffered'),
      sent: metrics.events.labels(topic, 'sent'),
      dropped: metrics.events.labels(topic, 'dropped'),
      failed: metrics.events.labels(topic, 'failed'),
      rejected: metrics.events.labels(topic, 'rejected')
    }))
    this.flushBuffered = () => {
      this.bufferedFlushQueued = false
      for (let t = 0; t < this.topics.length; t++) {
        const n = this.bufferedUncounted[t] as number
        if (n > 0) { this.bufferedUncounted[t] = 0; this.counters[t]!.buffered.inc(n) }
      }
    }
    metrics.onCollect(() => {
      this.flushBuffered()
      for (let t = 0; t < this.topics.length; t++) metrics.eventBuffer.labels(this.topics[t] as string).set(this.pending[t] as number)
    })
    this.transport = new KafkaTransport({
      clientId: config.kafka.client_id,
      brokers: config.kafka.brokers,
      topics: this.topics,
      partitions: config.kafka.partitions,
      replicationFactor: config.kafka.replication_factor,
      decisionsTopic: TOPIC_DECISIONS,
      replica: config.replica,
      includeGroups: config.events.include_groups,
      includeFeatures: config.events.include_features
    }, this.lanes, log, () => { this.crashed() })
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
      await this.transport.connect()
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

  /** The worker died: reconnect through a new one; a pending send fails and is re-sent. */
  private crashed (): void {
    this.connected = false
    if (!this.sending) this.backoff()
  }

  /** Buffers one event per row of an answered job: only what its message needs (event-ring.ts). */
  enqueuePredictions (job: InferJob): void {
    const n = job.rows
    if (this.closed) {
      this.counters[TOPIC_PREDICTIONS]!.dropped.inc(n)
      return
    }
    const ring = this.ring
    const attrs = job.model.groups.size
    ring.ensureStride(attrs)
    const stride = ring.stride
    const lane = this.lane(job)
    const width = this.cfg.include_features ? job.model.width : 0
    const latency = job.finishedAt - job.receivedAt
    const queue = job.queueMs
    const requestId = job.requestId
    const nums = ring.nums
    const evicted = this.evicted
    const ids = job.ids
    let kept = 0
    for (let r = 0; r < n; r++) {
      const id = ids[r] as string
      const i = ring.reserve(EventRing.predictionBytes(id, requestId, width, attrs), evicted)
      if (i < 0) { this.counters[TOPIC_PREDICTIONS]!.dropped.inc(); continue }
      kept++
      ring.topic[i] = TOPIC_PREDICTIONS
      ring.ids[i] = id
      ring.requestIds[i] = requestId
      const o = i * NUMS
      const score = job.scores[r] as number
      nums[o + N_LANE] = lane
      nums[o + N_TS] = job.completedAtWall
      nums[o + N_SCORE] = score
      const thr = job.thresholds[r] as number
      nums[o + N_DECISION] = score >= thr ? 1 : 0
      nums[o + N_THRESHOLD] = thr
      nums[o + N_LATENCY] = latency
      nums[o + N_QUEUE] = queue
      nums[o + N_BATCH] = job.batchSize
      nums[o + N_ROWS] = job.rows
      const from = job.groupsPerRow ? r * attrs : 0
      for (let a = 0; a < attrs; a++) ring.groups[i * stride + a] = job.groupIds[from + a] as number
      if (width > 0) ring.features[i] = job.input.slice(r * width, (r + 1) * width)
    }
    this.buffered(TOPIC_PREDICTIONS, kept)
  }

  enqueue (topic: number, msg: OutboundMessage): void {
    if (this.closed) {
      this.counters[topic]!.dropped.inc()
      return
    }
    if (this.ring.pushMessage(topic, msg, this.evicted)) this.buffered(topic, 1)
    else this.counters[topic]!.dropped.inc()
  }

  /** Counts n events just buffered on topic and the ones they evicted, then sends if idle. */
  private buffered (topic: number, n: number): void {
    this.bufferedUncounted[topic]! += n
    if (!this.bufferedFlushQueued) {
      this.bufferedFlushQueued = true
      queueMicrotask(this.flushBuffered)
    }
    this.pending[topic]! += n
    const evicted = this.evicted
    for (let t = 0; t < evicted.length; t++) {
      const e = evicted[t] as number
      if (e === 0) continue
      evicted[t] = 0
      this.counters[t]!.dropped.inc(e)
      this.pending[t]! -= e
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

  private lane (job: InferJob): number {
    const v = job.variant as VariantRuntime
    let i = this.laneOf.get(v)
    if (i === undefined) {
      i = this.lanes.length
      const g = job.model.groups
      this.lanes.push({ index: i, model: job.model.name, variant: v.name, attributes: [...g.attributes], values: g.values.map(vs => [...vs]), width: job.model.width })
      this.laneOf.set(v, i)
    }
    return i
  }

  /** Moves the oldest events out of the ring into compact columns (the worker writes the JSON). */
  private takeBatch (): void {
    const ring = this.ring
    const n = Math.min(ring.size, this.cfg.batch_size)
    const topics = new Uint8Array(n)
    const strs = new WireStrings(n)
    const nums = new Float64Array(n * NUMS)
    let msgs: Array<OutboundMessage | null> | null = null
    let groups = this.groupsScratch
    let g = 0
    let features = this.featuresScratch
    let f = 0
    const withFeatures = this.cfg.include_features
    const stride = ring.stride
    for (let k = 0; k < n; k++) {
      const i = ring.at(k)
      topics[k] = ring.topic[i] as number
      const msg = ring.msgs[i]
      if (msg !== null && msg !== undefined) {
        msgs ??= new Array<OutboundMessage | null>(n).fill(null)
        msgs[k] = msg
        strs.add('', '')
        continue
      }
      strs.add(ring.ids[i] as string, ring.requestIds[i] as string)
      const o = k * NUMS
      nums.set(ring.nums.subarray(i * NUMS, (i + 1) * NUMS), o)
      const def = this.lanes[nums[o + N_LANE] as number] as LaneDef
      const attrs = def.attributes.length
      if (g + attrs > groups.length) {
        const bigger = new Int16Array(Math.max(groups.length * 2, g + attrs))
        bigger.set(groups.subarray(0, g))
        groups = this.groupsScratch = bigger
      }
      nums[o + N_GROUPS] = g
      groups.set(ring.groups.subarray(i * stride, i * stride + attrs), g)
      g += attrs
      const row = ring.features[i]
      if (withFeatures && row !== null && row !== undefined) {
        if (features === null || f + row.length > features.length) {
          const bigger = new Float32Array(Math.max(features === null ? 0 : features.length * 2, f + row.length, 1024))
          if (features !== null) bigger.set(features.subarray(0, f))
          features = this.featuresScratch = bigger
        }
        nums[o + N_FEATURES] = f
        features.set(row, f)
        f += row.length
      }
    }
    ring.drop(n)
    this.inflight = n
    // Exact-size copies: postMessage clones a typed array's whole buffer, not just the view.
    this.batch = { n, topics, strs: strs.value, cuts: strs.cuts, nums, groups: groups.slice(0, g), features: features === null ? null : features.slice(0, f), msgs, newLanes: null }
  }

  /** Sends the current batch; a retry sends the same events (same bytes, same ce_id) in the same order. */
  private send (): void {
    this.sending = true
    this.inflightSince = this.clock.now()
    this.transport.send(this.batch as WireBatch).then(this.onSent, this.onFailed)
  }

  /** Adds n to one outcome counter of every topic in the in-flight batch. */
  private countBatch (outcome: keyof Outcomes, settle: boolean): void {
    const b = this.batch as WireBatch
    const perTopic = [0, 0, 0]
    for (let k = 0; k < b.n; k++) perTopic[b.topics[k] as number]!++
    for (let t = 0; t < perTopic.length; t++) {
      const c = perTopic[t] as number
      if (c === 0) continue
      this.counters[t]![outcome].inc(c)
      if (settle) this.pending[t]! -= c
    }
  }

  /** The current batch is settled: the next part of a split batch, if any, becomes current. */
  private advance (settled: number): void {
    this.inflight -= settled
    this.batch = this.parts.shift() ?? null
    if (this.batch === null) this.inflight = 0
  }

  private sent (): void {
    this.countBatch('sent', true)
    this.lastError = null
    this.advance((this.batch as WireBatch).n)
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
    if (err instanceof TransportContentError) {
      this.refused(err)
      return
    }
    const n = this.inflight
    this.lastError = (err as Error).message
    if (this.failedOnce.first(this.batch as WireBatch)) this.countBatch('failed', false)
    this.sending = false
    this.backoff()
    this.log.warn({ err: (err as Error).message, events: n, retry_in_ms: this.backoffMs }, 'kafka send failed; will retry the same events')
    this.notify()
  }

  /**
   * The batch was refused for its content: its events that fit in no record batch (or the one
   * event, if it was alone) are rejected; the rest is sent again, halved unless the refusal named
   * the culprits, so a refusal always makes progress and never blocks the stream.
   */
  private refused (err: TransportContentError): void {
    const b = this.batch as WireBatch
    this.sending = false
    const named = err.refusal.oversized
    const bad = named !== null && named.length > 0 ? named : b.n === 1 ? [0] : []
    if (bad.length > 0) {
      const perTopic = [0, 0, 0]
      for (const k of bad) perTopic[b.topics[k] as number]!++
      for (let t = 0; t < perTopic.length; t++) {
        const c = perTopic[t] as number
        if (c === 0) continue
        this.counters[t]!.rejected.inc(c)
        this.pending[t]! -= c
      }
      // The request id tells the operator which client sent it (it may be long: cut).
      const rid = wireRequestId(b, bad[0] as number)
      this.log.error({ err: err.message, events: bad.length, limit_bytes: err.refusal.limit, request_id: rid.slice(0, 64), request_id_length: rid.length }, 'kafka refuses these events for their content; dropped as outcome="rejected"')
    }
    if (bad.length === b.n) {
      this.advance(b.n)
    } else if (bad.length > 0) {
      const badSet = new Set(bad)
      const keep: number[] = []
      for (let k = 0; k < b.n; k++) if (!badSet.has(k)) keep.push(k)
      this.inflight -= bad.length
      this.batch = subBatch(b, keep)
      this.failedOnce.split(b, [this.batch])
    } else {
      const all = Array.from({ length: b.n }, (_, k) => k)
      const mid = b.n >> 1
      this.batch = subBatch(b, all.slice(0, mid))
      // One line per refused batch, not one per halving.
      if (this.parts.length === 0) this.log.warn({ err: err.message, events: b.n }, 'kafka refused a batch for its content; sending it in halves')
      this.parts.unshift(subBatch(b, all.slice(mid)))
      this.failedOnce.split(b, [this.batch, this.parts[0] as WireBatch])
    }
    this.notify()
    this.pump(true)
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
    if (this.flushSince < 0) this.flushSince = this.clock.now()
    if (this.backlog === 0) return
    this.pump(true)
    await new Promise<void>(resolve => {
      const timer = setTimeout(resolve, timeoutMs)
      this.waiters.push(() => { clearTimeout(timer); resolve() })
    })
  }

  /** Flushes (bounded), counts what is left as dropped, disconnects and ends the worker. */
  async close (timeoutMs: number): Promise<void> {
    this.closed = true
    await this.flush(timeoutMs)
    this.finished = true
    clearInterval(this.tick)
    if (this.lingerTimer !== null) this.clock.clearTimer(this.lingerTimer)
    this.flushBuffered()
    const left = this.backlog
    if (left > 0) {
      // What this process can know: the ring was never sent (lost), while the batch in flight
      // was written to a socket and may still land: Kafka has not said either way.
      const buffered = this.ring.size
      const inFlight = left - buffered
      for (let k = 0; k < buffered; k++) this.counters[this.ring.topic[this.ring.at(k)] as number]!.dropped.inc()
      if (this.batch !== null) this.countBatch('dropped', false)
      for (const part of this.parts) { this.batch = part; this.countBatch('dropped', false) }
      this.log.error({
        lost: buffered,
        in_flight_unacknowledged: inFlight,
        flushed_for_ms: this.flushSince < 0 ? 0 : Math.round(this.clock.now() - this.flushSince),
        connected: this.connected,
        last_error: this.lastError ?? (this.stalledLogged ? 'send not acknowledged (broker unreachable or stalled)' : null)
      }, 'events not acknowledged by kafka at shutdown: the buffered ones are lost, the in-flight ones may have landed (counted as dropped)')
    }
    await this.transport.close(2_000)
  }
}
