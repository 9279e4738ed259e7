// OpenTelemetry tracing: a server span per HTTP request (continuing a W3C `traceparent`), child
// spans for routing and queue wait, and one span per inference batch linked to the request spans
// it served. Off by default, and free when off: the gateway holds the shared `noTracing` object,
// every hook site is guarded by one boolean (`tracing.enabled`) or one field test
// (`job.span !== null`), and the SDK is not even loaded.
//
// Contexts are passed explicitly (no context manager, no AsyncLocalStorage): a child span's parent
// is the request span stored on the InferJob. Times are explicit too: the gateway's monotonic
// Clock.now() readings (enqueue, dispatch, finish) turned into epoch ms with one offset, so the
// queue span ends exactly where its batch span starts (the SDK would correct each span on its
// own with Date.now(), which is only whole milliseconds).
import { DiagLogLevel, ROOT_CONTEXT, SpanKind, SpanStatusCode, defaultTextMapGetter, diag, trace, INVALID_SPAN_CONTEXT, type Attributes, type HrTime, type Link, type Span, type TextMapPropagator, type Tracer, type TracerProvider } from '@opentelemetry/api'
import { systemClock, type Clock } from '../clock.js'
import type { Config } from '../config/index.js'
import type { FairgateError } from '../errors.js'
import type { Logger } from '../logger.js'

export type { Span } from '@opentelemetry/api'

// Telemetry is a leaf: it reads the few fields it traces through these shapes (the batching
// InferJob and the models VariantRuntime have them) instead of importing those folders.

/** A variant as tracing names it. */
export interface TracedVariant {
  readonly name: string
  readonly provider: string
  readonly model: { readonly name: string }
}

/** An inference job as tracing reads it. */
export interface TracedJob {
  span: Span | null
  readonly model: { readonly name: string }
  readonly rows: number
  readonly pinned: string | null
  readonly budgetMs: number
  readonly enqueuedAt: number
  readonly variant: { readonly name: string } | null
  readonly batchSize: number
  readonly queueMs: number
  readonly error: FairgateError | null
  /** The router's prediction when it chose by budget; -1 otherwise. */
  readonly predictedMs: number
}

/** What routes a traced job (the router). */
export interface TracedRouter<M, J, V> {
  choose: (model: M, job: J) => V
}

/** Where a job without a budget of its own gets one (the policies). */
export interface BudgetSource {
  defaultBudget: (model: string) => number
}

/** A tracer provider that can be flushed (the SDK's BasicTracerProvider is one). */
export interface FlushableTracerProvider extends TracerProvider {
  forceFlush?: () => Promise<void>
}

const TRACER_NAME = 'fairgate'
const TRACER_VERSION = '0.1.0'

/** A span that records nothing: what the no-op object hands out if it is ever asked. */
const NON_RECORDING: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT)

export class Tracing {
  /** The one boolean every hook site tests. */
  readonly enabled: boolean
  /** wall − monotonic (ms), re-read once a minute at most to follow a stepped wall clock. */
  private offset: number
  private syncedAt: number

  constructor (
    private readonly tracer: Tracer | null,
    private readonly propagator: TextMapPropagator | null,
    private readonly provider: FlushableTracerProvider | null,
    /** Where spans go, for the start-up log line ("otlp", "console", "custom"). */
    readonly exporter = 'none',
    private readonly clock: Clock = systemClock
  ) {
    this.enabled = tracer !== null
    this.syncedAt = clock.now()
    this.offset = clock.wallNow() - this.syncedAt
  }

  /** A Clock.now() reading as an epoch HrTime (HrTime, so the SDK never mistakes it for performance.now()). */
  private epoch (monotonicMs: number): HrTime {
    const ms = monotonicMs + this.offset
    let sec = Math.floor(ms / 1000)
    let ns = Math.round((ms - sec * 1000) * 1e6)
    if (ns >= 1e9) { sec++; ns -= 1e9 }
    return [sec, ns]
  }

  /** SERVER span of one HTTP request, continuing the trace of its `traceparent` header if any. */
  startServerSpan (method: string, route: string | undefined, url: string, headers: Record<string, string | string[] | undefined>): Span {
    if (this.tracer === null) return NON_RECORDING
    const now = this.clock.now()
    if (now - this.syncedAt > 60_000) {
      this.syncedAt = now
      this.offset = this.clock.wallNow() - now
    }
    const parent = this.propagator === null ? ROOT_CONTEXT : this.propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter)
    const q = url.indexOf('?')
    const attributes: Attributes = {
      'http.request.method': method,
      'url.path': q < 0 ? url : url.slice(0, q),
      'url.scheme': 'http'
    }
    if (route !== undefined) attributes['http.route'] = route
    return this.tracer.startSpan(route === undefined ? method : `${method} ${route}`, { kind: SpanKind.SERVER, attributes, startTime: this.epoch(now) }, parent)
  }

  /** Ends a server span with the response status (5xx marks it as an error, 4xx does not). */
  endServerSpan (span: Span, statusCode: number, aborted: boolean): void {
    span.setAttribute('http.response.status_code', statusCode)
    if (aborted) {
      span.setAttribute('error.type', 'aborted')
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'client aborted the request' })
    } else if (statusCode >= 500) {
      span.setStatus({ code: SpanStatusCode.ERROR })
    }
    span.end(this.epoch(this.clock.now()))
  }

  /** The W3C `traceparent` value naming a span (sent back on the response). */
  static traceparent (span: Span): string {
    const sc = span.spanContext()
    return `00-${sc.traceId}-${sc.spanId}-0${sc.traceFlags & 1}`
  }

  /** Puts the request span on the job and names the model and row count on it. */
  attach (job: TracedJob, span: Span | null): void {
    if (span === null) return
    job.span = span
    span.setAttribute('fairgate.model', job.model.name)
    span.setAttribute('fairgate.rows', job.rows)
    if (job.pinned !== null) span.setAttribute('fairgate.variant.pinned', job.pinned)
  }

  /** Routes a traced job inside a `fairgate.route` span: the budget it had and the variant chosen. */
  route<M, J extends TracedJob & { readonly model: M }, V extends { readonly name: string }> (router: TracedRouter<M, J, V>, job: J, policy: BudgetSource | null): V {
    const parent = job.span
    if (this.tracer === null || parent === null) return router.choose(job.model, job)
    const span = this.tracer.startSpan('fairgate.route', { kind: SpanKind.INTERNAL, startTime: this.epoch(this.clock.now()) }, trace.setSpan(ROOT_CONTEXT, parent))
    const model = job.model.name
    const budget = job.budgetMs > 0 ? job.budgetMs : policy?.defaultBudget(model) ?? 0
    span.setAttribute('fairgate.model', model)
    span.setAttribute('fairgate.budget_ms', budget)
    span.setAttribute('fairgate.budget_source', job.budgetMs > 0 ? 'request' : budget > 0 ? 'policy' : 'none')
    if (job.pinned !== null) span.setAttribute('fairgate.variant.pinned', job.pinned)
    try {
      const v = router.choose(job.model, job)
      span.setAttribute('fairgate.variant', v.name)
      if (job.predictedMs >= 0) span.setAttribute('fairgate.predicted_ms', job.predictedMs)
      parent.setAttribute('fairgate.variant', v.name)
      return v
    } catch (err) {
      markError(span, err)
      throw err
    } finally {
      span.end(this.epoch(this.clock.now()))
    }
  }

  /** `fairgate.queue`: from enqueue to the job's first batch (or to its expiry), explicit times. */
  queued (job: TracedJob, end: number, expired: FairgateError | null): void {
    if (this.tracer === null || job.span === null) return
    const span = this.tracer.startSpan('fairgate.queue', { kind: SpanKind.INTERNAL, startTime: this.epoch(job.enqueuedAt) }, trace.setSpan(ROOT_CONTEXT, job.span))
    span.setAttribute('fairgate.model', job.model.name)
    if (job.variant !== null) span.setAttribute('fairgate.variant', job.variant.name)
    if (expired !== null) markError(span, expired)
    span.end(this.epoch(end))
  }

  /**
   * `fairgate.batch`: one root span per batch, linked to the (sampled) request spans it serves;
   * null when none of its jobs is traced and sampled.
   */
  startBatch (variant: TracedVariant, jobs: ReadonlyArray<TracedJob | null>, counts: Int32Array, segments: number, rows: number, start: number): Span | null {
    if (this.tracer === null) return null
    let links: Link[] | null = null
    for (let i = 0; i < segments; i++) {
      const s = (jobs[i] as TracedJob).span
      if (s !== null && s.isRecording()) (links ??= []).push({ context: s.spanContext(), attributes: { 'fairgate.rows': counts[i] as number } })
    }
    if (links === null) return null
    return this.tracer.startSpan('fairgate.batch', {
      kind: SpanKind.INTERNAL,
      root: true,
      startTime: this.epoch(start),
      links,
      attributes: {
        'fairgate.model': variant.model.name,
        'fairgate.variant': variant.name,
        'fairgate.batch.size': rows,
        'fairgate.batch.requests': segments,
        'fairgate.provider': variant.provider
      }
    }, ROOT_CONTEXT)
  }

  endBatch (span: Span, end: number, error: FairgateError | null): void {
    if (error !== null) markError(span, error)
    span.end(this.epoch(end))
  }

  /** A traced job is answered: what its batches did, and its error code if it failed. */
  jobDone (job: TracedJob): void {
    const span = job.span
    if (span === null) return
    span.setAttribute('fairgate.batch.size', job.batchSize)
    span.setAttribute('fairgate.queue_ms', job.queueMs)
    if (job.error !== null) span.setAttribute('error.type', job.error.code)
  }

  /** Exports what is buffered (shutdown). */
  async flush (): Promise<void> {
    if (this.provider?.forceFlush !== undefined) await this.provider.forceFlush()
  }
}

function markError (span: Span, err: unknown): void {
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string') span.setAttribute('error.type', code)
  span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message ?? String(err) })
}

/** The shared no-op: what a gateway holds while tracing is off. */
export const noTracing = new Tracing(null, null, null)

let injected: FlushableTracerProvider | null = null
let sdk: Promise<{ provider: FlushableTracerProvider, exporter: string } | null> | null = null

/**
 * Tests: the provider gateways started from now on use when tracing is enabled (e.g. a
 * BasicTracerProvider with a SimpleSpanProcessor over an InMemorySpanExporter); null goes back
 * to the SDK configured by the OTEL_* variables.
 */
export function setTracerProvider (provider: FlushableTracerProvider | null): void {
  injected = provider
}

function exporterNames (env: NodeJS.ProcessEnv): string[] {
  return (env.OTEL_TRACES_EXPORTER ?? '').split(',').map(s => s.trim().toLowerCase()).filter(s => s !== '')
}

/**
 * Tracing is on when `tracing.enabled` is true (FAIRGATE_TRACING_ENABLED) or OTEL_TRACES_EXPORTER
 * names `otlp`; OTEL_SDK_DISABLED=true turns it off whatever else says.
 */
export function tracingRequested (config: Config, env: NodeJS.ProcessEnv = process.env): boolean {
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return false
  return config.tracing.enabled || exporterNames(env).includes('otlp')
}

/** The Tracing a gateway uses: the shared no-op unless tracing is requested. */
export async function startTracing (config: Config, log: Logger, clock: Clock = systemClock, env: NodeJS.ProcessEnv = process.env): Promise<Tracing> {
  if (!tracingRequested(config, env)) return noTracing
  const { W3CTraceContextPropagator } = await import('@opentelemetry/core')
  const propagator = new W3CTraceContextPropagator()
  if (injected !== null) return new Tracing(injected.getTracer(TRACER_NAME, TRACER_VERSION), propagator, injected, 'custom', clock)
  sdk ??= createSdkProvider(config, log, env)
  const made = await sdk
  if (made === null) return noTracing
  return new Tracing(made.provider.getTracer(TRACER_NAME, TRACER_VERSION), propagator, made.provider, made.exporter, clock)
}

/**
 * One SDK provider per process (tests start several gateways in one): BasicTracerProvider (its
 * sampler from OTEL_TRACES_SAMPLER/_ARG), a BatchSpanProcessor (OTEL_BSP_*) over the OTLP/HTTP
 * exporter (OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT, _HEADERS, _TIMEOUT …), and a resource named by
 * OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES (default service.name "fairgate").
 */
async function createSdkProvider (config: Config, log: Logger, env: NodeJS.ProcessEnv): Promise<{ provider: FlushableTracerProvider, exporter: string } | null> {
  const [base, resources] = await Promise.all([import('@opentelemetry/sdk-trace-base'), import('@opentelemetry/resources')])
  const names = exporterNames(env)
  if (names.length === 0) names.push('otlp')
  const processors = []
  const used: string[] = []
  for (const name of names) {
    if (name === 'otlp') {
      const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http')
      processors.push(new base.BatchSpanProcessor(new OTLPTraceExporter()))
      used.push(name)
    } else if (name === 'console') {
      processors.push(new base.BatchSpanProcessor(new base.ConsoleSpanExporter()))
      used.push(name)
    } else if (name !== 'none') {
      log.warn({ exporter: name }, 'OTEL_TRACES_EXPORTER: unsupported trace exporter ignored (fairgate has otlp, console, none)')
    }
  }
  if (processors.length === 0) {
    log.warn({ OTEL_TRACES_EXPORTER: env.OTEL_TRACES_EXPORTER }, 'tracing enabled but no trace exporter: tracing stays off')
    return null
  }
  // Export failures reach the SDK's diag logger; send warnings and errors to ours.
  diag.setLogger({
    error: (msg: string, ...args: unknown[]) => { log.error({ args: args.map(a => (a as Error)?.message ?? String(a)) }, `opentelemetry: ${msg}`) },
    warn: (msg: string, ...args: unknown[]) => { log.warn({ args: args.map(a => (a as Error)?.message ?? String(a)) }, `opentelemetry: ${msg}`) },
    info: () => {},
    debug: () => {},
    verbose: () => {}
  }, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true })
  const resource = resources.defaultResource()
    .merge(resources.resourceFromAttributes({ 'service.name': 'fairgate', 'service.version': TRACER_VERSION, 'service.instance.id': config.replica }))
    .merge(resources.detectResources({ detectors: [resources.envDetector] }))
  const provider = new base.BasicTracerProvider({ resource, spanProcessors: processors })
  return { provider, exporter: used.join(',') }
}
