// The gateway's fastify server: the error contract, request timing and tracing hooks, then one
// plugin per route group (inference, feedback, fairness, variants, health, metrics, the /ui
// page), each given only the gateway interface it uses (the page: none). Every client mistake
// is a JSON 4xx; nothing a client sends can crash the process.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify'
import { contractOptions, installErrorContract } from './error-contract.js'
import { closeConnectionWhen } from './drain.js'
import { lazyChildLogger } from './request-logger.js'
import type { Gateway } from '../gateway.js'
import { nextPredictionId } from '../prediction-id.js'
import { Tracing } from '../telemetry/index.js'
import { variantsRoutes } from './admin.js'
import { feedbackRoutes } from './feedback.js'
import { fairnessRoutes } from './fairness.js'
import { healthRoutes } from './health.js'
import { inferenceRoutes, type ModelParams, type TracedRequest } from './inference.js'
import { metricsRoutes } from './metrics.js'
import { isObject } from '../oip/index.js'
import { serverTimeouts } from './timeouts.js'
import { loadUiAssets, uiRoutes } from './ui.js'

declare module 'fastify' {
  /** Set by the onRequest hook: Clock.now() when the request's headers were read. */
  interface FastifyRequest { fgArrived: number }
}

export interface ServerOptions {
  /** pino options, or false for none (tests). */
  logger?: boolean | object
  /** An existing pino logger to share with the gateway (a pino instance: fastify needs child()). */
  loggerInstance?: object
}

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

export function buildServer (gw: Gateway, opts: ServerOptions = {}): FastifyInstance {
  const app = Fastify({
    ...(opts.loggerInstance !== undefined ? { loggerInstance: opts.loggerInstance as FastifyBaseLogger } : { logger: opts.logger ?? false }),
    bodyLimit: gw.config.http.body_limit_bytes,
    ...serverTimeouts(gw.config.http),
    // Per-request log lines cost throughput and could carry labels; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    // So a request that logs nothing (nearly all) makes no pino child either (request-logger.ts).
    childLoggerFactory: lazyChildLogger,
    ...contractOptions,
    // OIP clients and the spec's OpenAPI write some paths with a trailing slash (GET /v2/).
    routerOptions: { ignoreTrailingSlash: true },
    requestIdHeader: 'x-request-id',
    genReqId: () => nextPredictionId()
  })
  app.server.maxConnections = gw.config.http.max_connections
  // One boolean decides once, here, whether requests are traced; off adds no hook and no work.
  const tracing = gw.tracing
  const traced = tracing.enabled
  if (traced) installTracing(app, tracing)
  const clock = gw.clock
  // Declared up front, so every request object keeps one shape instead of gaining a property.
  app.decorateRequest('fgArrived', 0)
  app.addHook('onRequest', (req, _reply, done) => { req.fgArrived = clock.now(); done() })
  // Once a SIGTERM drain starts, every answer tells its keep-alive client to go (see drain.ts).
  app.addHook('onSend', closeConnectionWhen(() => gw.isDraining))
  // JSON only: a text/plain body would otherwise reach the parsers as a string.
  app.removeContentTypeParser('text/plain')

  installErrorContract(app, gw.config.http.body_limit_bytes, (e, req) => {
    if (req.routeOptions.config !== undefined && (req.routeOptions.config as { counted?: boolean }).counted === true) {
      const params = req.params as Partial<ModelParams> | undefined
      const body = req.body as Record<string, unknown> | undefined
      const model = params?.model ?? (isObject(body) && typeof body.model === 'string' ? body.model : '')
      gw.inference.countRejected(model, e.statusCode)
    }
    if (traced) {
      const span = (req as TracedRequest).fgSpan
      if (span !== null && span !== undefined) span.setAttribute('error.type', e.code)
    }
  })

  // One plugin per route group, each given only the interface it uses.
  app.register(async (scope) => { inferenceRoutes(scope, gw.inference) })
  app.register(async (scope) => { feedbackRoutes(scope, gw.feedback) })
  app.register(async (scope) => { fairnessRoutes(scope, gw.fairness) })
  app.register(async (scope) => { variantsRoutes(scope, gw.variants) })
  app.register(async (scope) => { healthRoutes(scope, gw.health) })
  app.register(async (scope) => { metricsRoutes(scope, gw.metricsApi) })
  const ui = loadUiAssets()
  app.register(async (scope) => { uiRoutes(scope, ui) })
  return app
}
