// `fairgate monitor` with monitor.sharded (docs/scale-out.md): one shard of a fleet of monitors.
// It owns the partitions Kafka assigns it in the shared group, keeps a Monitor and a MonitorFeed
// per owned partition (so a partition can move: dropped whole on revoke, rebuilt whole on
// assignment), publishes their changed buckets to the summaries topic every
// monitor.summary_interval_ms, and merges everyone's summaries into `monitor`, the fleet view its
// /v1/fairness, /metrics and policies read. The elected leader (events/leadership.ts) is the one
// that takes decisions; every shard can answer /v1/fairness for the fleet.
import { randomBytes } from 'node:crypto'
import type { Clock } from './clock.js'
import type { Config } from './config/index.js'
import { MonitorService, type MonitorDeps } from './create-monitor.js'
import { consumeShard, openSummaryTopic, type ShardConsumer, type SummaryTopic } from './events/index.js'
import type { Logger } from './logger.js'
import { encodeSummaries, Monitor, MonitorFeed, SummaryMerge } from './monitor/index.js'
import type { GatewayMetrics } from './telemetry/index.js'

interface PartitionPart {
  monitor: Monitor
  feed: MonitorFeed
  /** This instance's take of the partition (a new take is a new owner in the summaries). */
  owner: string
  since: number
  caughtUp: boolean
  /** Publish every non-empty bucket next time (after the rebuild, or a failed send). */
  full: boolean
}

export function createShardedMonitor (config: Config, deps: MonitorDeps): ShardedMonitorService {
  return new ShardedMonitorService(config, deps.log, deps.clock, deps.metrics)
}

export class ShardedMonitorService extends MonitorService {
  readonly merge: SummaryMerge
  private readonly parts = new Map<number, PartitionPart>()
  private readonly instance = randomBytes(4).toString('hex')
  private takes = 0
  private shard: ShardConsumer | null = null
  private summaries: SummaryTopic | null = null
  private publisher: NodeJS.Timeout | null = null
  private publishing = false
  private oversized = 0
  private readonly partExpiry: NodeJS.Timeout

  constructor (config: Config, log: Logger, clock?: Clock, metrics?: GatewayMetrics) {
    super(config, log, clock, metrics)
    this.merge = new SummaryMerge(this.monitor, this.clock, config.monitor.summary_stale_ms)
    this.partExpiry = setInterval(() => { for (const p of this.parts.values()) p.feed.expirePending() }, 10_000)
    this.partExpiry.unref()
  }

  /** Partitions this shard owns (rebuilt or rebuilding). */
  owned (): number[] { return [...this.parts.keys()].sort((a, b) => a - b) }

  /** The windows of one owned partition (tests compare them). */
  partMonitor (partition: number): Monitor | undefined { return this.parts.get(partition)?.monitor }

  override async start (): Promise<void> {
    const cfg = this.config.monitor
    const labelWindow = Math.max(cfg.window_ms, cfg.feedback_ttl_ms)
    const now = (): number => this.clock.wallNow()
    this.summaries = await openSummaryTopic({ config: this.config, log: this.log, sinceMs: now() - labelWindow - cfg.bucket_ms, retentionMs: labelWindow + 2 * cfg.bucket_ms, onRecord: v => { this.merge.apply(v) } })
    this.shard = await consumeShard({
      config: this.config,
      log: this.log,
      windowMs: cfg.window_ms,
      now,
      handlers: {
        onAssign: (p, since) => { this.assign(p, since) },
        onCaughtUp: p => {
          const part = this.parts.get(p)
          if (part === undefined) return
          part.caughtUp = true
          this.log.info({ partition: p, ...part.feed.stats }, 'monitor shard rebuilt a partition')
        },
        onRevoke: p => { this.parts.delete(p); this.log.info({ partition: p }, 'monitor shard released a partition') },
        onPrediction: (p, ev) => { this.parts.get(p)?.feed.onPrediction(ev) },
        onFeedback: (p, ev) => { this.accepted.inc(); this.parts.get(p)?.feed.onFeedback(ev) },
        onInvalidFeedback: field => { this.invalidFeedback(field) }
      }
    })
    this.merge.expect(this.shard.partitions)
    this.publisher = setInterval(() => { void this.publish() }, cfg.summary_interval_ms)
    this.publisher.unref()
    await this.summaries.caughtUp
    await this.startPolicy()
    this.log.info({ partitions: this.shard.partitions, owned: this.owned() }, 'monitor shard caught up with the summaries')
  }

  private assign (p: number, since: number): void {
    const cfg = this.config.monitor
    const monitor = new Monitor(this.models, cfg, this.clock)
    const share = Math.ceil(cfg.feedback_store_size / Math.max(1, this.shard?.partitions ?? 1))
    const feed = new MonitorFeed(monitor, share, cfg.feedback_ttl_ms, () => this.clock.wallNow())
    this.parts.set(p, { monitor, feed, owner: `${this.config.replica}/${this.instance}/${++this.takes}`, since, caughtUp: false, full: true })
  }

  /** Publishes every caught-up partition's changed buckets and its meta. */
  async publish (): Promise<void> {
    if (this.publishing || this.summaries === null) return
    this.publishing = true
    try {
      const at = this.clock.wallNow()
      const records = []
      const sent: PartitionPart[] = []
      for (const [partition, part] of this.parts) {
        if (!part.caughtUp) continue
        const r = encodeSummaries(part.monitor, { partition, owner: part.owner, since: part.since, at, caughtUp: true, partitions: this.shard?.partitions ?? 0 }, part.full)
        part.full = false
        this.oversized += r.oversized
        records.push(...r.records)
        sent.push(part)
      }
      if (!await this.summaries.publish(records)) for (const part of sent) part.full = true
    } finally {
      this.publishing = false
    }
  }

  override status (): object {
    let predictions = 0
    let labels = 0
    for (const p of this.parts.values()) { predictions += p.feed.stats.predictions; labels += p.feed.stats.labels }
    return { ready: this.caughtUp, sharded: true, partitions: this.shard?.partitions ?? 0, owned: this.owned(), incomplete: this.merge.incomplete(), predictions, labels, rejected_summaries: this.merge.rejected, oversized_summaries: this.oversized, skipped: this.shard?.skipped ?? 0 }
  }

  protected override async stopFeed (): Promise<void> {
    clearInterval(this.partExpiry)
    if (this.publisher !== null) clearInterval(this.publisher)
    await this.shard?.stop()
    await this.summaries?.stop()
  }
}
