// OIP v2 routes (fastify plugin): infer, server and model metadata, model readiness, each also
// under /versions/{v}. The infer routes take every body as bytes (JSON with or without a
// Content-Type, octet-stream, compressed, binary tensors after a JSON header); this plugin's
// encapsulation keeps that parser off the other routes.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { InferJob } from '../batching/index.js'
import type { Gateway } from '../gateway.js'
import { EXTENSIONS, modelMetadata, modelReady } from '../oip/metadata.js'
import { decodeBody, readInferBody, splitInferBody } from './parse-binary.js'
import { parseContext } from './parse-context.js'
import { parseOip } from './parse-oip.js'
import { respondOip } from './respond.js'

export interface OipRoutesOptions {
  gw: Gateway
  /** With tracing on: joins the job to the request's span. */
  attachSpan: ((job: InferJob, req: FastifyRequest) => void) | null
}

type ModelParams = { model: string, version?: string }

const EMPTY = Buffer.alloc(0)

export async function oipRoutes (app: FastifyInstance, opts: OipRoutesOptions): Promise<void> {
  const { gw, attachSpan } = opts
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', readInferBody)

  const infer = async function (req: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply): Promise<FastifyReply> {
    const model = gw.registry.model(req.params.model)
    // fastify runs no parser for a body-less request without a Content-Type: that is an empty body.
    const received = (req.body as Buffer | undefined) ?? EMPTY
    const body = decodeBody(received, req.headers['content-encoding'], gw.config.http.inflated_limit_bytes)
    const { json, binary } = splitInferBody(body, req.headers)
    const job = parseOip(model, json, parseContext(gw, req), req.params.version ?? null, binary)
    job.ctx = reply
    job.respond = respondOip
    if (attachSpan !== null) attachSpan(job, req)
    gw.submit(job)
    return reply
  }
  app.post('/v2/models/:model/infer', { config: { counted: true } }, infer)
  app.post('/v2/models/:model/versions/:version/infer', { config: { counted: true } }, infer)

  app.get('/v2', async () => ({ name: 'fairgate', version: '0.1.0', extensions: EXTENSIONS }))
  const metadata = async (req: FastifyRequest<{ Params: ModelParams }>): Promise<object> => modelMetadata(gw, req.params.model, req.params.version)
  app.get('/v2/models/:model', metadata)
  app.get('/v2/models/:model/versions/:version', metadata)
  const ready = async (req: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply): Promise<FastifyReply> => {
    const ok = modelReady(gw, req.params.model, req.params.version)
    return reply.code(ok ? 200 : 503).send({ name: req.params.model, ready: ok })
  }
  app.get('/v2/models/:model/ready', ready)
  app.get('/v2/models/:model/versions/:version/ready', ready)
}
