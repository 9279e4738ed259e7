// Reads the prediction and feedback topics as ONE consumer group shared by every sharded
// `fairgate monitor` (docs/scale-out.md): Kafka assigns each instance some partitions. A
// prediction and its feedback have the same key (the prediction id) and the two topics the same
// partition count, so partition p of both topics holds a prediction and its labels: an instance
// owns partition p of both (the assigner below keeps them together) and joins them locally.
//
// On gaining partition p an instance pauses it, seeks both topics' p to (now − window) by
// timestamp and rebuilds, as a single monitor does at start; on losing it, it drops it. Offsets
// are never committed: a partition kept across a rebalance is sought back to where this instance
// was, and anything before that is skipped, so no event counts twice.
import { Kafka, logLevel, AssignerProtocol, type Consumer, type EachBatchPayload, type PartitionAssigner } from 'kafkajs'
import './kafkajs-request-queue.js'
// kafkajs' record batch decoder replaced by a cheaper one of the same output (kafkajs-record-decoder.ts).
import { recordDecoder } from './kafkajs-record-decoder.js'
import type { Config } from '../config/index.js'
import type { Logger } from '../models/index.js'
import { eventValue } from './event-value.js'
import { readFeedbackRecord } from './feedback-record.js'
import type { FeedbackEvent, PredictionEvent } from './schema.js'
import { whenTopicsReadable } from './topic-offsets.js'

export interface ShardHandlers {
  /** Partition p is now this instance's, rebuilt from `since` (wall ms). */
  onAssign: (partition: number, since: number) => void
  /** Partition p was read up to where it ended when assigned. */
  onCaughtUp: (partition: number) => void
  onRevoke: (partition: number) => void
  onPrediction: (partition: number, ev: PredictionEvent) => void
  onFeedback: (partition: number, ev: FeedbackEvent) => void
  onInvalidFeedback?: (field: string) => void
}

export interface ShardConsumer {
  /** Partitions of the event topics. */
  readonly partitions: number
  /** Partitions this instance owns now. */
  owned: () => number[]
  readonly skipped: number
  stop: () => Promise<void>
}

/** The shared group of sharded monitors. */
export function shardGroup (config: Config): string { return `${config.kafka.topic_prefix}fairgate-monitor-shards` }

/**
 * Round-robin of partition numbers over the members (sorted by id), the same numbers on both
 * topics: a partition's predictions and feedback go to one member.
 */
const pairedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: 'FairgatePaired',
  version: 1,
  async assign ({ members, topics }) {
    const ids = members.map(m => m.memberId).sort()
    const counts = topics.map(t => cluster.findTopicPartitionMetadata(t).length)
    const n = Math.min(...counts)
    const out = new Map<string, Record<string, number[]>>(ids.map(id => [id, Object.fromEntries(topics.map(t => [t, [] as number[]]))]))
    for (let p = 0; p < n; p++) {
      const id = ids[p % ids.length]!
      for (const t of topics) out.get(id)![t]!.push(p)
    }
    return ids.map(id => ({ memberId: id, memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: out.get(id)!, userData: Buffer.alloc(0) }) }))
  },
  protocol ({ topics }) {
    return { name: 'FairgatePaired', metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }) }
  }
})

interface Owned {
  /** Next offset to process per topic (events before it were counted or are older than `since`). */
  next: [number, number]
  /** End offsets when assigned; the partition is caught up once both are reached. */
  end: [number, number]
  ready: boolean
  caughtUp: boolean
}

export async function consumeShard (opts: { config: Config, log: Logger, handlers: ShardHandlers, windowMs: number, now: () => number, groupId?: string }): Promise<ShardConsumer> {
  const { config, log, handlers } = opts
  const p = config.kafka.topic_prefix
  const topics = [`${p}predictions`, `${p}feedback`] as const
  const kafka = new Kafka({ clientId: `${config.kafka.client_id}-monitor-shard`, brokers: config.kafka.brokers, logLevel: logLevel.ERROR, retry: { initialRetryTime: 200, maxRetryTime: 5_000, retries: 20 } })
  if (!recordDecoder.active) log.warn({ reason: recordDecoder.reason }, 'monitor shard decodes with kafkajs as shipped: more CPU per event')
  const admin = kafka.admin()
  await admin.connect()
  const partitions = await whenTopicsReadable(admin, [...topics], async () => {
    const counts = await Promise.all(topics.map(async t => (await admin.fetchTopicOffsets(t)).length))
    if (counts[0] !== counts[1]) log.warn({ predictions: counts[0], feedback: counts[1] }, 'the prediction and feedback topics have different partition counts: labels of some predictions land on another shard and are not joined')
    return Math.min(...counts)
  }, { timeoutMs: Infinity, onWaiting: () => { log.warn({ topics }, 'waiting for the event topics to exist') } })

  const owned = new Map<number, Owned>()
  let skipped = 0
  let stopped = false
  const consumer: Consumer = kafka.consumer({ groupId: opts.groupId ?? shardGroup(config), sessionTimeout: 10_000, heartbeatInterval: 1_000, rebalanceTimeout: 20_000, maxWaitTimeInMs: 200, partitionAssigners: [pairedAssigner] })

  /** Seeks a newly owned partition to (now − window) on both topics, then lets it be fetched. */
  const take = async (part: number, gen: Owned): Promise<void> => {
    const since = opts.now() - opts.windowMs
    for (let i = 0; i < 2; i++) {
      const topic = topics[i]!
      const [byTs, latest] = await Promise.all([admin.fetchTopicOffsetsByTimestamp(topic, since), admin.fetchTopicOffsets(topic)])
      const start = Number(byTs.find(o => o.partition === part)?.offset ?? '0')
      const high = Number(latest.find(o => o.partition === part)?.high ?? '0')
      gen.next[i] = start
      gen.end[i] = high
    }
    if (owned.get(part) !== gen || stopped) return
    handlers.onAssign(part, since)
    gen.ready = true
    for (let i = 0; i < 2; i++) consumer.seek({ topic: topics[i]!, partition: part, offset: String(gen.next[i]) })
    checkCaughtUp(part, gen)
    consumer.resume(topics.map(topic => ({ topic, partitions: [part] })))
  }

  const checkCaughtUp = (part: number, o: Owned): void => {
    if (o.caughtUp || !o.ready || o.next[0] < o.end[0] || o.next[1] < o.end[1]) return
    o.caughtUp = true
    handlers.onCaughtUp(part)
  }

  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    const mine = new Set(e.payload.memberAssignment[topics[0]] ?? [])
    for (const part of [...owned.keys()]) {
      if (!mine.has(part)) { owned.delete(part); handlers.onRevoke(part) }
    }
    for (const part of mine) {
      const o = owned.get(part)
      if (o !== undefined && o.ready) {
        // Kept across the rebalance: carry on from where this instance was.
        for (let i = 0; i < 2; i++) consumer.seek({ topic: topics[i]!, partition: part, offset: String(o.next[i]) })
        continue
      }
      if (o !== undefined) continue // its seek is still being looked up
      const gen: Owned = { next: [0, 0], end: [0, 0], ready: false, caughtUp: false }
      owned.set(part, gen)
      // Paused until sought, so nothing is fetched from the default offset in between.
      consumer.pause(topics.map(topic => ({ topic, partitions: [part] })))
      take(part, gen).catch((err: Error) => {
        log.error({ partition: part, err: err.message }, 'cannot seek a newly assigned partition; leaving the group to be assigned again')
        void consumer.disconnect()
      })
    }
  })
  await consumer.connect()
  await consumer.subscribe({ topics: [...topics], fromBeginning: false })
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }: EachBatchPayload) => {
      const o = owned.get(batch.partition)
      if (o === undefined || !o.ready) return
      const ti = batch.topic === topics[0] ? 0 : 1
      const part = batch.partition
      for (const m of batch.messages) {
        const off = Number(m.offset)
        if (off < o.next[ti]!) continue // before the seek, or read before a rebalance
        o.next[ti] = off + 1
        const ev = eventValue(m.value)
        if (ev === null) { skipped++; continue }
        if (ti === 0) { handlers.onPrediction(part, ev as PredictionEvent); continue }
        const fb = readFeedbackRecord(ev)
        if ('invalid' in fb) { skipped++; handlers.onInvalidFeedback?.(fb.invalid) } else handlers.onFeedback(part, fb)
      }
      // An empty fetch at the end still says where the partition ends.
      const hw = Number(batch.highWatermark)
      if (batch.messages.length === 0 && hw <= o.next[ti]!) o.next[ti] = Math.max(o.next[ti]!, hw)
      checkCaughtUp(part, o)
    }
  })
  return {
    partitions,
    owned: () => [...owned.entries()].filter(([, o]) => o.ready).map(([p]) => p),
    get skipped () { return skipped },
    stop: async () => {
      stopped = true
      await consumer.disconnect()
      await admin.disconnect().catch(() => {})
    }
  }
}
