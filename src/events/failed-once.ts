// fairgate_events_total{outcome="failed"} counts events whose send failed, each event once. A
// batch is re-sent as is until Kafka takes it, so counting every failed attempt made the counter
// grow with the retries of an outage (16 events failing twice counted 32), not with the events
// it hit. The attempts are in the "kafka send failed; will retry" log lines.
export class FailedOnce<B extends object> {
  private readonly counted = new WeakSet<B>()

  /** True the first time this batch fails (its events are counted then), false on its retries. */
  first (batch: B): boolean {
    if (this.counted.has(batch)) return false
    this.counted.add(batch)
    return true
  }

  /** The parts of a split batch were counted if the whole one was. */
  split (whole: B, parts: readonly B[]): void {
    if (this.counted.has(whole)) for (const p of parts) this.counted.add(p)
  }
}
