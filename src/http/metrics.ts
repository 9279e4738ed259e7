// GET /metrics: the Prometheus exposition. Given only the metrics interface.
import type { FastifyInstance } from 'fastify'
import type { MetricsApi } from '../gateway.js'

export function metricsRoutes (app: FastifyInstance, metrics: MetricsApi): void {
  app.get('/metrics', async (_req, reply) => reply.header('content-type', metrics.contentType).send(await metrics.text()))
}
