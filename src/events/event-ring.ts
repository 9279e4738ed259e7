// The bounded event buffer: a fixed ring of columns. A prediction event is held as what its
// Kafka message needs and nothing more — its wire numbers (the WireBatch layout of wire.ts), its
// prediction and request ids, its interned group ids and, only with events.include_features, its
// encoded features — never the job, so a buffered event does not pin the request, its reply or
// its input. Feedback and decision events are prebuilt messages. Bounded twice: in events
// (events.buffer_size) and in bytes (events.buffer_bytes); past either, the oldest events make
// room (recent events matter most to a fairness monitor) and the caller counts them as dropped.
import { NUMS, type OutboundMessage } from './wire.js'

export type { OutboundMessage }

/** Heap an event costs beyond its strings: its columns and two array slots. */
const EVENT_OVERHEAD = NUMS * 8 + 1 + 4 + 2 * 8
/** A V8 string's header, counted once per string held. */
const STRING_OVERHEAD = 16

function messageBytes (m: OutboundMessage): number {
  let n = 4 * STRING_OVERHEAD + m.key.length + m.value.length + m.timestamp.length
  for (const k in m.headers) n += 2 * STRING_OVERHEAD + k.length + (m.headers[k] as string).length
  return n
}

export class EventRing {
  readonly capacity: number
  readonly topic: Uint8Array
  /** NUMS numbers per prediction event, as WireBatch.nums lays them out (N_GROUPS, N_FEATURES unused here). */
  readonly nums: Float64Array
  readonly ids: Array<string | null>
  readonly requestIds: Array<string | null>
  /** `stride` group ids per event (the most attributes of any model seen so far). */
  groups: Int16Array
  stride = 0
  /** Encoded features per event (events.include_features only). */
  readonly features: Array<Float32Array | null>
  readonly msgs: Array<OutboundMessage | null>
  /** Bytes each entry is counted as, and their sum. */
  private readonly cost: Int32Array
  bytes = 0
  private head = 0
  size = 0

  constructor (capacity: number, readonly maxBytes: number) {
    this.capacity = capacity
    this.topic = new Uint8Array(capacity)
    this.nums = new Float64Array(capacity * NUMS)
    this.ids = new Array<string | null>(capacity).fill(null)
    this.requestIds = new Array<string | null>(capacity).fill(null)
    this.groups = new Int16Array(0)
    this.features = new Array<Float32Array | null>(capacity).fill(null)
    this.msgs = new Array<OutboundMessage | null>(capacity).fill(null)
    this.cost = new Int32Array(capacity)
  }

  /**
   * Makes room for one event of `bytes` and returns its slot. Evicted events' topics go to
   * `evicted` (counted by the caller); returns -1 when the event alone is over the byte bound.
   */
  reserve (bytes: number, evicted: Int32Array): number {
    if (bytes > this.maxBytes) return -1
    while (this.size === this.capacity || (this.size > 0 && this.bytes + bytes > this.maxBytes)) {
      evicted[this.topic[this.head] as number]!++
      this.drop(1)
    }
    const i = (this.head + this.size) % this.capacity
    this.cost[i] = bytes
    this.bytes += bytes
    this.size++
    return i
  }

  /** Widens the group column for a model with more attributes (rare: once per such model). */
  ensureStride (attrs: number): void {
    if (attrs <= this.stride) return
    const wider = new Int16Array(this.capacity * attrs)
    for (let i = 0; i < this.capacity; i++) wider.set(this.groups.subarray(i * this.stride, (i + 1) * this.stride), i * attrs)
    this.groups = wider
    this.stride = attrs
  }

  /** Buffers a prebuilt message; returns false when it alone exceeds the byte bound. */
  pushMessage (topic: number, msg: OutboundMessage, evicted: Int32Array): boolean {
    const i = this.reserve(EVENT_OVERHEAD + messageBytes(msg), evicted)
    if (i < 0) return false
    this.topic[i] = topic
    this.msgs[i] = msg
    return true
  }

  /** Bytes a prediction event with these strings and features is counted as. */
  static predictionBytes (id: string, requestId: string, features: number, attrs: number): number {
    return EVENT_OVERHEAD + 2 * STRING_OVERHEAD + id.length + requestId.length + attrs * 2 + (features > 0 ? 64 + features * 4 : 0)
  }

  /** Index of the k-th oldest entry (k < size). */
  at (k: number): number { return (this.head + k) % this.capacity }

  /** Removes the n oldest entries. */
  drop (n: number): void {
    for (let k = 0; k < n; k++) {
      const i = this.head
      this.ids[i] = null
      this.requestIds[i] = null
      this.features[i] = null
      this.msgs[i] = null
      this.bytes -= this.cost[i] as number
      this.head = (this.head + 1) % this.capacity
    }
    this.size -= n
  }
}
