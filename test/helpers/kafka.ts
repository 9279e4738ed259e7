// The real broker for integration tests: KAFKA_BROKERS when set (npm test sets it through
// scripts/kafka-broker.mjs run), else a broker of this test file's own. Tests that must stop
// and restart the broker always start their own.
import { randomBytes } from 'node:crypto'
import { Kafka, logLevel, type IHeaders } from 'kafkajs'
import { startBroker, type KafkaBroker } from '../../scripts/kafka-broker.mjs'
import { whenTopicsReadable } from '../../src/events/topic-offsets.js'

export async function sharedBroker (t: { teardown: (fn: () => unknown) => void }): Promise<string> {
  const env = process.env.KAFKA_BROKERS
  if (env !== undefined && env !== '') return env
  const b = await startBroker({ quiet: true })
  t.teardown(() => b.stop())
  return b.brokers
}

export async function ownBroker (t: { teardown: (fn: () => unknown) => void }): Promise<KafkaBroker> {
  const b = await startBroker({ quiet: true })
  t.teardown(() => b.stop())
  return b
}

/** A topic prefix no other test uses, so tests on one broker never see each other's events. */
export function uniquePrefix (): string {
  return `t${randomBytes(4).toString('hex')}.`
}

export interface ReadRecord { key: string, value: Record<string, unknown>, headers: Record<string, string>, partition: number, timestamp: string }

function headerStrings (h: IHeaders | undefined): Record<string, string> {
  const o: Record<string, string> = {}
  for (const [k, v] of Object.entries(h ?? {})) o[k] = Buffer.isBuffer(v) ? v.toString() : String(v)
  return o
}

/** The gateway creates its topics in the background once connected; wait for that. */
async function waitForTopic (kafka: Kafka, topic: string, timeoutMs: number): Promise<void> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    await whenTopicsReadable(admin, [topic], async () => await admin.fetchTopicOffsets(topic), { timeoutMs })
  } finally {
    await admin.disconnect()
  }
}

/**
 * Reads a topic from the beginning with an independent consumer group until `expected` records
 * arrived (then `settleMs` more, to catch duplicates) or `timeoutMs` passed.
 *
 * A consumer that joins its group while the shared broker is busy can sit with no assignment,
 * or crash out of its fetch loop, and then reads nothing however long we wait (CI once got 0 of
 * 1 records in 60 s). So a read that has seen nothing for `attemptMs` starts over with a fresh
 * group: every attempt reads from the beginning, so nothing is counted twice.
 */
export async function readTopic (brokers: string, topic: string, expected: number, timeoutMs = 60_000, settleMs = 1_500, attemptMs = 20_000): Promise<ReadRecord[]> {
  const kafka = new Kafka({ clientId: 'fairgate-test-reader', brokers: [brokers], logLevel: logLevel.NOTHING })
  const started = Date.now()
  await waitForTopic(kafka, topic, timeoutMs)
  let out: ReadRecord[] = []
  while (true) {
    const attempt = await readOnce(kafka, topic, expected, started + timeoutMs, settleMs, attemptMs)
    if (attempt.length > out.length) out = attempt
    if (out.length >= expected || Date.now() - started >= timeoutMs) return out
  }
}

async function readOnce (kafka: Kafka, topic: string, expected: number, deadline: number, settleMs: number, attemptMs: number): Promise<ReadRecord[]> {
  const consumer = kafka.consumer({ groupId: `reader-${randomBytes(4).toString('hex')}` })
  const out: ReadRecord[] = []
  let crashed = false
  consumer.on(consumer.events.CRASH, () => { crashed = true })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  let reachedAt = 0
  let lastAt = Date.now()
  await consumer.run({
    eachMessage: async ({ message, partition }) => {
      out.push({
        key: message.key?.toString() ?? '',
        value: JSON.parse(message.value!.toString()) as Record<string, unknown>,
        headers: headerStrings(message.headers),
        partition,
        timestamp: message.timestamp
      })
      lastAt = Date.now()
      if (out.length >= expected && reachedAt === 0) reachedAt = Date.now()
    }
  })
  while (Date.now() < deadline) {
    if (reachedAt > 0 && Date.now() - reachedAt >= settleMs) break
    // Stuck: nothing new for a whole attempt (or the fetch loop died) — let the caller retry.
    if (reachedAt === 0 && (crashed || Date.now() - lastAt >= attemptMs)) break
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  await consumer.disconnect()
  return out
}
