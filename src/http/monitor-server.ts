// The HTTP face of `fairgate monitor`: the same /v1/fairness, /v1/decisions and /metrics plugins
// as a gateway, over the windows it rebuilt from Kafka, plus health (ready once it has caught up
// with the log), /v1/monitor and the /ui page.
import Fastify, { type FastifyInstance } from 'fastify'
import type { FairnessApi, MetricsApi } from '../gateway.js'
import { contractOptions, installErrorContract } from './error-contract.js'
import { fairnessRoutes } from './fairness.js'
import { metricsRoutes } from './metrics.js'
import { loadUiAssets, uiRoutes } from './ui.js'

export function buildMonitorServer (opts: { fairness: FairnessApi, metrics: MetricsApi, ready: () => boolean, status: () => object }): FastifyInstance {
  const app = Fastify({ logger: false, ...contractOptions })
  installErrorContract(app, app.initialConfig.bodyLimit ?? 1_048_576)
  app.register(async (scope) => { fairnessRoutes(scope, opts.fairness) })
  app.register(async (scope) => { metricsRoutes(scope, opts.metrics) })
  const ui = loadUiAssets()
  app.register(async (scope) => { uiRoutes(scope, ui) })
  app.get('/v1/monitor', async () => opts.status())
  app.get('/v2/health/live', async () => ({ live: true }))
  app.get('/v2/health/ready', async (_req, reply) => reply.code(opts.ready() ? 200 : 503).send({ ready: opts.ready() }))
  return app
}
