// The HTTP face of `fairgate monitor`: the same /v1/fairness and /metrics as a gateway, over
// the windows it rebuilt from Kafka, plus health (ready once it has caught up with the log).
import Fastify, { type FastifyInstance } from 'fastify'
import type { Monitor } from '../monitor/index.js'
import type { PolicyController } from '../policy/index.js'
import type { GatewayMetrics } from '../telemetry/index.js'
import { fairnessReport } from './fairness.js'
import { contractOptions, installErrorContract } from './error-contract.js'

export function buildMonitorServer (opts: { monitor: Monitor, policy: PolicyController, metrics: GatewayMetrics, ready: () => boolean, status: () => object }): FastifyInstance {
  const app = Fastify({ logger: false, ...contractOptions })
  installErrorContract(app, app.initialConfig.bodyLimit ?? 1_048_576)
  app.get<{ Querystring: { model?: string, window?: string } }>('/v1/fairness', async (req) => ({ ...fairnessReport(opts.monitor, req.query), policies: opts.policy.status() }))
  app.get<{ Querystring: { model?: string } }>('/v1/decisions', async (req) => ({ decisions: opts.policy.decisions.list(req.query.model) }))
  app.get('/v1/monitor', async () => opts.status())
  app.get('/v2/health/live', async () => ({ live: true }))
  app.get('/v2/health/ready', async (_req, reply) => reply.code(opts.ready() ? 200 : 503).send({ ready: opts.ready() }))
  app.get('/metrics', async (_req, reply) => reply.header('content-type', opts.metrics.registry.contentType).send(await opts.metrics.registry.metrics()))
  return app
}
