// Recent predictions by id, so delayed feedback (the true label) can be joined to the row it
// labels. Bounded twice: a fixed ring of slots (the oldest is forgotten when full) and a TTL.
// Per slot only numbers are kept — interned model, variant and group ids, the decision — never
// the raw features or label strings.

export interface StoredPrediction {
  model: number
  variant: number
  decision: number
  score: number
  ts: number
  /** Group ids, one per attribute of the model (NO_GROUP where unlabelled). */
  groups: Int16Array
}

export class PredictionStore {
  private readonly index = new Map<string, number>()
  private readonly ids: Array<string | null>
  private readonly model: Int16Array
  private readonly variant: Int16Array
  private readonly decision: Uint8Array
  private readonly score: Float32Array
  private readonly ts: Float64Array
  private readonly groups: Int16Array
  private readonly labelled: Uint8Array
  private next = 0

  constructor (readonly capacity: number, readonly ttlMs: number, readonly maxAttributes: number) {
    this.ids = new Array<string | null>(capacity).fill(null)
    this.model = new Int16Array(capacity)
    this.variant = new Int16Array(capacity)
    this.decision = new Uint8Array(capacity)
    this.score = new Float32Array(capacity)
    this.ts = new Float64Array(capacity)
    this.groups = new Int16Array(capacity * maxAttributes)
    this.labelled = new Uint8Array(capacity)
  }

  get size (): number { return this.index.size }

  put (id: string, ts: number, model: number, variant: number, decision: number, score: number, groupIds: Int16Array, groupAt: number, attributes: number): void {
    const slot = this.next
    this.next = (slot + 1) % this.capacity
    const old = this.ids[slot]
    if (old !== null && old !== undefined) this.index.delete(old)
    this.ids[slot] = id
    this.index.set(id, slot)
    this.model[slot] = model
    this.variant[slot] = variant
    this.decision[slot] = decision
    this.score[slot] = score
    this.ts[slot] = ts
    this.labelled[slot] = 0
    const base = slot * this.maxAttributes
    for (let a = 0; a < this.maxAttributes; a++) this.groups[base + a] = a < attributes ? groupIds[groupAt + a] as number : -1
  }

  /** Whether the prediction is known and within the TTL (no copy made). */
  has (id: string, nowMs: number): boolean {
    const slot = this.index.get(id)
    return slot !== undefined && nowMs - (this.ts[slot] as number) <= this.ttlMs
  }

  /** The stored prediction, or undefined when unknown, evicted or older than the TTL. */
  get (id: string, nowMs: number): StoredPrediction | undefined {
    const slot = this.index.get(id)
    if (slot === undefined) return undefined
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
    const slot = this.index.get(id)
    if (slot === undefined || this.labelled[slot] === 1) return false
    this.labelled[slot] = 1
    return true
  }
}
