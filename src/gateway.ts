// The composition root of `fairgate serve`: createGateway(config, deps) builds models → monitor
// → events → policy → router → batchers in that order, each once, and returns a Gateway whose
// parts are all built (nothing is filled in later). Transports see it only through the narrow
// interfaces below (inference, feedback, fairness, variants, health, metrics), one per route
// group. Plain TypeScript with no HTTP in it, so the CLI, the transports and tests share it.
import { Batcher, InferJob } from './batching/index.js'
import { systemClock, type Clock } from './clock.js'
import type { Config } from './config/index.js'
import { FG_ERR_BATCH_DRAINING } from './errors.js'
import { createDecisionWriter, createEventStream, electLeader, followDecisionsRetrying, noopSink, type DecisionFollower, type DecisionWriter, type EventStream, type Leadership, type PredictionSink } from './events/index.js'
import type { Logger } from './logger.js'
import { PolicyController, readPolicies, type DecisionRecord, type ModelFacts, type ModelPolicyStatus } from './policy/index.js'
import { Monitor, OwnPredictionStore, type FairnessReport } from './monitor/index.js'
import { ModelRegistry, type ModelRuntime, type VariantRuntime } from './models/index.js'
import { reservePredictionIds } from './prediction-id.js'
import { ActiveVariants, BudgetRouter, type Router, type VariantStatus } from './routing/index.js'
import { GatewayMetrics, registerFairnessMetrics, startTracing, type Tracing, type VariantSeries } from './telemetry/index.js'
import type { DecisionEvent } from './events/index.js'

export interface GatewayDeps {
  log: Logger
  clock?: Clock
  metrics?: GatewayMetrics
  /** Extra sinks of answered predictions, after the monitor and Kafka (tests). */
  sinks?: PredictionSink[]
}

/** What the inference routes use: find a model, queue a job, count a refusal. */
export interface InferenceApi {
  readonly clock: Clock
  readonly tracing: Tracing
  readonly limits: {
    maxRows: number
    defaultBudgetMs: number
    /** A compressed request body may inflate to this many bytes. */
    inflatedBytes: number
    /** The largest request body (an HTTP body or a gRPC message). */
    bodyBytes: number
  }
  model: (name: string) => ModelRuntime
  /** Routes and queues a job; throws a coded error the caller answers with. */
  submit: (job: InferJob) => void
  /** Counts a request refused before it reached a variant (validation, unknown model, …); transport defaults to 'http'. */
  countRejected: (model: string, code: number, transport?: string) => void
}

/** What POST /v1/feedback uses. */
export interface FeedbackApi {
  readonly clock: Clock
  /** True without Kafka: this replica is the only place a label can be joined. */
  readonly embedded: boolean
  readonly ttlMs: number
  has: (predictionId: string, now: number) => boolean
  record: (predictionId: string, label: 0 | 1) => 'joined' | 'unknown' | 'duplicate'
}

/** What /v1/fairness and /v1/decisions use (the gateway's monitor, or `fairgate monitor`'s). */
export interface FairnessApi {
  readonly windowMs: number
  modelNames: () => string[]
  report: (model: string, windowMs?: number) => FairnessReport | undefined
  policies: () => ModelPolicyStatus[]
  decisions: (model: string | undefined, limit: number) => DecisionRecord[]
}

/** What the variants listing and the admin routes use. */
export interface VariantsApi {
  readonly adminToken: string
  models: () => readonly ModelRuntime[]
  status: (model: string) => VariantStatus | undefined
  queuedRows: (v: VariantRuntime) => number
  manualSwitch: (model: string, variant: string, who: string) => DecisionEvent
  manualRollback: (model: string, who: string) => DecisionEvent
  reloadPolicies: (opts?: { remove?: boolean }) => string[]
}

/** What health and model metadata use. */
export interface HealthApi {
  readonly ready: boolean
  readonly draining: boolean
  model: (name: string) => ModelRuntime
  active: (model: string) => string | undefined
}

/** What /metrics uses. */
export interface MetricsApi {
  readonly contentType: string
  text: () => Promise<string>
}

/** Everything the gateway keeps per variant, found with one Map lookup. */
interface Lane {
  batcher: Batcher
  series: VariantSeries
}

/** The parts createGateway builds, in its order, handed to the Gateway whole. */
interface Parts {
  config: Config
  log: Logger
  clock: Clock
  metrics: GatewayMetrics
  tracing: Tracing
  registry: ModelRegistry
  monitor: Monitor
  predictions: OwnPredictionStore
  events: EventStream | null
  active: ActiveVariants
  policy: PolicyController
  /** Leadership, the decision writer and the decisions follower: stopped on close. */
  control: { stop: () => Promise<void> }
  sinks: PredictionSink[]
}

/** Builds a gateway: manifests read, sessions loaded and warmed, policies read, the decisions topic followed. */
export async function createGateway (config: Config, deps: GatewayDeps): Promise<Gateway> {
  const log = deps.log
  const clock = deps.clock ?? systemClock
  const metrics = deps.metrics ?? new GatewayMetrics()
  const tracing = await startTracing(config, log, clock)
  // models
  const registry = new ModelRegistry(config.models, config.batching.max_batch_size, log)
  let events: EventStream | null = null
  let control: { stop: () => Promise<void> } | null = null
  try {
    registry.discover()
    // Policies and models are separate folders: a policy naming a model that is not there fails
    // now, naming both, rather than after every session has loaded and warmed up.
    const facts = policyFacts(registry.models)
    readPolicies(config.policy.dir, facts, config.models.dir)
    await registry.load()
    const attributes = Math.max(1, ...registry.models.map(m => m.groups.size))
    // monitor
    const monitor = new Monitor(registry.models.map(m => ({ name: m.name, manifest: m.manifest, variants: m.variants.map(v => v.name) })), config.monitor, clock)
    registerFairnessMetrics(metrics, monitor)
    const predictions = new OwnPredictionStore(config.monitor.feedback_store_size, config.monitor.feedback_ttl_ms, attributes)
    // events
    events = createEventStream({ config, log, metrics, clock })
    const stream = events
    // policy
    const active = new ActiveVariants()
    for (const m of registry.models) active.init(m)
    let writer: DecisionWriter | null = null
    let leadership: Leadership | null = null
    const policy = new PolicyController({
      config,
      log,
      clock,
      monitor,
      active,
      metrics,
      models: facts,
      canServe: (model, variant) => {
        const m = registry.find(model)
        return m !== undefined && m.hasVariant(variant) && m.variant(variant).state === 'ready'
      },
      // Decisions have their own never-evicted queue, retried until acknowledged (made on first use).
      publish: stream === null ? null : d => { writer ??= createDecisionWriter({ config, log }); writer.enqueue(d) },
      // With Kafka one elected process writes automatic decisions (the monitor when it runs).
      writer: stream === null ? undefined : () => leadership
    })
    // Every replica follows the decisions topic; a new one starts on the current decision.
    let follower: DecisionFollower | null = null
    if (stream !== null) {
      follower = followDecisionsRetrying({ config, log, onDecision: d => { policy.apply(d, 'remote') } })
      try {
        await follower.caughtUp
        if (config.policy.evaluate) leadership = await electLeader({ config, log, role: 'gateway' })
      } catch (err) {
        // Serving matters more than leading: follow and serve, but take no automatic decision.
        log.error({ err: (err as Error).message }, 'cannot join the policy leader election; this replica takes no automatic decision until restarted')
      }
    }
    const parts = {
      stop: async (): Promise<void> => {
        await leadership?.stop().catch(() => {})
        await writer?.stop().catch(() => {})
        await follower?.stop().catch(() => {})
      }
    }
    control = parts
    const sinks: PredictionSink[] = [monitor]
    if (stream !== null) sinks.push(stream.sink)
    sinks.push(...(deps.sinks ?? []))
    // router and batchers: built by the Gateway, which owns the lanes they share.
    const gw = new Gateway({ config, log, clock, metrics, tracing, registry, monitor, predictions, events: stream, active, policy, control: parts, sinks })
    policy.start()
    return gw
  } catch (err) {
    // A start-up error (a missing policy.dir, a bad policy file, a model that cannot load) must
    // not leave sessions, pool workers or a Kafka producer behind: the caller has no gateway to close.
    await control?.stop()
    await events?.sink.close().catch(() => {})
    await registry.close().catch(() => {})
    await tracing.flush().catch(() => {})
    throw err
  }
}

/** What policies may refer to, from the manifests alone (nothing needs to be loaded). */
export function policyFacts (models: readonly ModelRuntime[]): Map<string, ModelFacts> {
  return new Map(models.map(m => [m.name, { variants: m.variants.map(v => v.name), attributes: Object.keys(m.manifest.groups), metrics: m.variants.map(v => ({ name: v.name, groups: v.spec.metrics?.groups })) }]))
}

function combineSinks (sinks: PredictionSink[]): PredictionSink {
  if (sinks.length === 0) return noopSink
  if (sinks.length === 1) return sinks[0] as PredictionSink
  return {
    onPredictions: (job) => { for (const s of sinks) s.onPredictions(job) },
    flush: async (t) => { await Promise.all(sinks.map(s => s.flush(t))) },
    close: async () => { await Promise.all(sinks.map(s => s.close())) }
  }
}

type Step = (job: InferJob) => void

export class Gateway {
  readonly config: Config
  readonly clock: Clock
  readonly metrics: GatewayMetrics
  readonly tracing: Tracing
  readonly registry: ModelRegistry
  /** The in-process fairness monitor. */
  readonly monitor: Monitor
  /** Recent predictions, for joining feedback. */
  readonly predictions: OwnPredictionStore
  /** Kafka event stream; null in the embedded default (no brokers configured). */
  readonly events: EventStream | null
  readonly active: ActiveVariants
  /** Policies, decisions and the audit log. */
  readonly policy: PolicyController
  readonly router: Router
  private readonly control: { stop: () => Promise<void> }
  private readonly log: Logger
  private readonly sink: PredictionSink
  private readonly lanes = new Map<VariantRuntime, Lane>()
  private draining = false
  /** Jobs taken into a queue, and jobs answered (score or error): equal once drained. */
  accepted = 0
  answered = 0
  /**
   * Answering a job, one job per step, bound once (no closure per request): ids, store, timing
   * histograms, status count, sinks, the answer, letting go of the request, router feedback.
   */
  private readonly steps: Step[]

  readonly inference: InferenceApi
  readonly feedback: FeedbackApi
  readonly fairness: FairnessApi
  readonly variants: VariantsApi
  readonly health: HealthApi
  readonly metricsApi: MetricsApi

  constructor (p: Parts) {
    this.config = p.config
    this.log = p.log
    this.clock = p.clock
    this.metrics = p.metrics
    this.tracing = p.tracing
    this.registry = p.registry
    this.monitor = p.monitor
    this.predictions = p.predictions
    this.events = p.events
    this.active = p.active
    this.policy = p.policy
    this.control = p.control
    this.sink = combineSinks(p.sinks)
    this.router = new BudgetRouter(this.active, v => this.batcher(v), this.policy)
    const observer = {
      onBatch: (v: VariantRuntime, rows: number) => { (this.lanes.get(v) as Lane).series.batchSize.observe(rows) },
      onJobDone: (job: InferJob) => { this.complete(job) }
    }
    for (const m of this.registry.models) {
      for (const v of m.variants) {
        // A variant's own max_batch_size (its manifest entry) bounds its batches.
        const batching = { ...this.config.batching, max_batch_size: v.maxBatch }
        this.lanes.set(v, { batcher: new Batcher(v, batching, this.clock, observer, this.tracing), series: this.metrics.children(m.name, v.name) })
      }
    }
    this.metrics.onCollect(() => {
      this.metrics.queueDepth.reset()
      this.metrics.activeVariant.reset()
      for (const [v, lane] of this.lanes) {
        this.metrics.queueDepth.labels(v.model.name, v.name).set(lane.batcher.queuedRows)
        this.metrics.activeVariant.labels(v.model.name, v.name).set(this.active.active(v.model.name) === v.name ? 1 : 0)
      }
    })
    this.steps = [
      job => { if (job.span !== null) this.tracing.jobDone(job) },
      job => { this.assignIds(job) },
      job => { this.decide(job) },
      job => { this.remember(job) },
      job => { this.observeTimes(job) },
      job => { this.countJob(job, job.error === null ? 200 : job.error.statusCode) },
      job => { this.publish(job) },
      job => { this.answer(job) },
      job => { this.release(job) },
      job => { this.router.observe(job) }
    ]
    this.inference = this.inferenceApi()
    this.feedback = this.feedbackApi()
    this.fairness = this.fairnessApi()
    this.variants = this.variantsApi()
    this.health = this.healthApi()
    this.metricsApi = { contentType: this.metrics.registry.contentType, text: async () => await this.metrics.registry.metrics() }
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
    const steps = this.steps
    for (let i = 0; i < steps.length; i++) (steps[i] as Step)(job)
  }

  private assignIds (job: InferJob): void {
    if (job.error !== null) return
    job.assignIds(this.clock.wallNow(), reservePredictionIds(job.rows))
  }

  private remember (job: InferJob): void {
    if (job.error !== null) return
    const m = job.model
    const mi = m.index
    const vi = (job.variant as VariantRuntime).index
    const attrs = m.groups.size
    const wall = job.completedAtWall
    for (let r = 0; r < job.rows; r++) {
      const score = job.scores[r] as number
      this.predictions.put(job.firstIdSeq + r, wall, mi, vi, score >= (job.thresholds[r] as number) ? 1 : 0, score, job.groupIds, job.groupsPerRow ? r * attrs : 0, attrs)
    }
  }

  /** Counts the rows decided at the variant rule's default because they lack its attribute. */
  private decide (job: InferJob): void {
    if (job.error !== null) return
    ;(this.lanes.get(job.variant as VariantRuntime) as Lane).series.decide(job)
  }

  private observeTimes (job: InferJob): void {
    if (job.error !== null) return
    const lane = this.lanes.get(job.variant as VariantRuntime) as Lane
    lane.series.queueDuration.observe(job.queueMs / 1000)
    lane.series.requestDuration.observe((job.finishedAt - job.receivedAt) / 1000)
  }

  private publish (job: InferJob): void {
    if (job.error !== null) return
    try {
      this.sink.onPredictions(job)
    } catch (err) {
      // A sink bug must not cost the client its answer.
      this.log.error({ err: (err as Error).message }, 'prediction sink failed')
    }
  }

  private answer (job: InferJob): void {
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
  }

  /** Answered: the job lets go of the reply (and through it the request and body) and its span. */
  private release (job: InferJob): void {
    job.ctx = null
    job.span = null
  }

  /** Records a delayed label; published to the feedback topic unless a duplicate. */
  private recordFeedback (predictionId: string, label: 0 | 1): 'joined' | 'unknown' | 'duplicate' {
    const now = this.clock.wallNow()
    const known = this.predictions.get(predictionId, now)
    let outcome: 'joined' | 'unknown' | 'duplicate' = 'unknown'
    if (known !== undefined) {
      outcome = this.predictions.markLabelled(predictionId) ? 'joined' : 'duplicate'
      if (outcome === 'joined') this.monitor.recordLabel(known, label)
    }
    if (outcome !== 'duplicate' && this.events !== null) this.events.publishFeedback({ prediction_id: predictionId, label, ts: now })
    return outcome
  }

  /** Counts one answered job under its variant's cached series (no label lookup per request). */
  private countJob (job: InferJob, code: number): void {
    const lane = job.variant === null ? undefined : this.lanes.get(job.variant)
    if (lane !== undefined) {
      lane.series.countRequest(code)
      this.countTransport(job.transport, code)
    } else {
      this.countRejected(job.model.name, code, job.transport)
    }
  }

  private countRejected (model: string, code: number, transport = 'http'): void {
    this.metrics.requests.labels(this.registry.find(model) === undefined ? '' : model, '', String(code)).inc()
    this.countTransport(transport, code)
  }

  /** Per-transport counters, looked up once per (transport, code). */
  private readonly transportSeries = new Map<number, { inc: () => void }>()
  private countTransport (transport: string, code: number): void {
    const key = transport === 'grpc' ? code + 1000 : code
    let c = this.transportSeries.get(key)
    if (c === undefined) {
      c = this.metrics.transportRequests.labels(transport, String(code))
      this.transportSeries.set(key, c)
    }
    c.inc()
  }

  private inferenceApi (): InferenceApi {
    const registry = this.registry
    return {
      clock: this.clock,
      tracing: this.tracing,
      limits: {
        maxRows: this.config.http.max_rows_per_request,
        defaultBudgetMs: this.config.batching.default_latency_budget_ms,
        inflatedBytes: this.config.http.inflated_limit_bytes,
        bodyBytes: this.config.http.body_limit_bytes
      },
      model: name => registry.model(name),
      submit: job => { this.submit(job) },
      countRejected: (model, code, transport) => { this.countRejected(model, code, transport) }
    }
  }

  private feedbackApi (): FeedbackApi {
    return {
      clock: this.clock,
      embedded: this.events === null,
      ttlMs: this.config.monitor.feedback_ttl_ms,
      has: (id, now) => this.predictions.has(id, now),
      record: (id, label) => this.recordFeedback(id, label)
    }
  }

  private fairnessApi (): FairnessApi {
    return fairnessOf(this.monitor, this.policy)
  }

  private variantsApi (): VariantsApi {
    const policy = this.policy
    return {
      adminToken: this.config.admin.token,
      models: () => this.registry.models,
      status: model => this.active.get(model),
      queuedRows: v => this.batcher(v).queuedRows,
      manualSwitch: (model, variant, who) => policy.manualSwitch(model, variant, who),
      manualRollback: (model, who) => policy.manualRollback(model, who),
      reloadPolicies: (opts) => policy.reload(opts)
    }
  }

  private healthApi (): HealthApi {
    const gw = this
    return {
      get ready () { return gw.ready },
      get draining () { return gw.draining },
      model: name => gw.registry.model(name),
      active: model => gw.active.active(model)
    }
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
    this.policy.stop()
    await this.drain()
    await this.control.stop()
    await this.sink.flush(flushTimeoutMs)
    await this.sink.close()
    await this.tracing.flush().catch(() => {})
    await this.registry.close()
  }
}

/** The fairness face of a monitor and its policies: the gateway's, and `fairgate monitor`'s. */
export function fairnessOf (monitor: Monitor, policy: PolicyController): FairnessApi {
  return {
    windowMs: monitor.cfg.window_ms,
    modelNames: () => monitor.modelNames(),
    report: (model, windowMs) => monitor.report(model, windowMs),
    policies: () => policy.status(),
    decisions: (model, limit) => policy.decisions.list(model, limit)
  }
}

export { InferJob }
