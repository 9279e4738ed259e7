// Reading offsets of topics that another process creates. A topic can be listed before its
// partitions have a leader, and offset requests then fail with retriable errors
// (NOT_LEADER_FOR_PARTITION); both the monitor's feed and the decisions follower met that, so
// the wait-and-retry lives here once.
import type { Admin } from 'kafkajs'

export interface WaitOptions {
  /** Give up after this long (Infinity: wait for the topics as long as it takes). */
  timeoutMs: number
  /** Called at most once per second while the topics do not exist yet. */
  onWaiting?: () => void
}

export async function whenTopicsReadable<T> (admin: Admin, topics: string[], read: () => Promise<T>, opts: WaitOptions): Promise<T> {
  const started = Date.now()
  let lastNotice = 0
  for (;;) {
    let failure: unknown = null
    try {
      const existing = new Set(await admin.listTopics())
      if (topics.every(t => existing.has(t))) return await read()
      if (opts.onWaiting !== undefined && Date.now() - lastNotice >= 1_000) { lastNotice = Date.now(); opts.onWaiting() }
    } catch (err) {
      failure = err
    }
    if (Date.now() - started > opts.timeoutMs) throw failure ?? new Error(`topics ${topics.join(', ')} did not appear in ${opts.timeoutMs} ms`)
    await new Promise(resolve => setTimeout(resolve, 200))
  }
}
