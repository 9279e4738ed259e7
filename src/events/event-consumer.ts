// Reads the prediction and feedback topics as a consumer group for `fairgate monitor`. On start
// every assigned partition is sought to (now − window) by timestamp, so a restarted monitor
// rebuilds its windows from the log and needs no state store of its own.
import { randomBytes } from 'node:crypto'
import { Kafka, logLevel, type Consumer, type EachBatchPayload } from 'kafkajs'
// kafkajs without its 1 ms idle timer loop (kafkajs-request-queue.ts), on this thread too.
import './kafkajs-request-queue.js'
// kafkajs' record batch decoder replaced by a cheaper one of the same output (kafkajs-record-decoder.ts).
import { recordDecoder } from './kafkajs-record-decoder.js'
import type { Config } from '../config/index.js'
import type { Logger } from '../models/index.js'
import { eventValue } from './event-value.js'
import { readFeedbackRecord } from './feedback-record.js'
import type { FeedbackEvent, PredictionEvent } from './schema.js'
import { whenTopicsReadable } from './topic-offsets.js'

export interface EventHandlers {
  onPrediction: (ev: PredictionEvent) => void
  onFeedback: (ev: FeedbackEvent) => void
  /** A feedback record that is not valid feedback (readFeedbackRecord): skipped, never a label. */
  onInvalidFeedback?: (field: string) => void
}

export interface EventConsumer {
  /** Resolves once every partition has been sought and read up to its end at start. */
  caughtUp: Promise<void>
  stop: () => Promise<void>
  /** Malformed messages skipped (counted, never fatal). */
  readonly skipped: number
}

export async function consumeEvents (opts: { config: Config, log: Logger, handlers: EventHandlers, groupId: string, sinceMs: number }): Promise<EventConsumer> {
  const { config, log, handlers } = opts
  const p = config.kafka.topic_prefix
  const topics = { predictions: `${p}predictions`, feedback: `${p}feedback` }
  const kafka = new Kafka({ clientId: `${config.kafka.client_id}-monitor`, brokers: config.kafka.brokers, logLevel: logLevel.ERROR, retry: { initialRetryTime: 200, maxRetryTime: 5_000, retries: 20 } })
  if (!recordDecoder.active) log.warn({ reason: recordDecoder.reason }, 'monitor decodes with kafkajs as shipped: more CPU per event')
  const admin = kafka.admin()
  await admin.connect()
  // The gateways create the topics, and may start after the monitor: wait as long as it takes.
  const start = new Map<string, Map<number, string>>()
  const end = new Map<string, Map<number, string>>()
  await whenTopicsReadable(admin, Object.values(topics), async () => {
    for (const topic of Object.values(topics)) {
      const byTs = await admin.fetchTopicOffsetsByTimestamp(topic, opts.sinceMs)
      start.set(topic, new Map(byTs.map(o => [o.partition, o.offset])))
      const latest = await admin.fetchTopicOffsets(topic)
      end.set(topic, new Map(latest.map(o => [o.partition, o.high])))
    }
  }, { timeoutMs: Infinity, onWaiting: () => { log.warn({ topics: Object.values(topics) }, 'waiting for the event topics to exist') } })
  await admin.disconnect()

  // Partitions still to read up to their end-at-start offset before the windows are complete.
  const behind = new Set<string>()
  for (const [topic, parts] of end) for (const [part, high] of parts) if (BigInt(high) > BigInt(start.get(topic)!.get(part) ?? '0')) behind.add(`${topic}:${part}`)
  let markCaughtUp: () => void = () => {}
  const caughtUp = new Promise<void>(resolve => { markCaughtUp = resolve })
  if (behind.size === 0) markCaughtUp()

  let skipped = 0
  const consumer: Consumer = kafka.consumer({ groupId: opts.groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000, maxWaitTimeInMs: 200 })
  await consumer.connect()
  await consumer.subscribe({ topics: Object.values(topics), fromBeginning: false })
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    for (const [topic, parts] of Object.entries(e.payload.memberAssignment)) {
      for (const partition of parts) {
        const offset = start.get(topic)?.get(partition)
        if (offset !== undefined) consumer.seek({ topic, partition, offset })
      }
    }
  })
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }: EachBatchPayload) => {
      const isPrediction = batch.topic === topics.predictions
      for (const m of batch.messages) {
        const ev = eventValue(m.value)
        if (ev === null) { skipped++; continue }
        if (isPrediction) {
          handlers.onPrediction(ev as PredictionEvent)
          continue
        }
        const fb = readFeedbackRecord(ev)
        if ('invalid' in fb) {
          skipped++
          handlers.onInvalidFeedback?.(fb.invalid)
        } else {
          handlers.onFeedback(fb)
        }
      }
      const key = `${batch.topic}:${batch.partition}`
      if (behind.has(key)) {
        const high = end.get(batch.topic)!.get(batch.partition)!
        const last = batch.messages[batch.messages.length - 1]
        if (last !== undefined && BigInt(last.offset) + 1n >= BigInt(high)) {
          behind.delete(key)
          if (behind.size === 0) markCaughtUp()
        }
      }
    }
  })
  return {
    caughtUp,
    stop: async () => { await consumer.disconnect() },
    get skipped () { return skipped }
  }
}

export function defaultMonitorGroup (replica: string): string {
  return `fairgate-monitor-${replica}-${randomBytes(3).toString('hex')}`
}
