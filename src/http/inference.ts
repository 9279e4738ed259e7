// POST /v2/models/:model[/versions/:version]/infer and POST /v1/predict: parse, validate, hand an
// InferJob to the gateway and return; the answer is written by a shared completion function
// (respond.ts) once the batch has run. Given only the inference interface. The OIP infer routes
// take every body as bytes (JSON with or without a Content-Type, octet-stream, compressed, binary
// tensors after a JSON header) in their own encapsulated scope, so that parser stays off /v1/predict.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { FG_ERR_REQUEST_INVALID } from '../errors.js'
import type { InferenceApi } from '../gateway.js'
import type { Span } from '../telemetry/index.js'
import { isObject, parseBudget } from '../oip/index.js'
import { decodeBody, readInferBody, splitInferBody } from './parse-binary.js'
import { parseOip, type ParseContext } from './parse-oip.js'
import { parsePredict } from './parse-predict.js'
import { respondOip, respondPredictMany, respondPredictOne } from './respond.js'

export type ModelParams = { model: string, version?: string }

/** A request while tracing is on carries its server span in this decorated field. */
export type TracedRequest = FastifyRequest & { fgSpan: Span | null }

/** Routes flagged so: a refusal is counted in fairgate_requests_total. */
export const COUNTED = { config: { counted: true } }

const EMPTY = Buffer.alloc(0)

export function inferenceRoutes (app: FastifyInstance, inference: InferenceApi): void {
  const traced = inference.tracing.enabled
  const tracing = inference.tracing
  const { maxRows, defaultBudgetMs, inflatedBytes } = inference.limits
  const context = (req: FastifyRequest): ParseContext => ({
    // A budget (and latency_ms) counts from arrival, so reading and parsing the body count too.
    now: req.fgArrived,
    maxRows,
    defaultBudgetMs,
    headerBudget: parseBudget(req.headers['x-latency-budget-ms'], 'x-latency-budget-ms header'),
    requestId: req.id
  })

  const infer = async function (req: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply): Promise<FastifyReply> {
    const model = inference.model(req.params.model)
    // fastify runs no parser for a body-less request without a Content-Type: that is an empty body.
    const received = (req.body as Buffer | undefined) ?? EMPTY
    const body = decodeBody(received, req.headers['content-encoding'], inflatedBytes)
    const { json, binary } = splitInferBody(body, req.headers)
    const job = parseOip(model, json, context(req), req.params.version ?? null, binary)
    job.ctx = reply
    job.respond = respondOip
    if (traced) tracing.attach(job, (req as TracedRequest).fgSpan)
    inference.submit(job)
    return reply
  }
  app.register(async (oip) => {
    oip.removeAllContentTypeParsers()
    oip.addContentTypeParser('*', readInferBody)
    oip.post('/v2/models/:model/infer', COUNTED, infer)
    oip.post('/v2/models/:model/versions/:version/infer', COUNTED, infer)
  })

  app.post('/v1/predict', COUNTED, async (req, reply) => {
    const body = req.body
    if (!isObject(body)) throw FG_ERR_REQUEST_INVALID('body', 'must be a JSON object')
    if (typeof body.model !== 'string') throw FG_ERR_REQUEST_INVALID('model', 'is required (a model name)')
    const model = inference.model(body.model)
    const { job, many } = parsePredict(body, model, context(req))
    job.ctx = reply
    job.respond = many ? respondPredictMany : respondPredictOne
    if (traced) tracing.attach(job, (req as TracedRequest).fgSpan)
    inference.submit(job)
    return reply
  })
}
