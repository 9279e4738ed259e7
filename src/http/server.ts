// The only place that knows fastify. Routes parse and validate, hand an InferJob to the
// gateway, and return; the answer is written by a shared completion function when the batch
// has run. Every client mistake is a JSON 4xx; nothing a client sends can crash the process.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { FairgateError, FG_ERR_NOT_FOUND, FG_ERR_REQUEST_INVALID } from '../errors.js'
import type { Gateway } from '../gateway.js'
import { nextPredictionId } from '../prediction-id.js'
import { Tracing, type Span } from '../telemetry/index.js'
import { registerAdminRoutes } from './admin.js'
import { closeConnectionWhen } from './drain.js'
import { handleFeedback } from './feedback.js'
import { fairnessReport } from './fairness.js'
import { checkRequestIdHeader, isObject, parseBudget } from './parse-common.js'
import { parseOip, type ParseContext } from './parse-oip.js'
import { readQuery } from './query.js'
import { serverTimeouts } from './timeouts.js'
import { parsePredict } from './parse-predict.js'
import { respondOip, respondPredictMany, respondPredictOne, sendError } from './respond.js'

declare module 'fastify' {
  interface FastifyInstance { fairgate: Gateway }
  /** Set by the onRequest hook: Clock.now() when the request's headers were read. */
  interface FastifyRequest { fgArrived: number }
}

export interface ServerOptions {
  /** pino options, or false for none (tests). */
  logger?: boolean | object
  /** An existing pino logger to share with the gateway. */
  loggerInstance?: FastifyBaseLogger
}

type ModelParams = { model: string, version?: string }

const FAIRNESS_QUERY = ['model', 'window'] as const
const DECISIONS_QUERY = ['model', 'limit'] as const

/** A request while tracing is on carries its server span in this decorated field. */
type TracedRequest = FastifyRequest & { fgSpan: Span | null }

/**
 * With tracing on (only then): a SERVER span per request, continuing the caller's W3C trace
 * context, its `traceparent` echoed on the response, ended with the status code once answered.
 */
function installTracing (app: FastifyInstance, tracing: Tracing): void {
  app.decorateRequest('fgSpan', null)
  app.addHook('onRequest', (req, reply, done) => {
    const span = tracing.startServerSpan(req.method, req.routeOptions.url, req.url, req.headers)
    ;(req as TracedRequest).fgSpan = span
    reply.header('traceparent', Tracing.traceparent(span))
    done()
  })
  const end = (req: FastifyRequest, status: number, aborted: boolean): void => {
    const span = (req as TracedRequest).fgSpan
    if (span === null) return
    ;(req as TracedRequest).fgSpan = null
    tracing.endServerSpan(span, status, aborted)
  }
  app.addHook('onResponse', (req, reply, done) => { end(req, reply.statusCode, false); done() })
  app.addHook('onRequestAbort', (req, done) => { end(req, 499, true); done() })
}

function context (gw: Gateway, req: FastifyRequest): ParseContext {
  return {
    // A budget (and latency_ms) counts from arrival, so reading and parsing the body count too.
    now: req.fgArrived,
    maxRows: gw.config.http.max_rows_per_request,
    defaultBudgetMs: gw.config.batching.default_latency_budget_ms,
    headerBudget: parseBudget(req.headers['x-latency-budget-ms'], 'x-latency-budget-ms header'),
    requestId: req.id
  }
}

export function buildServer (gw: Gateway, opts: ServerOptions = {}): FastifyInstance {
  const app = Fastify({
    ...(opts.loggerInstance !== undefined ? { loggerInstance: opts.loggerInstance } : { logger: opts.logger ?? false }),
    bodyLimit: gw.config.http.body_limit_bytes,
    ...serverTimeouts(gw.config.http),
    // Per-request log lines cost throughput and could carry labels; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    requestIdHeader: 'x-request-id',
    genReqId: () => nextPredictionId()
  })
  app.decorate('fairgate', gw)
  app.server.maxConnections = gw.config.http.max_connections
  // One boolean decides once, here, whether requests are traced; off adds no hook and no work.
  const tracing = gw.tracing
  const traced = tracing.enabled
  if (traced) installTracing(app, tracing)
  const clock = gw.clock
  // Declared up front, so every request object keeps one shape instead of gaining a property.
  app.decorateRequest('fgArrived', 0)
  app.addHook('onRequest', (req, _reply, done) => { req.fgArrived = clock.now(); done() })
  app.addHook('onRequest', checkRequestIdHeader)
  app.addHook('onSend', closeConnectionWhen(() => gw.isDraining))
  // JSON only: a text/plain body would otherwise reach the parsers as a string.
  app.removeContentTypeParser('text/plain')

  app.setErrorHandler((err: FastifyError | FairgateError, req, reply) => {
    let e: FairgateError
    if (err instanceof FairgateError) e = err
    else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      // fastify's own client errors: bad JSON, body too large, wrong content-type, …
      e = new FairgateError(err.code ?? 'FG_ERR_REQUEST_INVALID', err.statusCode, err.statusCode === 400 && err instanceof SyntaxError ? `body: malformed JSON (${err.message})` : err.message)
    } else {
      req.log.error({ err: err.message, stack: err.stack }, 'unhandled error')
      e = new FairgateError('FG_ERR_INTERNAL', 500, 'internal error')
    }
    const params = req.params as Partial<ModelParams> | undefined
    if (req.routeOptions.config !== undefined && (req.routeOptions.config as { counted?: boolean }).counted === true) {
      const body = req.body as Record<string, unknown> | undefined
      const model = params?.model ?? (isObject(body) && typeof body.model === 'string' ? body.model : '')
      gw.countRejected(model, e.statusCode)
    }
    if (traced) {
      const span = (req as TracedRequest).fgSpan
      if (span !== null) span.setAttribute('error.type', e.code)
    }
    sendError(reply, e)
  })

  app.setNotFoundHandler((req, reply) => { sendError(reply, FG_ERR_NOT_FOUND(req.method, req.url.split('?')[0] as string)) })

  // --- inference
  const infer = async function (req: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply): Promise<FastifyReply> {
    const model = gw.registry.model(req.params.model)
    const job = parseOip(model, req.body, context(gw, req), req.params.version ?? null)
    job.ctx = reply
    job.respond = respondOip
    if (traced) tracing.attach(job, (req as TracedRequest).fgSpan)
    gw.submit(job)
    return reply
  }
  app.post('/v2/models/:model/infer', { config: { counted: true } }, infer)
  app.post('/v2/models/:model/versions/:version/infer', { config: { counted: true } }, infer)

  app.post('/v1/predict', { config: { counted: true } }, async (req, reply) => {
    const body = req.body
    if (!isObject(body)) throw FG_ERR_REQUEST_INVALID('body', 'must be a JSON object')
    if (typeof body.model !== 'string') throw FG_ERR_REQUEST_INVALID('model', 'is required (a model name)')
    const model = gw.registry.model(body.model)
    const { job, many } = parsePredict(body, model, context(gw, req))
    job.ctx = reply
    job.respond = many ? respondPredictMany : respondPredictOne
    if (traced) tracing.attach(job, (req as TracedRequest).fgSpan)
    gw.submit(job)
    return reply
  })

  app.post('/v1/feedback', async (req, reply) => {
    const r = handleFeedback(gw, req.body)
    return reply.code(r.status).send(r.body)
  })

  app.get('/v1/fairness', async (req) => ({
    ...fairnessReport(gw.monitor!, readQuery(req.query, FAIRNESS_QUERY)),
    policies: gw.policy?.status() ?? []
  }))
  app.get('/v1/decisions', async (req) => {
    const q = readQuery(req.query, DECISIONS_QUERY)
    const limit = q.limit === undefined ? 100 : /^\d+$/.test(q.limit) ? Number(q.limit) : NaN
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw FG_ERR_REQUEST_INVALID('limit', 'must be an integer from 1 to 1000')
    return { decisions: gw.policy?.decisions.list(q.model, limit) ?? [] }
  })
  registerAdminRoutes(app, gw)

  // --- health and metadata (OIP v2)
  app.get('/v2/health/live', async () => ({ live: true }))
  app.get('/v2/health/ready', async (_req, reply) => {
    const ready = gw.ready
    return reply.code(ready ? 200 : 503).send({ ready })
  })
  app.get('/v2', async () => ({ name: 'fairgate', version: '0.1.0', extensions: [] }))
  app.get<{ Params: ModelParams }>('/v2/models/:model', async (req) => {
    const m = gw.registry.model(req.params.model)
    return {
      name: m.name,
      versions: m.variants.map(v => v.name),
      platform: 'onnxruntime_onnx',
      inputs: [{ name: m.manifest.input.name, datatype: 'FP32', shape: [-1, m.width] }],
      outputs: [{ name: m.manifest.output.name, datatype: 'FP32', shape: [-1, 1] }],
      parameters: {
        threshold: m.manifest.threshold,
        features: m.manifest.features.map(f => f.kind === 'numeric' ? { name: f.name, kind: f.kind } : { name: f.name, kind: f.kind, values: f.vocabulary }),
        groups: m.manifest.groups,
        active_variant: gw.active.active(m.name),
        variants: m.variants.map(v => ({ name: v.name, state: v.state, provider: v.provider, error: v.error }))
      }
    }
  })
  app.get<{ Params: ModelParams }>('/v2/models/:model/ready', async (req, reply) => {
    const m = gw.registry.model(req.params.model)
    return reply.code(m.ready && !gw.isDraining ? 200 : 503).send({ name: m.name, ready: m.ready && !gw.isDraining })
  })

  app.get('/v1/variants', async () => ({
    models: gw.registry.models.map(m => {
      const s = gw.active.get(m.name)
      return {
        model: m.name,
        active: s?.active,
        last_known_good: s?.lastKnownGood,
        variants: m.variants.map(v => ({
          name: v.name,
          state: v.state,
          provider: v.provider,
          active: s?.active === v.name,
          last_known_good: s?.lastKnownGood === v.name,
          queue_rows: gw.batcher(v).queuedRows,
          error: v.error
        }))
      }
    })
  }))

  app.get('/metrics', async (_req, reply) => {
    const text = await gw.metrics.registry.metrics()
    return reply.header('content-type', gw.metrics.registry.contentType).send(text)
  })

  return app
}
