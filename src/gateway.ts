// The composition root: config in, a running registry, batchers, router and sinks out. Plain
// TypeScript with no HTTP in it, so the CLI, the HTTP layer and tests share one way to build it.
import { Batcher, InferJob } from './batching/index.js'
import { systemClock, type Clock } from './clock.js'
import type { Config } from './config/index.js'
import { FG_ERR_BATCH_DRAINING } from './errors.js'
import { createEventStream, noopSink, TOPIC_DECISIONS, type EventStream, type PredictionSink } from './events/index.js'
import { decisionMessage, followDecisions, type DecisionFollower } from './events/decision-events.js'
import { PolicyController } from './policy/index.js'
import { Monitor, PredictionStore } from './monitor/index.js'
import { ModelRegistry, type Logger, type ModelRuntime, type VariantRuntime } from './models/index.js'
import { nextPredictionId } from './prediction-id.js'
import { ActiveVariants, BudgetRouter, type Router } from './routing/index.js'
import { GatewayMetrics, noTracing, registerFairnessMetrics, startTracing, type Tracing, type VariantSeries } from './telemetry/index.js'

export interface GatewayOptions {
  log: Logger
  clock?: Clock
  metrics?: GatewayMetrics
  sinks?: PredictionSink[]
}

/** Everything the gateway keeps per variant, found with one Map lookup. */
interface Lane {
  batcher: Batcher
  series: VariantSeries
}

export class Gateway {
  readonly registry: ModelRegistry
  readonly metrics: GatewayMetrics
  readonly active = new ActiveVariants()
  readonly clock: Clock
  router: Router
  private sinks: PredictionSink[]
  private sink: PredictionSink
  private readonly lanes = new Map<VariantRuntime, Lane>()
  private draining = false
  /** Kafka event stream; null in the embedded default (no brokers). */
  events: EventStream | null = null
  /** Recent predictions, for joining feedback (sized by start(), once the manifests are read). */
  predictions: PredictionStore
  /** The in-process fairness monitor (set by start()). */
  monitor: Monitor | null = null
  /** Policies, decisions and the audit log (set by start()). */
  policy: PolicyController | null = null
  private follower: DecisionFollower | null = null
  /** Jobs taken into a queue, and jobs answered (score or error): equal once drained. */
  accepted = 0
  answered = 0
  private readonly log: Logger
  /** OpenTelemetry tracing: the shared no-op unless enabled (set by start()). */
  tracing: Tracing = noTracing
  /** Bound once: the batcher's completion callback. */
  private readonly observer = {
    onBatch: (v: VariantRuntime, rows: number) => { (this.lanes.get(v) as Lane).series.batchSize.observe(rows) },
    onJobDone: (job: InferJob) => { this.complete(job) }
  }

  constructor (readonly config: Config, opts: GatewayOptions) {
    this.log = opts.log
    this.clock = opts.clock ?? systemClock
    this.metrics = opts.metrics ?? new GatewayMetrics()
    this.registry = new ModelRegistry(config.models, config.batching.max_batch_size, opts.log)
    // Until the policies are read: no preference list beyond the manifest, no default budget.
    this.router = new BudgetRouter(this.active, v => this.batcher(v), { preference: () => undefined, defaultBudget: () => 0 })
    this.sinks = opts.sinks ?? []
    this.sink = this.combineSinks()
    this.predictions = new PredictionStore(1, config.monitor.feedback_ttl_ms, 1)
  }

  /** Reads manifests, loads and warms sessions, builds one batcher per variant. */
  async start (): Promise<void> {
    this.tracing = await startTracing(this.config, this.log, this.clock)
    this.registry.discover()
    await this.registry.load()
    for (const m of this.registry.models) this.addModel(m)
    const attributes = Math.max(1, ...this.registry.models.map(m => m.groups.size))
    this.predictions = new PredictionStore(this.config.monitor.feedback_store_size, this.config.monitor.feedback_ttl_ms, attributes)
    this.monitor = new Monitor(this.registry.models.map(m => ({ name: m.name, manifest: m.manifest, variants: m.variants.map(v => v.name) })), this.config.monitor, this.clock)
    this.addSink(this.monitor)
    registerFairnessMetrics(this.metrics, this.monitor)
    this.events = createEventStream({ config: this.config, log: this.log, metrics: this.metrics, clock: this.clock })
    if (this.events !== null) this.addSink(this.events.sink)
    await this.startPolicies()
    this.metrics.onCollect(() => {
      this.metrics.queueDepth.reset()
      this.metrics.activeVariant.reset()
      for (const [v, lane] of this.lanes) {
        this.metrics.queueDepth.labels(v.model.name, v.name).set(lane.batcher.queuedRows)
        this.metrics.activeVariant.labels(v.model.name, v.name).set(this.active.active(v.model.name) === v.name ? 1 : 0)
      }
    })
  }

  private async startPolicies (): Promise<void> {
    const events = this.events
    const config = this.config
    this.policy = new PolicyController({
      config,
      log: this.log,
      clock: this.clock,
      monitor: this.monitor!,
      active: this.active,
      metrics: this.metrics,
      models: new Map(this.registry.models.map(m => [m.name, { variants: m.variants.map(v => v.name), attributes: Object.keys(m.manifest.groups) }])),
      canServe: (model, variant) => {
        const m = this.registry.find(model)
        return m !== undefined && m.hasVariant(variant) && m.variant(variant).state === 'ready'
      },
      publish: events === null ? null : d => { events.publisher.enqueue(TOPIC_DECISIONS, decisionMessage(config, d)) }
    })
    this.router = new BudgetRouter(this.active, v => this.batcher(v), this.policy)
    if (events !== null) {
      // Every replica follows the decisions topic; a new one starts on the current decision.
      const policy = this.policy
      try {
        this.follower = await followDecisions({ config, log: this.log, onDecision: d => { policy.apply(d, 'remote') } })
        await this.follower.caughtUp
      } catch (err) {
        // Serving matters more than following: start on the local default and say so.
        this.log.error({ err: (err as Error).message }, 'cannot follow the decisions topic; this replica decides alone until restarted')
      }
    }
    this.policy.start()
  }

  private addModel (m: ModelRuntime): void {
    this.active.init(m)
    for (const v of m.variants) {
      this.lanes.set(v, {
        batcher: new Batcher(v, this.config.batching, this.clock, this.observer, this.tracing),
        series: this.metrics.children(m.name, v.name)
      })
    }
  }

  addSink (sink: PredictionSink): void {
    this.sinks.push(sink)
    this.sink = this.combineSinks()
  }

  private combineSinks (): PredictionSink {
    const sinks = this.sinks
    if (sinks.length === 0) return noopSink
    if (sinks.length === 1) return sinks[0] as PredictionSink
    return {
      onPredictions: (job) => { for (const s of sinks) s.onPredictions(job) },
      flush: async (t) => { await Promise.all(sinks.map(s => s.flush(t))) },
      close: async () => { await Promise.all(sinks.map(s => s.close())) }
    }
  }

  get ready (): boolean {
    return !this.draining && this.registry.models.length > 0 && this.registry.models.every(m => m.ready)
  }

  get isDraining (): boolean { return this.draining }

  batcher (v: VariantRuntime): Batcher { return (this.lanes.get(v) as Lane).batcher }

  /** Routes and queues a job; throws a coded error the caller answers with. */
  submit (job: InferJob): void {
    if (this.draining) throw FG_ERR_BATCH_DRAINING()
    const v = job.span === null ? this.router.choose(job.model, job) : this.tracing.route(this.router, job, this.policy)
    ;(this.lanes.get(v) as Lane).batcher.enqueue(job)
    this.accepted++
  }

  private complete (job: InferJob): void {
    if (job.span !== null) this.tracing.jobDone(job)
    if (job.error === null) {
      const wall = this.clock.wallNow()
      job.completedAtWall = wall
      const ids = new Array<string>(job.rows)
      for (let i = 0; i < job.rows; i++) ids[i] = nextPredictionId(wall)
      job.ids = ids
      this.remember(job, wall)
      const lane = this.lanes.get(job.variant as VariantRuntime) as Lane
      lane.series.queueDuration.observe(job.queueMs / 1000)
      lane.series.requestDuration.observe((job.finishedAt - job.receivedAt) / 1000)
      try {
        this.sink.onPredictions(job)
      } catch (err) {
        // A sink bug must not cost the client its answer.
        this.log.error({ err: (err as Error).message }, 'prediction sink failed')
      }
    }
    this.answered++
    const respond = job.respond
    job.respond = null
    if (respond !== null) {
      try {
        respond(job)
      } catch (err) {
        // An answer that cannot be written fails that request alone, never the process.
        this.log.error({ err: (err as Error).message }, 'writing an answer failed')
      }
    }
    // After the answer is written, so the router learns the whole time the gateway took.
    job.answeredAt = this.clock.now()
    this.router.observe(job)
  }

  private remember (job: InferJob, wall: number): void {
    const m = job.model
    const mi = m.index
    const vi = (job.variant as VariantRuntime).index
    const attrs = m.groups.size
    const thr = m.manifest.threshold
    for (let r = 0; r < job.rows; r++) {
      const score = job.scores[r] as number
      this.predictions.put(job.ids[r] as string, wall, mi, vi, score >= thr ? 1 : 0, score, job.groupIds, job.groupsPerRow ? r * attrs : 0, attrs)
    }
  }

  /**
   * Records a delayed label. 'joined': the prediction is known here; 'unknown': not known to
   * this replica (made by another one, expired or never made); 'duplicate': already labelled.
   * Published to the feedback topic unless duplicate.
   */
  feedback (predictionId: string, label: 0 | 1): 'joined' | 'unknown' | 'duplicate' {
    const now = this.clock.wallNow()
    const known = this.predictions.get(predictionId, now)
    let outcome: 'joined' | 'unknown' | 'duplicate' = 'unknown'
    if (known !== undefined) {
      outcome = this.predictions.markLabelled(predictionId) ? 'joined' : 'duplicate'
      if (outcome === 'joined') this.monitor?.recordLabel(known, label)
    }
    if (outcome !== 'duplicate' && this.events !== null) this.events.publishFeedback({ prediction_id: predictionId, label, ts: now })
    return outcome
  }

  /** Counts one answered job under its variant's cached series (no label lookup per request). */
  countJob (job: InferJob, code: number): void {
    const lane = job.variant === null ? undefined : this.lanes.get(job.variant)
    if (lane !== undefined) lane.series.countRequest(code)
    else this.countRejected(job.model.name, code)
  }

  /** Counts a request refused before it reached a variant (validation, unknown model, …). */
  countRejected (model: string, code: number): void {
    this.metrics.requests.labels(this.registry.find(model) === undefined ? '' : model, '', String(code)).inc()
  }

  /** New requests get 503 from here on; queued ones still run. */
  startDraining (): void { this.draining = true }

  /** Stops taking requests and resolves once every queued one has been answered. */
  async drain (): Promise<void> {
    this.draining = true
    await Promise.all([...this.lanes.values()].map(l => l.batcher.drain()))
  }

  /** Drains every batcher, flushes sinks, releases sessions. */
  async close (flushTimeoutMs = this.config.events.flush_timeout_ms): Promise<void> {
    this.policy?.stop()
    await this.drain()
    await this.follower?.stop().catch(() => {})
    await this.sink.flush(flushTimeoutMs)
    await this.sink.close()
    await this.tracing.flush().catch(() => {})
    await this.registry.close()
  }
}

export { InferJob }
