// A clock the test moves by hand: timers fire in due order when time is advanced past them.
import type { Clock } from '../../src/clock.js'

interface Timer { at: number, fn: () => void, id: number }

export class FakeClock implements Clock {
  t = 0
  wall = 1_700_000_000_000
  private timers: Timer[] = []
  private seq = 0

  now = (): number => this.t
  wallNow = (): number => this.wall + this.t
  setTimer = (fn: () => void, ms: number): unknown => {
    const timer = { at: this.t + ms, fn, id: ++this.seq }
    this.timers.push(timer)
    return timer.id
  }

  clearTimer = (h: unknown): void => { this.timers = this.timers.filter(t => t.id !== h) }

  get pending (): number { return this.timers.length }

  advance (ms: number): void {
    const end = this.t + ms
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id)
      const next = this.timers[0]
      if (next === undefined || next.at > end) break
      this.timers.shift()
      this.t = next.at
      next.fn()
    }
    this.t = end
  }
}
