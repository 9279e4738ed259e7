// The summaries topic of sharded monitors (docs/scale-out.md): one partition, compacted per key
// (partition, kind, bucket) and deleted after the label window, so it holds the latest record of
// every bucket still in a window. Every sharded monitor writes its partitions' records and reads
// everyone's from (now − label window) to merge the fleet's windows. Values are opaque here (the
// monitor encodes them); they hold counters only, never a group label.
import { randomBytes } from 'node:crypto'
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs'
import './kafkajs-request-queue.js'
import type { Config } from '../config/index.js'
import type { Logger } from '../models/index.js'
import { whenTopicsReadable } from './topic-offsets.js'

export interface SummaryTopic {
  /** Sends records (one at a time in order; a failed send is logged and dropped: the next interval sends the buckets again only if they change, so the meta's staleness shows it). */
  publish: (records: Array<{ key: string, value: Buffer }>) => Promise<boolean>
  /** Resolves once the records that existed at start were read. */
  caughtUp: Promise<void>
  stop: () => Promise<void>
}

export function summaryTopicName (config: Config): string { return `${config.kafka.topic_prefix}monitor-summaries` }

export async function openSummaryTopic (opts: { config: Config, log: Logger, sinceMs: number, retentionMs: number, onRecord: (value: Buffer) => void }): Promise<SummaryTopic> {
  const { config, log } = opts
  const topic = summaryTopicName(config)
  const kafka = new Kafka({ clientId: `${config.kafka.client_id}-summaries`, brokers: config.kafka.brokers, logLevel: logLevel.NOTHING, retry: { initialRetryTime: 200, maxRetryTime: 2_000, retries: 10 } })
  const admin = kafka.admin()
  await admin.connect()
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: 1, replicationFactor: config.kafka.replication_factor, configEntries: [{ name: 'cleanup.policy', value: 'compact,delete' }, { name: 'retention.ms', value: String(Math.ceil(opts.retentionMs)) }] }]
    })
  } catch (err) {
    if (!/already exists/i.test((err as Error).message)) throw err
  }
  const { start, high } = await whenTopicsReadable(admin, [topic], async () => {
    const [byTs] = await admin.fetchTopicOffsetsByTimestamp(topic, opts.sinceMs)
    const [latest] = await admin.fetchTopicOffsets(topic)
    return { start: byTs!.offset, high: Number(latest!.high) }
  }, { timeoutMs: 60_000 })
  await admin.disconnect()

  let markCaughtUp: () => void = () => {}
  const caughtUp = new Promise<void>(resolve => { markCaughtUp = resolve })
  if (high <= Number(start)) markCaughtUp()
  const producer: Producer = kafka.producer({ allowAutoTopicCreation: false })
  await producer.connect()
  const consumer: Consumer = kafka.consumer({ groupId: `${config.kafka.topic_prefix}summaries-${randomBytes(4).toString('hex')}`, sessionTimeout: 10_000, heartbeatInterval: 1_000, maxWaitTimeInMs: 100 })
  consumer.on(consumer.events.GROUP_JOIN, () => { consumer.seek({ topic, partition: 0, offset: start }) })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: false })
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) if (m.value !== null) opts.onRecord(m.value)
      const last = batch.messages[batch.messages.length - 1]
      if (last !== undefined && Number(last.offset) + 1 >= high) markCaughtUp()
    }
  })
  let failedLogged = false
  return {
    caughtUp,
    publish: async (records) => {
      if (records.length === 0) return true
      try {
        await producer.send({ topic, acks: 1, messages: records.map(r => ({ key: r.key, value: r.value })) })
        failedLogged = false
        return true
      } catch (err) {
        if (!failedLogged) log.warn({ err: (err as Error).message, records: records.length }, 'cannot publish monitor summaries; the partitions go stale until it works again')
        failedLogged = true
        return false
      }
    },
    stop: async () => {
      await Promise.race([Promise.all([consumer.disconnect(), producer.disconnect()]).catch(() => {}), new Promise(resolve => setTimeout(resolve, 3_000).unref())])
    }
  }
}
