// One writer of automatic decisions, elected through Kafka itself: every process that may
// evaluate policies joins one consumer group over a single-partition lease topic, and the member
// assigned partition 0 leads. The assignment prefers `fairgate monitor` (it sees every replica's
// traffic), then the lowest member id. On taking the lead a member appends a lease record; that
// record's offset + 1 is its fencing epoch, so epochs grow with every new leader and followers
// refuse decisions from an older one. A member stops leading as soon as a rebalance starts.
// Takeover after a leader dies takes the session timeout plus one rebalance.
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs'
import './kafkajs-request-queue.js'
import type { Config } from '../config/index.js'
import type { Logger } from '../models/index.js'

export type LeaderRole = 'monitor' | 'gateway'

export interface Leadership {
  isLeader: () => boolean
  /** The fencing epoch of this member's current lead (0 when not leading). */
  epoch: () => number
  stop: () => Promise<void>
}

/** How long the group waits for a silent member before another takes over. */
export const LEADER_SESSION_MS = 6_000

interface MemberInfo { memberId: string, role: LeaderRole }

/** The assigner: partition 0 to the first monitor, else the lowest member id. */
export function pickLeader (members: MemberInfo[]): string | undefined {
  const sorted = [...members].sort((a, b) => (a.role === b.role ? 0 : a.role === 'monitor' ? -1 : 1) || (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0))
  return sorted[0]?.memberId
}

export async function electLeader (opts: { config: Config, log: Logger, role: LeaderRole, onChange?: (leader: boolean) => void }): Promise<Leadership> {
  const { config, log, role } = opts
  const topic = `${config.kafka.topic_prefix}leader`
  const kafka = new Kafka({ clientId: `${config.kafka.client_id}-leader`, brokers: config.kafka.brokers, logLevel: logLevel.NOTHING, retry: { initialRetryTime: 200, maxRetryTime: 2_000, retries: 10 } })
  const admin = kafka.admin()
  await admin.connect()
  try {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1, replicationFactor: config.kafka.replication_factor }] })
  } catch (err) {
    if (!/already exists/i.test((err as Error).message)) throw err
  } finally {
    await admin.disconnect().catch(() => {})
  }
  const { AssignerProtocol } = await import('kafkajs')
  let leading = false
  let epoch = 0
  let stopped = false
  const set = (next: boolean, e: number): void => {
    if (next === leading && e === epoch) return
    leading = next
    epoch = e
    log.info({ role, leader: next, epoch: e }, next ? 'leading policy decisions' : 'not leading policy decisions')
    opts.onChange?.(next)
  }
  const producer: Producer = kafka.producer({ allowAutoTopicCreation: false })
  await producer.connect()
  const consumer: Consumer = kafka.consumer({
    groupId: `${config.kafka.topic_prefix}fairgate-leader`,
    sessionTimeout: LEADER_SESSION_MS,
    heartbeatInterval: 1_000,
    rebalanceTimeout: 10_000,
    maxWaitTimeInMs: 1_000,
    retry: { initialRetryTime: 300, maxRetryTime: 5_000, retries: 10, restartOnFailure: async () => !stopped },
    partitionAssigners: [() => ({
      name: 'FairgateLeader',
      version: 1,
      async assign ({ members, topics }) {
        const infos = members.map(m => {
          let r: LeaderRole = 'gateway'
          try { r = JSON.parse(AssignerProtocol.MemberMetadata.decode(m.memberMetadata)?.userData.toString() ?? '{}').role === 'monitor' ? 'monitor' : 'gateway' } catch {}
          return { memberId: m.memberId, role: r }
        })
        const lead = pickLeader(infos)
        return members.map(m => ({
          memberId: m.memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: m.memberId === lead ? Object.fromEntries(topics.map(t => [t, [0]])) : {}, userData: Buffer.alloc(0) })
        }))
      },
      protocol ({ topics }) {
        return { name: 'FairgateLeader', metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.from(JSON.stringify({ role })) }) }
      }
    })]
  })
  consumer.on(consumer.events.REBALANCING, () => { set(false, 0) })
  consumer.on(consumer.events.CRASH, () => { set(false, 0) })
  consumer.on(consumer.events.STOP, () => { set(false, 0) })
  let joined: () => void = () => {}
  const firstJoin = new Promise<void>(resolve => { joined = resolve })
  // The lease send in flight: stop() waits for it, or a send racing the disconnect reconnects.
  let lease: Promise<unknown> = Promise.resolve()
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    if (stopped) return
    const mine = payload.memberAssignment[topic]?.includes(0) === true
    if (!mine) { set(false, 0); joined(); return }
    // The lease record's offset is the epoch: appended after every earlier leader's.
    lease = producer.send({ topic, messages: [{ key: 'lease', value: JSON.stringify({ replica: config.replica, role, member: payload.memberId }) }] })
      .then(([r]) => { if (!stopped) set(true, Number(r!.baseOffset ?? r!.offset ?? 0) + 1) })
      .catch((err: Error) => { log.error({ err: err.message }, 'cannot append the leader lease; not leading') })
    void lease.then(joined)
  })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: false })
  await consumer.run({ autoCommit: false, eachMessage: async () => {} })
  // Wait (bounded) for the first join and its lease, so isLeader() is settled on return and a
  // stop() does not race a join in progress.
  await Promise.race([firstJoin, new Promise(resolve => setTimeout(resolve, 15_000).unref())])
  return {
    isLeader: () => leading,
    epoch: () => leading ? epoch : 0,
    stop: async () => {
      stopped = true
      set(false, 0)
      await Promise.race([lease.catch(() => {}), new Promise(resolve => setTimeout(resolve, 3_000).unref())])
      await Promise.race([Promise.all([consumer.disconnect(), producer.disconnect()]).catch(() => {}), new Promise(resolve => setTimeout(resolve, 3_000).unref())])
    }
  }
}
