// The composition root of `fairgate monitor`, without its HTTP: the manifests, a Monitor, the
// Kafka feed, and the policy engine over the aggregate of every replica (its decisions go to the
// decisions topic, which every gateway follows). It sits in src/, not in monitor/, because it
// wires monitor, events, policy and models together. Used by the CLI and the integration tests.
import { systemClock, type Clock } from './clock.js'
import type { Config } from './config/index.js'
import { FG_ERR_CONFIG_INVALID } from './errors.js'
import { fairnessOf, type FairnessApi, type MetricsApi } from './gateway.js'
import { consumeEvents, createDecisionWriter, defaultMonitorGroup, electLeader, followDecisionsRetrying, type DecisionFollower, type DecisionWriter, type EventConsumer, type Leadership } from './events/index.js'
import type { Logger } from './logger.js'
import { ModelRegistry } from './models/index.js'
import { Monitor, MonitorFeed, type MonitoredModel } from './monitor/index.js'
import { PolicyController } from './policy/index.js'
import { ActiveVariants } from './routing/index.js'
import { GatewayMetrics, registerFairnessMetrics } from './telemetry/index.js'

export interface MonitorDeps {
  log: Logger
  clock?: Clock
  metrics?: GatewayMetrics
}

/** Builds `fairgate monitor`'s parts (checks its config first); start() then catches up with the log. */
export function createMonitor (config: Config, deps: MonitorDeps): MonitorService {
  return new MonitorService(config, deps.log, deps.clock, deps.metrics)
}

export class MonitorService {
  readonly monitor: Monitor
  readonly feed: MonitorFeed
  readonly metrics: GatewayMetrics
  readonly active = new ActiveVariants()
  readonly policy: PolicyController
  /** The monitored models, as every Monitor of this process is built from. */
  readonly models: MonitoredModel[]
  protected follower: DecisionFollower | null = null
  protected leadership: Leadership | null = null
  private decisionWriter: DecisionWriter | null = null
  private consumer: EventConsumer | null = null
  protected caughtUp = false
  private readonly expiry: NodeJS.Timeout
  protected readonly accepted: { inc: () => void }
  protected readonly invalid: { inc: () => void }
  private invalidLogged = 0

  constructor (readonly config: Config, protected readonly log: Logger, protected readonly clock: Clock = systemClock, metrics?: GatewayMetrics) {
    if (config.kafka.brokers.length === 0) throw FG_ERR_CONFIG_INVALID('kafka.brokers', 'fairgate monitor needs at least one broker (FAIRGATE_KAFKA_BROKERS)')
    // Only the manifests: the monitor never runs a model.
    const registry = new ModelRegistry(config.models, 1, log)
    registry.discover()
    this.models = registry.models.map(m => ({ name: m.name, manifest: m.manifest, variants: m.variants.map(v => v.name) }))
    this.monitor = new Monitor(this.models, config.monitor, clock)
    this.feed = new MonitorFeed(this.monitor, config.monitor.feedback_store_size, config.monitor.feedback_ttl_ms, () => clock.wallNow())
    this.metrics = metrics ?? new GatewayMetrics()
    registerFairnessMetrics(this.metrics, this.monitor)
    this.accepted = this.metrics.feedback.labels('accepted')
    this.invalid = this.metrics.feedback.labels('invalid')
    this.expiry = setInterval(() => { this.feed.expirePending() }, 10_000)
    this.expiry.unref()
    for (const m of registry.models) this.active.init(m)
    this.policy = new PolicyController({
      config,
      log,
      clock,
      monitor: this.monitor,
      active: this.active,
      metrics: this.metrics,
      models: new Map(registry.models.map(m => [m.name, { variants: m.variants.map(v => v.name), attributes: Object.keys(m.manifest.groups), metrics: m.variants.map(v => ({ name: v.name, groups: v.spec.metrics?.groups })) }])),
      // The monitor serves nothing; whether a variant is ready is each gateway's business.
      canServe: (model, variant) => registry.find(model)?.hasVariant(variant) === true,
      // Decisions have their own never-evicted queue, retried until acknowledged.
      publish: d => { this.decisionWriter ??= createDecisionWriter({ config, log }); this.decisionWriter.enqueue(d) },
      // The monitor is preferred as the one writer: it sees the aggregate of every replica.
      writer: () => this.leadership
    })
  }

  get ready (): boolean { return this.caughtUp }

  /** What the fairness routes use. */
  get fairness (): FairnessApi { return fairnessOf(this.monitor, this.policy) }

  /** What /metrics uses. */
  get metricsApi (): MetricsApi {
    const registry = this.metrics.registry
    return { contentType: registry.contentType, text: async () => await registry.metrics() }
  }

  /** Connects, seeks to (now − window), and resolves once caught up with the log. */
  async start (groupId = defaultMonitorGroup(this.config.replica)): Promise<void> {
    this.consumer = await consumeEvents({
      config: this.config,
      log: this.log,
      groupId,
      sinceMs: this.clock.wallNow() - this.config.monitor.window_ms,
      handlers: {
        onPrediction: ev => { this.feed.onPrediction(ev) },
        onFeedback: ev => { this.accepted.inc(); this.feed.onFeedback(ev) },
        onInvalidFeedback: field => { this.invalidFeedback(field) }
      }
    })
    await this.consumer.caughtUp
    await this.startPolicy()
    this.log.info({ ...this.feed.stats }, 'monitor caught up with the event log')
  }

  protected invalidFeedback (field: string): void {
    this.invalid.inc()
    // The first one is worth a line; the counter tells how many followed.
    if (this.invalidLogged++ === 0) this.log.warn({ field }, 'invalid feedback record skipped (fairgate_feedback_total{outcome="invalid"} counts them)')
  }

  /** Follows the decisions, runs for the lead, starts the policies: the monitor is then ready. */
  protected async startPolicy (): Promise<void> {
    // Follow everyone's decisions (so rules evaluate the variant actually served).
    const policy = this.policy
    this.follower = followDecisionsRetrying({ config: this.config, log: this.log, onDecision: d => { policy.apply(d, 'remote') } })
    await this.follower.caughtUp
    if (this.config.policy.evaluate) this.leadership = await electLeader({ config: this.config, log: this.log, role: 'monitor' })
    this.policy.start()
    this.caughtUp = true
  }

  status (): object {
    return { ready: this.caughtUp, ...this.feed.stats, skipped: this.consumer?.skipped ?? 0 }
  }

  async stop (): Promise<void> {
    clearInterval(this.expiry)
    this.policy.stop()
    await this.leadership?.stop()
    await this.decisionWriter?.stop()
    await this.follower?.stop()
    await this.consumer?.stop()
    await this.stopFeed()
  }

  /** Stops what feeds the windows besides the event consumer (the sharded monitor's parts). */
  protected async stopFeed (): Promise<void> {}
}
