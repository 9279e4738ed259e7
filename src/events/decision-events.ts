// Decisions on the compacted decisions topic, keyed by model: the latest record per model is
// the variant every replica should serve. Each replica follows the topic from the beginning (so
// a new replica starts on the current decision) with a group of its own.
import { randomBytes } from 'node:crypto'
import { Kafka, logLevel, type Consumer } from 'kafkajs'
// kafkajs without its 1 ms idle timer loop (kafkajs-request-queue.ts), on this thread too.
import './kafkajs-request-queue.js'
import type { Config } from '../config/index.js'
import type { Logger } from '../models/index.js'
import { ceHeaders } from './cloudevents.js'
import type { OutboundMessage } from './event-ring.js'
import type { DecisionEvent } from './schema.js'
import { whenTopicsReadable } from './topic-offsets.js'

export function decisionMessage (config: Config, d: DecisionEvent): OutboundMessage {
  return {
    key: d.model,
    value: JSON.stringify(d),
    headers: ceHeaders('decision', d.id ?? `${d.model}:${d.ts}:${d.actor}`, `fairgate/${config.replica}`, d.ts),
    timestamp: String(d.ts)
  }
}

export interface DecisionFollower {
  /** Resolves once the topic has been read to its end at start (or after timeoutMs). */
  caughtUp: Promise<void>
  stop: () => Promise<void>
}

export async function followDecisions (opts: { config: Config, log: Logger, onDecision: (d: DecisionEvent) => void, timeoutMs?: number }): Promise<DecisionFollower> {
  const { config, log } = opts
  const topic = `${config.kafka.topic_prefix}decisions`
  const kafka = new Kafka({ clientId: `${config.kafka.client_id}-decisions`, brokers: config.kafka.brokers, logLevel: logLevel.NOTHING, retry: { initialRetryTime: 200, maxRetryTime: 2_000, retries: 10 } })
  const admin = kafka.admin()
  let high = new Map<number, bigint>()
  try {
    await admin.connect()
    // The producer creates the topic in the background, so it may not be readable yet.
    high = await whenTopicsReadable(admin, [topic], async () => new Map((await admin.fetchTopicOffsets(topic)).map(o => [o.partition, BigInt(o.high)])), { timeoutMs: 15_000 })
  } finally {
    await admin.disconnect().catch(() => {})
  }
  const pending = new Set([...high].filter(([, h]) => h > 0n).map(([p]) => p))
  let done: () => void = () => {}
  const caughtUp = new Promise<void>(resolve => { done = resolve })
  if (pending.size === 0) done()
  const timer = setTimeout(() => {
    if (pending.size > 0) log.warn({ topic }, 'decisions topic not read to its end in time; serving the local default until it is')
    done()
  }, opts.timeoutMs ?? 15_000)
  timer.unref()
  let stopped = false
  const consumer: Consumer = kafka.consumer({
    groupId: `fairgate-decisions-${config.replica}-${randomBytes(4).toString('hex')}`,
    // How long an idle fetch waits at the broker. A new decision answers the waiting fetch at
    // once (minBytes 1), so this does not delay following; it only sets how often an idle
    // consumer polls. What Kafka costs an idle gateway at 1 s, above Kafka off (tsx
    // loadtest/profile-idle.ts): ~2% of a core each for the broker and the gateway. At 100 ms it
    // was about twice that (a one-off measurement before this setting changed; no kept command
    // reproduces it).
    maxWaitTimeInMs: 1000,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    // Keep following through broker outages, but not after stop().
    retry: { initialRetryTime: 300, maxRetryTime: 5_000, retries: 10, restartOnFailure: async () => !stopped }
  })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ message, partition }) => {
      try {
        const d = JSON.parse(message.value?.toString() ?? '') as DecisionEvent
        if (typeof d.model === 'string' && typeof d.to === 'string') opts.onDecision(d)
      } catch {
        log.warn({ topic, offset: message.offset }, 'skipping a malformed decision record')
      }
      if (pending.has(partition) && BigInt(message.offset) + 1n >= high.get(partition)!) {
        pending.delete(partition)
        if (pending.size === 0) { clearTimeout(timer); done() }
      }
    }
  })
  return {
    caughtUp,
    // Bounded: with the broker gone, disconnect can wait on retries that never end.
    stop: async () => {
      stopped = true
      clearTimeout(timer)
      await Promise.race([consumer.disconnect().catch(() => {}), new Promise(resolve => setTimeout(resolve, 3_000).unref())])
    }
  }
}

/**
 * followDecisions that does not give up: a start that fails (broker down, topic not there yet)
 * is retried with backoff in the background until it succeeds or stop() is called. caughtUp
 * resolves when the first successful follower has read the topic to its end, or after
 * timeoutMs (the process serves its local default meanwhile, and says so).
 */
export function followDecisionsRetrying (opts: { config: Config, log: Logger, onDecision: (d: DecisionEvent) => void, timeoutMs?: number }): DecisionFollower {
  let current: DecisionFollower | null = null
  let stopped = false
  let done: () => void = () => {}
  const caughtUp = new Promise<void>(resolve => { done = resolve })
  const timer = setTimeout(done, opts.timeoutMs ?? 15_000)
  timer.unref()
  void (async () => {
    for (let backoff = 500; !stopped; backoff = Math.min(backoff * 2, 10_000)) {
      try {
        const f = await followDecisions(opts)
        if (stopped) { await f.stop(); return }
        current = f
        await f.caughtUp
        clearTimeout(timer)
        done()
        return
      } catch (err) {
        opts.log.error({ err: (err as Error).message, retry_ms: backoff }, 'cannot follow the decisions topic yet; retrying')
        await new Promise(resolve => setTimeout(resolve, backoff).unref())
      }
    }
  })()
  return {
    caughtUp,
    stop: async () => {
      stopped = true
      clearTimeout(timer)
      done()
      await current?.stop()
    }
  }
}
