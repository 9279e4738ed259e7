// A yes/no decision on a measured cost against a limit, with hysteresis: whether a variant's small
// batches run on the HTTP thread (models.inline_max_ms), and whether a variant's batches are short
// enough for the inference thread kept for short batches (SHORT_RUN_MS). Deciding either once from warm-up timings made the start bimodal: `full` measures about
// 0.24 ms for one row against the 0.25 ms limit, so a start on a quiet moment ran its one-row
// batches on the HTTP thread (the thread that parses every request), batches stayed at one row,
// and the whole start served at about half the rate of one that sent them to the threads; and a
// variant whose one-row batches were short while its full ones were long kept the kept thread away
// from its own long batches. Now the gate turns on only while the estimate is clearly under the limit (limit × (1 − margin))
// and off only once it is clearly over (limit × (1 + margin)), and either crossing must last
// holdMs: a noisy estimate near the limit keeps whatever the gate was.
import type { Clock } from '../clock.js'

/** The band around the limit inside which the gate keeps its state, as a fraction of the limit. */
export const GATE_MARGIN = 0.2
/** How long the estimate must stay past the band before the gate flips. */
export const GATE_HOLD_MS = 2_000

/** `on` means the estimate is within the limit (runs inline; is a short batch). */
export class HysteresisGate {
  on = false
  limitMs = 0
  /** Whether start() has set the limit. */
  started = false
  /** When the estimate last crossed to the far side of the band (NaN: it is not there). */
  private crossedAt = NaN

  constructor (private readonly clock: Pick<Clock, 'now'>, readonly margin = GATE_MARGIN, readonly holdMs = GATE_HOLD_MS) {
    if (!(margin >= 0 && margin < 1)) throw new Error('HysteresisGate: margin must be in [0, 1)')
    if (!(holdMs >= 0)) throw new Error('HysteresisGate: holdMs must be ≥ 0')
  }

  /** The start-up decision: on only for an estimate clearly within the limit. */
  start (limitMs: number, estimateMs: number): void {
    this.limitMs = limitMs
    this.started = true
    this.on = limitMs > 0 && estimateMs <= limitMs * (1 - this.margin)
    this.crossedAt = NaN
  }

  /** Feeds the current one-row estimate; returns true when this call flipped the gate. */
  update (estimateMs: number): boolean {
    if (this.limitMs <= 0) return false
    const past = this.on ? estimateMs > this.limitMs * (1 + this.margin) : estimateMs <= this.limitMs * (1 - this.margin)
    if (!past) { this.crossedAt = NaN; return false }
    const now = this.clock.now()
    if (Number.isNaN(this.crossedAt)) { this.crossedAt = now; return false }
    if (now - this.crossedAt < this.holdMs) return false
    this.on = !this.on
    this.crossedAt = NaN
    return true
  }
}
