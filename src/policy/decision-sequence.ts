// Decisions ordered by the log. Every state-changing decision carries its model's sequence
// number, the writer's fencing epoch, `from`, `to` and the last-known-good variant; a process
// applies the decisions it reads in offset order and accepts one only if it follows the state it
// holds (compare-and-set: seq = held seq + 1, from = held active, epoch ≥ held epoch). Nothing is
// arbitrated by wall clock. The first record read for a model is adopted whole: on a compacted
// topic it is the model's last decision, which is the whole state (active and last-known-good).
// A writer stamps its decision from the log's state plus its own not yet read back, and
// recognises its own record by id when it returns, so each decision is listed and counted once.
import { randomBytes } from 'node:crypto'
import type { DecisionEvent } from '../events/index.js'

interface Held {
  seq: number
  epoch: number
  active: string
  lastKnownGood: string
  /** Set once a record of this model was read: until then the first one is adopted whole. */
  fromLog: boolean
}

export type Verdict =
  | { accepted: true, own: boolean, adopted: boolean }
  | { accepted: false, own: boolean, reason: string, held: { seq: number, epoch: number, active: string } }

export class DecisionSequence {
  private readonly held = new Map<string, Held>()
  /** Own decisions published and not yet read back, per model, in the order they were stamped. */
  private readonly pending = new Map<string, Set<string>>()
  private nextSeqOf = new Map<string, number>()

  constructor (private readonly writer: string, private epochOf: () => number = () => 0) {}

  /** The starting state before any record is read (the policy's first variant). */
  init (model: string, active: string): void {
    if (!this.held.has(model)) this.held.set(model, { seq: 0, epoch: 0, active, lastKnownGood: active, fromLog: false })
  }

  state (model: string): Readonly<Held> | undefined { return this.held.get(model) }

  /**
   * Stamps a new decision of this process: id, seq, epoch and last-known-good. An automatic
   * decision carries the leader's fencing epoch; an admin's (any process may take one) carries
   * the epoch held, so it is ordered by its sequence number alone.
   */
  stamp (d: DecisionEvent, lastKnownGood: string): DecisionEvent {
    const h = this.held.get(d.model)
    const id = `${this.writer}:${randomBytes(6).toString('hex')}`
    const epoch = d.rule === 'admin' ? Math.max(h?.epoch ?? 0, this.epochOf()) : this.epochOf()
    if (d.action === 'alert') return { ...d, id, seq: h?.seq ?? 0, epoch, last_known_good: lastKnownGood }
    const seq = Math.max(h?.seq ?? 0, this.nextSeqOf.get(d.model) ?? 0) + 1
    this.nextSeqOf.set(d.model, seq)
    return { ...d, id, seq, epoch, last_known_good: lastKnownGood }
  }

  /** Marks a stamped decision as published (it will come back from the log). */
  published (d: DecisionEvent): void {
    let p = this.pending.get(d.model)
    if (p === undefined) this.pending.set(d.model, p = new Set())
    p.add(d.id!)
  }

  /** Without a log: the process's own decision is the state at once. */
  commit (d: DecisionEvent): void {
    const h = this.held.get(d.model)
    if (h === undefined || d.action === 'alert') return
    Object.assign(h, { seq: d.seq!, epoch: d.epoch ?? h.epoch, active: d.to, lastKnownGood: d.last_known_good ?? h.lastKnownGood })
  }

  /** A record read from the log, in offset order. */
  follow (d: DecisionEvent): Verdict {
    const own = d.id !== undefined && this.pending.get(d.model)?.delete(d.id) === true
    const h = this.held.get(d.model)
    if (h === undefined) return { accepted: false, own, reason: 'unknown model', held: { seq: 0, epoch: 0, active: '' } }
    if (d.action === 'alert') return { accepted: true, own, adopted: false }
    if (typeof d.seq !== 'number' || !Number.isInteger(d.seq)) return { accepted: false, own, reason: 'no sequence number', held: this.summary(h) }
    if (!h.fromLog) {
      Object.assign(h, { seq: d.seq, epoch: d.epoch ?? 0, active: d.to, lastKnownGood: d.last_known_good ?? d.to, fromLog: true })
      if ((this.nextSeqOf.get(d.model) ?? 0) < d.seq) this.nextSeqOf.set(d.model, d.seq)
      return { accepted: true, own, adopted: true }
    }
    const epoch = d.epoch ?? 0
    let reason: string | null = null
    if (epoch < h.epoch) reason = `epoch ${epoch} is older than ${h.epoch}`
    else if (d.seq !== h.seq + 1) reason = `seq ${d.seq} does not follow ${h.seq}`
    else if (d.from !== h.active) reason = `from "${d.from}" is not the active "${h.active}"`
    if (reason !== null) return { accepted: false, own, reason, held: this.summary(h) }
    Object.assign(h, { seq: d.seq, epoch, active: d.to, lastKnownGood: d.last_known_good ?? h.lastKnownGood })
    // A writer that lost a race stamps its next decision after the log's, not after its own.
    if ((this.nextSeqOf.get(d.model) ?? 0) < d.seq || this.pending.get(d.model)?.size === 0) this.nextSeqOf.set(d.model, d.seq)
    return { accepted: true, own, adopted: false }
  }

  private summary (h: Held): { seq: number, epoch: number, active: string } { return { seq: h.seq, epoch: h.epoch, active: h.active } }
}
