// `fairgate monitor` without its HTTP: the manifests, a Monitor, and the Kafka feed. Used by
// the CLI and by the integration tests (which start, stop and restart it in-process).
import { systemClock, type Clock } from '../clock.js'
import type { Config } from '../config/index.js'
import { consumeEvents, defaultMonitorGroup, type EventConsumer } from '../events/event-consumer.js'
import { ModelRegistry, type Logger } from '../models/index.js'
import { GatewayMetrics, registerFairnessMetrics } from '../telemetry/index.js'
import { MonitorFeed } from './feed.js'
import { Monitor } from './monitor.js'

export class MonitorService {
  readonly monitor: Monitor
  readonly feed: MonitorFeed
  readonly metrics: GatewayMetrics
  private consumer: EventConsumer | null = null
  private caughtUp = false
  private readonly expiry: NodeJS.Timeout

  constructor (readonly config: Config, private readonly log: Logger, private readonly clock: Clock = systemClock, metrics?: GatewayMetrics) {
    if (config.kafka.brokers.length === 0) throw new Error('fairgate monitor needs kafka.brokers (FAIRGATE_KAFKA_BROKERS)')
    // Only the manifests: the monitor never runs a model.
    const registry = new ModelRegistry(config.models, 1, log)
    registry.discover()
    this.monitor = new Monitor(registry.models.map(m => ({ name: m.name, manifest: m.manifest, variants: m.variants.map(v => v.name) })), config.monitor, clock)
    this.feed = new MonitorFeed(this.monitor, config.monitor.feedback_store_size, config.monitor.feedback_ttl_ms, () => clock.wallNow())
    this.metrics = metrics ?? new GatewayMetrics()
    registerFairnessMetrics(this.metrics, this.monitor)
    this.expiry = setInterval(() => { this.feed.expirePending() }, 10_000)
    this.expiry.unref()
  }

  get ready (): boolean { return this.caughtUp }

  /** Connects, seeks to (now − window), and resolves once caught up with the log. */
  async start (groupId = defaultMonitorGroup(this.config.replica)): Promise<void> {
    this.consumer = await consumeEvents({
      config: this.config,
      log: this.log,
      groupId,
      sinceMs: this.clock.wallNow() - this.config.monitor.window_ms,
      handlers: { onPrediction: ev => { this.feed.onPrediction(ev) }, onFeedback: ev => { this.feed.onFeedback(ev) } }
    })
    await this.consumer.caughtUp
    this.caughtUp = true
    this.log.info({ ...this.feed.stats }, 'monitor caught up with the event log')
  }

  status (): object {
    return { ready: this.caughtUp, ...this.feed.stats, skipped: this.consumer?.skipped ?? 0 }
  }

  async stop (): Promise<void> {
    clearInterval(this.expiry)
    await this.consumer?.stop()
  }
}
