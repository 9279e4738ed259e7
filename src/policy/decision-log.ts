// The audit log of decisions, automatic and manual, newest first. Bounded: the compacted Kafka
// topic is the durable record; this is what GET /v1/decisions shows of this process's view.
import type { DecisionEvent } from '../events/index.js'

export interface DecisionRecord extends DecisionEvent {
  /** local: taken here; remote: followed from the decisions topic. */
  origin: 'local' | 'remote'
  /** Set on an own decision the log refused (another decision took its sequence number first). */
  rejected?: string
}

export class DecisionLog {
  private readonly items: DecisionRecord[] = []
  constructor (private readonly capacity = 1000) {}

  add (d: DecisionRecord): void {
    this.items.push(d)
    if (this.items.length > this.capacity) this.items.shift()
  }

  /** Marks a listed decision as refused by the log (it stays listed, once). */
  reject (id: string, reason: string): void {
    for (let i = this.items.length - 1; i >= 0; i--) if (this.items[i]!.id === id) { this.items[i]!.rejected = reason; return }
  }

  /** Newest first, optionally for one model. */
  list (model?: string, limit = 100): DecisionRecord[] {
    const out: DecisionRecord[] = []
    for (let i = this.items.length - 1; i >= 0 && out.length < limit; i--) {
      const d = this.items[i]!
      if (model === undefined || d.model === model) out.push(d)
    }
    return out
  }
}
