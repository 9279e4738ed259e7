// Recent predictions by id, so delayed feedback (the true label) can be joined to the row it
// labels. Bounded twice: a fixed ring of slots (the oldest is forgotten when full) and a TTL.
// Per slot only numbers are kept — interned model, variant and group ids, the decision — never
// the raw features or label strings.
//
// Two ways to find a slot. PredictionStore (`fairgate monitor`, fed from Kafka) takes ids of any
// replica in any order, so it keeps a Map from id to slot. OwnPredictionStore (the gateway)
// only holds ids its own process made, put in the order they were made: their sequence numbers
// increase around the ring, so a lookup is a binary search and a put writes two numbers. That
// keeps the Map and the id strings off the hot path: the Map's set and delete, and the strings
// it kept alive into the old generation, were about 3 µs per row (half the gateway's cost of a
// 64-row binary request).
import { ownPredictionSequence, predictionIdTime } from '../prediction-id.js'

export interface StoredPrediction {
  model: number
  variant: number
  decision: number
  score: number
  ts: number
  /** Group ids, one per attribute of the model (NO_GROUP where unlabelled). */
  groups: Int16Array
}

/** The slots both stores share; a subclass says how an id finds its slot. */
abstract class PredictionSlots {
  private readonly model: Int16Array
  private readonly variant: Int16Array
  private readonly decision: Uint8Array
  private readonly score: Float32Array
  protected readonly ts: Float64Array
  private readonly groups: Int16Array
  private readonly labelled: Uint8Array
  protected next = 0

  constructor (readonly capacity: number, readonly ttlMs: number, readonly maxAttributes: number) {
    this.model = new Int16Array(capacity)
    this.variant = new Int16Array(capacity)
    this.decision = new Uint8Array(capacity)
    this.score = new Float32Array(capacity)
    this.ts = new Float64Array(capacity)
    this.groups = new Int16Array(capacity * maxAttributes)
    this.labelled = new Uint8Array(capacity)
  }

  /** The slot of `id`, or -1 when it is not held. */
  protected abstract slotOf (id: string): number

  /** Fills the next slot of the ring and returns it. */
  protected write (ts: number, model: number, variant: number, decision: number, score: number, groupIds: Int16Array, groupAt: number, attributes: number): number {
    const slot = this.next
    this.next = slot + 1 === this.capacity ? 0 : slot + 1
    this.model[slot] = model
    this.variant[slot] = variant
    this.decision[slot] = decision
    this.score[slot] = score
    this.ts[slot] = ts
    this.labelled[slot] = 0
    const base = slot * this.maxAttributes
    for (let a = 0; a < this.maxAttributes; a++) this.groups[base + a] = a < attributes ? groupIds[groupAt + a] as number : -1
    return slot
  }

  /** Whether the prediction is known and within the TTL (no copy made). */
  has (id: string, nowMs: number): boolean {
    const slot = this.slotOf(id)
    return slot >= 0 && nowMs - (this.ts[slot] as number) <= this.ttlMs
  }

  /** The stored prediction, or undefined when unknown, evicted or older than the TTL. */
  get (id: string, nowMs: number): StoredPrediction | undefined {
    const slot = this.slotOf(id)
    if (slot < 0) return undefined
    const ts = this.ts[slot] as number
    if (nowMs - ts > this.ttlMs) return undefined
    const base = slot * this.maxAttributes
    return {
      model: this.model[slot] as number,
      variant: this.variant[slot] as number,
      decision: this.decision[slot] as number,
      score: this.score[slot] as number,
      ts,
      groups: this.groups.slice(base, base + this.maxAttributes)
    }
  }

  /** Marks the prediction labelled; false when it already was (a label is joined once). */
  markLabelled (id: string): boolean {
    const slot = this.slotOf(id)
    if (slot < 0 || this.labelled[slot] === 1) return false
    this.labelled[slot] = 1
    return true
  }
}

/** Predictions of any id, put in any order (what `fairgate monitor` reads from Kafka). */
export class PredictionStore extends PredictionSlots {
  private readonly index = new Map<string, number>()
  private readonly ids: Array<string | null>

  constructor (capacity: number, ttlMs: number, maxAttributes: number) {
    super(capacity, ttlMs, maxAttributes)
    this.ids = new Array<string | null>(capacity).fill(null)
  }

  get size (): number { return this.index.size }

  put (id: string, ts: number, model: number, variant: number, decision: number, score: number, groupIds: Int16Array, groupAt: number, attributes: number): void {
    const slot = this.next
    const old = this.ids[slot]
    if (old !== null && old !== undefined) this.index.delete(old)
    this.ids[slot] = id
    this.index.set(id, slot)
    this.write(ts, model, variant, decision, score, groupIds, groupAt, attributes)
  }

  protected slotOf (id: string): number {
    return this.index.get(id) ?? -1
  }
}

/**
 * Predictions whose ids this process made (reservePredictionIds, predictionId), put in the
 * order their sequence numbers were reserved, with the wall time their id carries. An id is
 * found by its sequence number and then checked whole: this process's prefix, the same time.
 */
export class OwnPredictionStore extends PredictionSlots {
  private readonly seqs: Float64Array
  /** Slots filled so far (up to capacity): the ring's oldest slot is `next` once it is full. */
  private filled = 0

  constructor (capacity: number, ttlMs: number, maxAttributes: number) {
    super(capacity, ttlMs, maxAttributes)
    this.seqs = new Float64Array(capacity)
  }

  get size (): number { return this.filled }

  /** `seq` must exceed every sequence number put before; one that does not (the 2^50 wrap) starts the ring afresh. */
  put (seq: number, ts: number, model: number, variant: number, decision: number, score: number, groupIds: Int16Array, groupAt: number, attributes: number): void {
    if (this.filled > 0) {
      const last = this.next === 0 ? this.capacity - 1 : this.next - 1
      if (seq <= (this.seqs[last] as number)) { this.filled = 0; this.next = 0 }
    }
    this.seqs[this.next] = seq
    this.write(ts, model, variant, decision, score, groupIds, groupAt, attributes)
    if (this.filled < this.capacity) this.filled++
  }

  protected slotOf (id: string): number {
    const seq = ownPredictionSequence(id)
    if (seq < 0 || this.filled === 0) return -1
    // The ring in put order: `filled` slots from the oldest, sequence numbers increasing.
    const cap = this.capacity
    const oldest = this.filled < cap ? 0 : this.next
    let lo = 0
    let hi = this.filled - 1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      let slot = oldest + mid
      if (slot >= cap) slot -= cap
      const s = this.seqs[slot] as number
      if (s === seq) return this.ts[slot] === predictionIdTime(id) ? slot : -1
      if (s < seq) lo = mid + 1
      else hi = mid - 1
    }
    return -1
  }
}
