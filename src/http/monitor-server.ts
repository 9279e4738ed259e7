// The HTTP face of `fairgate monitor`: the same /v1/fairness and /metrics as a gateway, over
// the windows it rebuilt from Kafka, plus health (ready once it has caught up with the log).
import Fastify, { type FastifyInstance } from 'fastify'
import { FairgateError, FG_ERR_NOT_FOUND } from '../errors.js'
import type { Monitor } from '../monitor/index.js'
import type { PolicyController } from '../policy/index.js'
import type { GatewayMetrics } from '../telemetry/index.js'
import { fairnessReport } from './fairness.js'
import { readQuery } from './query.js'
import { sendError } from './respond.js'

export function buildMonitorServer (opts: { monitor: Monitor, policy: PolicyController, metrics: GatewayMetrics, ready: () => boolean, status: () => object }): FastifyInstance {
  const app = Fastify({ logger: false })
  app.setErrorHandler((err, _req, reply) => {
    sendError(reply, err instanceof FairgateError ? err : new FairgateError('FG_ERR_INTERNAL', 500, 'internal error'))
  })
  app.setNotFoundHandler((req, reply) => { sendError(reply, FG_ERR_NOT_FOUND(req.method, req.url.split('?')[0] as string)) })
  app.get('/v1/fairness', async (req) => ({ ...fairnessReport(opts.monitor, readQuery(req.query, ['model', 'window'])), policies: opts.policy.status() }))
  app.get('/v1/decisions', async (req) => ({ decisions: opts.policy.decisions.list(readQuery(req.query, ['model']).model) }))
  app.get('/v1/monitor', async () => opts.status())
  app.get('/v2/health/live', async () => ({ live: true }))
  app.get('/v2/health/ready', async (_req, reply) => reply.code(opts.ready() ? 200 : 503).send({ ready: opts.ready() }))
  app.get('/metrics', async (_req, reply) => reply.header('content-type', opts.metrics.registry.contentType).send(await opts.metrics.registry.metrics()))
  return app
}
