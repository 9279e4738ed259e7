// Health and model metadata (OIP v2). Given only the health interface.
import type { FastifyInstance } from 'fastify'
import type { HealthApi } from '../gateway.js'
import type { ModelParams } from './inference.js'

export function healthRoutes (app: FastifyInstance, health: HealthApi): void {
  app.get('/v2/health/live', async () => ({ live: true }))
  app.get('/v2/health/ready', async (_req, reply) => {
    const ready = health.ready
    return reply.code(ready ? 200 : 503).send({ ready })
  })
  app.get('/v2', async () => ({ name: 'fairgate', version: '0.1.0', extensions: [] }))
  app.get<{ Params: ModelParams }>('/v2/models/:model', async (req) => {
    const m = health.model(req.params.model)
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
        active_variant: health.active(m.name),
        variants: m.variants.map(v => ({ name: v.name, state: v.state, provider: v.provider, error: v.error }))
      }
    }
  })
  app.get<{ Params: ModelParams }>('/v2/models/:model/ready', async (req, reply) => {
    const m = health.model(req.params.model)
    const ready = m.ready && !health.draining
    return reply.code(ready ? 200 : 503).send({ name: m.name, ready })
  })
}
