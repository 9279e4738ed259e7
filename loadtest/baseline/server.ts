// The hand-rolled baselines fairgate is measured against, run as their own process:
//
//   node --import tsx loadtest/baseline/server.ts --mode baseline [--port 8081] [--variants full,distilled]
//     what a user would write: fastify + onnxruntime-node, ONE session.run per request (no
//     batching), same model files, same POST /v1/predict request and answer format.
//   node --import tsx loadtest/baseline/server.ts --mode constant [--port 8082]
//     the HTTP ceiling: fastify parses the JSON body and answers a constant JSON object.
//
// Both answer GET /v2/health/ready so the bench can wait for them like for the gateway.
import { randomUUID } from 'node:crypto'
import { parseArgs } from 'node:util'
import Fastify from 'fastify'
import ort from 'onnxruntime-node'
import { loadHandModel } from './model.js'

const { values: args } = parseArgs({
  options: {
    mode: { type: 'string', default: 'baseline' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '8081' },
    variants: { type: 'string', default: 'full,distilled,int8' },
    model: { type: 'string', default: 'income' }
  }
})

const app = Fastify({ logger: false })
const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x)

if (args.mode === 'constant') {
  const answer = { id: '01JBENCHCONSTANT000000000000', variant: 'distilled', score: 0.1234, decision: 0, latency_ms: 0 }
  app.post('/v1/predict', async (req, reply) => {
    if (!isObject(req.body)) return await reply.code(400).send({ error: 'body: must be a JSON object' })
    return answer
  })
} else if (args.mode === 'baseline') {
  const m = await loadHandModel(`models/${args.model}`, args.variants.split(','))
  const defaultVariant = m.sessions.keys().next().value as string
  app.post('/v1/predict', async (req, reply) => {
    const t0 = performance.now()
    const body = req.body
    if (!isObject(body)) return await reply.code(400).send({ error: 'body: must be a JSON object' })
    if (body.model !== args.model) return await reply.code(404).send({ error: 'model: unknown' })
    const variant = typeof body.variant === 'string' ? body.variant : defaultVariant
    const session = m.sessions.get(variant)
    if (session === undefined) return await reply.code(404).send({ error: 'variant: unknown' })
    const input = new Float32Array(m.width)
    const f = body.features
    if (Array.isArray(f) && f.length === m.width) {
      for (let i = 0; i < m.width; i++) input[i] = Number(f[i])
    } else if (isObject(f)) {
      try {
        m.encoder.encode(f, input, 0, 'features')
      } catch (err) {
        return await reply.code(400).send({ error: (err as Error).message })
      }
    } else {
      return await reply.code(400).send({ error: 'features: required' })
    }
    const out = await session.run({ [m.inputName]: new ort.Tensor('float32', input, [1, m.width]) })
    const score = (out[m.outputName]!.data as Float32Array)[0]!
    return { id: randomUUID(), variant, score, decision: score >= m.threshold ? 1 : 0, latency_ms: Math.round((performance.now() - t0) * 1000) / 1000 }
  })
} else {
  throw new Error(`--mode must be baseline or constant, not ${args.mode}`)
}

app.get('/v2/health/ready', async () => ({ ready: true }))
await app.listen({ host: args.host, port: Number(args.port) })
const stop = (): void => { void app.close().then(() => process.exit(0)) }
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
