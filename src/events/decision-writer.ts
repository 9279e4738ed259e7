// Decisions get their own small queue, apart from the prediction events' drop-oldest ring: a
// decision is never evicted; it is sent in order, one at a time, by an idempotent producer with
// acks from all in-sync replicas, and retried (with backoff) until the broker acknowledges it.
// The queue is bounded: past `capacity` a new decision is refused (enqueue returns false and the
// caller says so), never an old one dropped. A retry after an unknown outcome may write a record
// twice; followers refuse the copy (its seq no longer follows), so it is never applied twice.
import { Kafka, logLevel, type Producer } from 'kafkajs'
import './kafkajs-request-queue.js'
import type { Config } from '../config/index.js'
import type { Logger } from '../models/index.js'
import { decisionMessage } from './decision-events.js'
import type { DecisionEvent } from './schema.js'

export interface DecisionWriter {
  /** Queues a decision; false when the queue is full (the decision was not queued). */
  enqueue: (d: DecisionEvent) => boolean
  readonly pending: number
  /** Waits (bounded) for the queue to drain, then disconnects. */
  stop: (timeoutMs?: number) => Promise<void>
}

export function createDecisionWriter (opts: { config: Config, log: Logger, capacity?: number }): DecisionWriter {
  const { config, log } = opts
  const capacity = opts.capacity ?? 1000
  if (!Number.isInteger(capacity) || capacity < 1) throw new Error('decision writer: capacity must be a positive integer')
  const topic = `${config.kafka.topic_prefix}decisions`
  const kafka = new Kafka({ clientId: `${config.kafka.client_id}-decision-writer`, brokers: config.kafka.brokers, logLevel: logLevel.NOTHING, retry: { initialRetryTime: 200, maxRetryTime: 2_000, retries: 5 } })
  // The event stream creates the compacted topic; auto-creation would make an uncompacted one.
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false })
  const queue: DecisionEvent[] = []
  let connected = false
  let running = false
  let stopped = false
  let backoff = 200
  let drained: (() => void) | null = null

  const pump = async (): Promise<void> => {
    if (running) return
    running = true
    try {
      while (queue.length > 0 && !stopped) {
        try {
          if (!connected) { await producer.connect(); connected = true }
          await producer.send({ topic, acks: -1, messages: [decisionMessage(config, queue[0]!)] })
          queue.shift()
          backoff = 200
        } catch (err) {
          log.warn({ err: (err as Error).message, pending: queue.length, retry_ms: backoff }, 'decision not acknowledged yet; retrying')
          await new Promise(resolve => setTimeout(resolve, backoff).unref())
          backoff = Math.min(backoff * 2, 5_000)
        }
      }
    } finally {
      running = false
      if (queue.length === 0 && drained !== null) drained()
    }
  }

  return {
    enqueue: d => {
      if (queue.length >= capacity) {
        log.error({ model: d.model, pending: queue.length }, 'decision queue full: this decision was not queued')
        return false
      }
      queue.push(d)
      void pump()
      return true
    },
    get pending () { return queue.length },
    stop: async (timeoutMs = 5_000) => {
      if (queue.length > 0) await Promise.race([new Promise<void>(resolve => { drained = resolve }), new Promise(resolve => setTimeout(resolve, timeoutMs).unref())])
      stopped = true
      if (queue.length > 0) log.error({ pending: queue.length }, 'decisions not acknowledged at shutdown')
      await Promise.race([producer.disconnect().catch(() => {}), new Promise(resolve => setTimeout(resolve, 3_000).unref())])
    }
  }
}
