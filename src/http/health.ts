// Health, server and model metadata and model readiness (OIP v2), each model route also under
// /versions/{v}; and KServe v1's liveness (GET /) and model readiness (GET /v1/models/{m}), which
// KServe's InferenceRESTClient asks with its default protocol. Given only the health interface;
// the answers are built in src/oip, the same as gRPC's.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { HealthApi } from '../gateway.js'
import { EXTENSIONS, modelMetadata, modelReady } from '../oip/index.js'
import type { ModelParams } from './inference.js'

type ModelRequest = FastifyRequest<{ Params: ModelParams }>

export function healthRoutes (app: FastifyInstance, health: HealthApi): void {
  app.get('/v2/health/live', async () => ({ live: true }))
  app.get('/v2/health/ready', async (_req, reply) => {
    const ready = health.ready
    return reply.code(ready ? 200 : 503).send({ ready })
  })
  app.get('/v2', async () => ({ name: 'fairgate', version: '0.1.0', extensions: EXTENSIONS }))
  const metadata = async (req: ModelRequest): Promise<object> => modelMetadata(health, req.params.model, req.params.version)
  app.get('/v2/models/:model', metadata)
  app.get('/v2/models/:model/versions/:version', metadata)
  const ready = async (req: ModelRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const ok = modelReady(health, req.params.model, req.params.version)
    return reply.code(ok ? 200 : 503).send({ name: req.params.model, ready: ok })
  }
  app.get('/v2/models/:model/ready', ready)
  app.get('/v2/models/:model/versions/:version/ready', ready)
  app.get('/', async () => ({ status: 'alive' }))
  app.get('/v1/models/:model', ready)
}
