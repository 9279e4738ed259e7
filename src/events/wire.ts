// What crosses from the gateway's main thread to the Kafka worker (kafka-worker.ts): one
// WireBatch per producer send, never one message per event. Prediction rows travel as compact
// columns (a few numbers, the id and request id in one string, interned group ids) and become JSON,
// CloudEvents headers and Kafka records in the worker; that is cheaper on the main thread than
// building and cloning the JSON strings there. Serialization is deterministic, so a batch that
// is posted again (a retry, or a fresh worker after a crash) produces the same bytes.
import { CE_TYPES } from './cloudevents.js'

/** One Kafka message as kafkajs takes it (feedback and decisions are built whole on main). */
export interface OutboundMessage {
  key: string
  value: string
  headers: Record<string, string>
  timestamp: string
}

/** One (model, variant) as the worker needs it to write prediction events. Interned on main. */
export interface LaneDef {
  /** Position in the lane table (N_LANE refers to it). */
  index: number
  model: string
  variant: string
  /** Group attributes and their values (group ids index these). */
  attributes: string[]
  values: string[][]
  width: number
}

/** Numbers per event in WireBatch.nums. */
export const NUMS = 11
export const N_LANE = 0
export const N_TS = 1
export const N_SCORE = 2
export const N_DECISION = 3
export const N_LATENCY = 4
export const N_QUEUE = 5
export const N_BATCH = 6
/** Offset of the row's group ids in groups, and of its features in features. */
export const N_GROUPS = 7
export const N_FEATURES = 8
/** The threshold the row was decided at (the variant's decision rule). */
export const N_THRESHOLD = 9
/** Rows of the row's request. */
export const N_ROWS = 10

export interface WireBatch {
  /** Events in this batch, oldest first. */
  n: number
  /** Topic index per event. */
  topics: Uint8Array
  /**
   * Prediction id and request id of every event, concatenated (WireStrings): postMessage clones
   * one string much faster than an array of 2n short ones (~1 µs per event less on the main
   * thread), and the worker takes each back as a slice without copying.
   */
  strs: string
  /** Where each string of strs starts: event k's id is [2k, 2k+1), its request id [2k+1, 2k+2). */
  cuts: Uint32Array
  /** NUMS numbers per event (see N_*). */
  nums: Float64Array
  /** Group ids of every prediction row, lane.attributes.length each. */
  groups: Int16Array
  /** Encoded features (events.include_features), lane.width per prediction row; else null. */
  features: Float32Array | null
  /** Prebuilt messages (feedback, decisions) by event index; null when there are none. */
  msgs: Array<OutboundMessage | null> | null
  /** Lanes this worker has not seen yet (set by the transport at each post). */
  newLanes: LaneDef[] | null
}

/** Options the worker needs; plain data (it is cloned into workerData). */
export interface WorkerInit {
  clientId: string
  brokers: string[]
  topics: string[]
  partitions: number
  replicationFactor: number
  /** Index of the compacted decisions topic. */
  decisionsTopic: number
  replica: string
  includeGroups: boolean
  includeFeatures: boolean
}

export type ToWorker =
  | { t: 'connect', id: number }
  | { t: 'send', id: number, batch: WireBatch }
  | { t: 'disconnect', id: number }

/**
 * A send refused for its content. oversized: indices of events that fit in no record batch
 * (checked before sending); null when the broker itself refused the batch.
 */
export interface ContentRefusal { oversized: number[] | null, limit: number }

export type FromWorker =
  | { t: 'done', id: number }
  | { t: 'error', id: number, message: string, content?: ContentRefusal }
  | { t: 'log', level: 'info' | 'warn' | 'error', obj: Record<string, unknown>, msg: string }

/** Builds WireBatch.strs and cuts, event by event ('' and '' where msgs holds a prebuilt message). */
export class WireStrings {
  readonly cuts: Uint32Array
  private strs = ''
  private k = 0

  constructor (n: number) { this.cuts = new Uint32Array(2 * n + 1) }

  add (id: string, requestId: string): void {
    this.strs += id
    this.cuts[++this.k] = this.strs.length
    this.strs += requestId
    this.cuts[++this.k] = this.strs.length
  }

  get value (): string { return this.strs }
}

/**
 * The events `pick` (indices, ascending) of a batch as a batch of their own. Groups and features
 * are shared: the offsets in nums still point into them.
 */
export function subBatch (b: WireBatch, pick: number[]): WireBatch {
  const n = pick.length
  const topics = new Uint8Array(n)
  const strs = new WireStrings(n)
  const nums = new Float64Array(n * NUMS)
  const msgs = b.msgs === null ? null : new Array<OutboundMessage | null>(n).fill(null)
  for (let j = 0; j < n; j++) {
    const k = pick[j] as number
    topics[j] = b.topics[k] as number
    strs.add(wireId(b, k), wireRequestId(b, k))
    nums.set(b.nums.subarray(k * NUMS, (k + 1) * NUMS), j * NUMS)
    if (msgs !== null) msgs[j] = (b.msgs as Array<OutboundMessage | null>)[k] ?? null
  }
  return { n, topics, strs: strs.value, cuts: strs.cuts, nums, groups: b.groups, features: b.features, msgs, newLanes: null }
}

/** Event k's prediction id. */
export function wireId (b: WireBatch, k: number): string { return b.strs.slice(b.cuts[2 * k], b.cuts[2 * k + 1]) }

/** Event k's request id. */
export function wireRequestId (b: WireBatch, k: number): string { return b.strs.slice(b.cuts[2 * k + 1], b.cuts[2 * k + 2]) }

/** A number as JSON.stringify writes it. */
function num (x: number): string { return Number.isFinite(x) ? String(x) : 'null' }

/**
 * Turns WireBatch rows into Kafka messages, byte for byte what the reference serializer
 * (test/helpers/prediction-reference.ts) writes: same keys in the same order, same headers. A test holds the
 * two equal.
 */
export class PredictionEncoder {
  private readonly lanes: Array<{ prefix: string, width: number, attrs: number, pairs: string[][] }> = []
  private readonly source: string
  private readonly replicaTail: string
  private readonly type = CE_TYPES.prediction
  private lastMs = NaN
  private lastIso = ''

  constructor (private readonly init: Pick<WorkerInit, 'replica' | 'includeGroups' | 'includeFeatures'>) {
    this.source = `fairgate/${init.replica}`
    this.replicaTail = `,"replica":${JSON.stringify(init.replica)}`
  }

  addLanes (defs: LaneDef[]): void {
    for (const d of defs) {
      this.lanes[d.index] = {
        prefix: `,"model":${JSON.stringify(d.model)},"variant":${JSON.stringify(d.variant)},"score":`,
        width: d.width,
        attrs: d.attributes.length,
        // "attr":"value" for every attribute and value, written once.
        pairs: d.attributes.map((a, i) => (d.values[i] as string[]).map(v => `${JSON.stringify(a)}:${JSON.stringify(v)}`))
      }
    }
  }

  /** ISO time of one millisecond, computed once per distinct millisecond. */
  isoTime (ms: number): string {
    if (ms !== this.lastMs) {
      this.lastMs = ms
      this.lastIso = new Date(ms).toISOString()
    }
    return this.lastIso
  }

  /** A send starts (strings need nothing per send; PredictionRecords, its faster peer, does). */
  begin (_events: number): void {}

  /** The Kafka message of prediction event k of the batch. */
  message (b: WireBatch, k: number): OutboundMessage {
    const o = k * NUMS
    const nums = b.nums
    const lane = this.lanes[nums[o + N_LANE] as number]!
    const id = wireId(b, k)
    const ts = nums[o + N_TS] as number
    let value = `{"id":${JSON.stringify(id)},"request_id":${JSON.stringify(wireRequestId(b, k))},"ts":${num(ts)}${lane.prefix}${num(nums[o + N_SCORE] as number)},"decision":${nums[o + N_DECISION] as number},"threshold":${num(nums[o + N_THRESHOLD] as number)},"latency_ms":${num(Math.round((nums[o + N_LATENCY] as number) * 1000) / 1000)},"queue_ms":${num(Math.round((nums[o + N_QUEUE] as number) * 1000) / 1000)},"batch_size":${num(nums[o + N_BATCH] as number)},"request_rows":${num(nums[o + N_ROWS] as number)}${this.replicaTail}`
    const g = nums[o + N_GROUPS] as number
    if (this.init.includeGroups) {
      value += ',"groups":{'
      let first = true
      for (let a = 0; a < lane.attrs; a++) {
        const v = b.groups[g + a] as number
        if (v < 0) continue
        if (!first) value += ','
        value += (lane.pairs[a] as string[])[v] as string
        first = false
      }
      value += '}'
    }
    if (this.init.includeFeatures && b.features !== null) {
      const at = nums[o + N_FEATURES] as number
      value += `,"features":${JSON.stringify(Array.from(b.features.subarray(at, at + lane.width)))}`
    }
    value += '}'
    const tsStr = String(ts)
    return {
      key: id,
      value,
      headers: { ce_specversion: '1.0', ce_id: id, ce_type: this.type, ce_source: this.source, ce_time: this.isoTime(ts), 'content-type': 'application/json' },
      timestamp: tsStr
    }
  }
}
