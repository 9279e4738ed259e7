// The bounded event buffer: a fixed ring of parallel arrays (topic, job + row, or a prebuilt
// message), so buffering a prediction event allocates nothing; the payload is serialized only
// when it is sent. When full, the oldest event makes room (recent events matter most to a
// fairness monitor) and the caller counts it as dropped.
import type { InferJob } from '../batching/index.js'

export interface OutboundMessage {
  key: string
  value: string
  headers: Record<string, string>
  timestamp: string
}

export class EventRing {
  readonly capacity: number
  readonly topic: Uint8Array
  readonly jobs: Array<InferJob | null>
  readonly rows: Int32Array
  readonly msgs: Array<OutboundMessage | null>
  private head = 0
  size = 0

  constructor (capacity: number) {
    this.capacity = capacity
    this.topic = new Uint8Array(capacity)
    this.jobs = new Array<InferJob | null>(capacity).fill(null)
    this.rows = new Int32Array(capacity)
    this.msgs = new Array<OutboundMessage | null>(capacity).fill(null)
  }

  /** Appends; returns the topic index of an evicted oldest event, or -1. */
  push (topic: number, job: InferJob | null, row: number, msg: OutboundMessage | null): number {
    let evicted = -1
    if (this.size === this.capacity) {
      evicted = this.topic[this.head] as number
      this.clear(this.head)
      this.head = (this.head + 1) % this.capacity
      this.size--
    }
    const i = (this.head + this.size) % this.capacity
    this.topic[i] = topic
    this.jobs[i] = job
    this.rows[i] = row
    this.msgs[i] = msg
    this.size++
    return evicted
  }

  /** Index of the k-th oldest entry (k < size). */
  at (k: number): number { return (this.head + k) % this.capacity }

  /** Removes the n oldest entries. */
  drop (n: number): void {
    for (let k = 0; k < n; k++) {
      this.clear(this.head)
      this.head = (this.head + 1) % this.capacity
    }
    this.size -= n
  }

  private clear (i: number): void {
    this.jobs[i] = null
    this.msgs[i] = null
  }
}
