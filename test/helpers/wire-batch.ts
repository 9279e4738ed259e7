// Synthetic WireBatches, laid out as KafkaPublisher.takeBatch lays them out: prediction rows as
// columns, prebuilt messages (feedback, decisions) in msgs. For tests and load tests of the
// Kafka worker side without a gateway in front.
import type { OutboundMessage } from '../../src/events/event-ring.js'
import { NUMS, N_BATCH, N_DECISION, N_GROUPS, N_LANE, N_LATENCY, N_QUEUE, N_SCORE, N_THRESHOLD, N_TS, WireStrings, type LaneDef, type WireBatch } from '../../src/events/wire.js'

export interface SyntheticRow {
  id: string
  requestId: string
  ts: number
  score: number
  /** Group value per attribute of the lane, -1 where unlabelled. */
  groups: number[]
  lane?: number
  decision?: number
  latencyMs?: number
  queueMs?: number
  batchSize?: number
}

/** A prebuilt message and its topic index. */
export interface SyntheticMessage { topic: number, msg: OutboundMessage }

export function wireBatch (events: Array<SyntheticRow | SyntheticMessage>, newLanes: LaneDef[] | null = null): WireBatch {
  const n = events.length
  const topics = new Uint8Array(n)
  const strs = new WireStrings(n)
  const nums = new Float64Array(n * NUMS)
  const groups: number[] = []
  let msgs: Array<OutboundMessage | null> | null = null
  events.forEach((e, k) => {
    if ('msg' in e) {
      topics[k] = e.topic
      msgs ??= new Array<OutboundMessage | null>(n).fill(null)
      msgs[k] = e.msg
      strs.add('', '')
      return
    }
    const o = k * NUMS
    strs.add(e.id, e.requestId)
    nums[o + N_LANE] = e.lane ?? 0
    nums[o + N_TS] = e.ts
    nums[o + N_SCORE] = e.score
    nums[o + N_DECISION] = e.decision ?? (e.score >= 0.5 ? 1 : 0)
    nums[o + N_THRESHOLD] = 0.5
    nums[o + N_LATENCY] = e.latencyMs ?? 1.5
    nums[o + N_QUEUE] = e.queueMs ?? 0
    nums[o + N_BATCH] = e.batchSize ?? 1
    nums[o + N_GROUPS] = groups.length
    groups.push(...e.groups)
  })
  return { n, topics, strs: strs.value, cuts: strs.cuts, nums, groups: Int16Array.from(groups), features: null, msgs, newLanes }
}

/** The income model's lanes as the publisher interns them (full, distilled, int8). */
export const INCOME_LANES: LaneDef[] = ['full', 'distilled', 'int8'].map((variant, index) => ({
  index,
  model: 'income',
  variant,
  attributes: ['sex', 'race'],
  values: [['Female', 'Male'], ['Amer-Indian-Eskimo', 'Asian-Pac-Islander', 'Black', 'Other', 'White']],
  width: 112
}))
