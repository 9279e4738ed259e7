// POST /v2/models/:model[/versions/:version]/infer, KServe v1's POST /v1/models/:model:predict
// and POST /v1/predict: parse, validate, hand an InferJob to the gateway and return; the answer is
// written by a shared completion function (respond.ts) once the batch has run. Given only the
// inference interface. The OIP and KServe routes take every body as bytes (JSON with or without a
// Content-Type, octet-stream, compressed, binary tensors after a JSON header) in their own
// encapsulated scope, so that parser stays off /v1/predict.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { FG_ERR_NOT_FOUND, FG_ERR_REQUEST_INVALID } from '../errors.js'
import type { InferJob } from '../batching/index.js'
import type { InferenceApi } from '../gateway.js'
import type { Span } from '../telemetry/index.js'
import { isObject, OUT_ID_RAW, OUT_SCORE_RAW, parseBudget } from '../oip/index.js'
import { decodeBody, readInferBody, splitInferBody } from './parse-binary.js'
import { parseOip, type ParseContext } from './parse-oip.js'
import { parsePredict } from './parse-predict.js'
import { respondKServeV1, respondOip, respondPredictMany, respondPredictOne } from './respond.js'

export type ModelParams = { model: string, version?: string }

/** A request while tracing is on carries its server span in this decorated field. */
export type TracedRequest = FastifyRequest & { fgSpan: Span | null }

/** Routes flagged so: a refusal is counted in fairgate_requests_total. */
export const COUNTED = { config: { counted: true } }

const EMPTY = Buffer.alloc(0)
const PREDICT = ':predict'

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

  // Once per route group, not per request: the job answers through `respond` once its batch has run.
  const submit = (job: InferJob, req: FastifyRequest, reply: FastifyReply, respond: (job: InferJob) => void): FastifyReply => {
    job.ctx = reply
    job.respond = respond
    if (traced) tracing.attach(job, (req as TracedRequest).fgSpan)
    inference.submit(job)
    return reply
  }

  // The OIP routes' handlers are plain functions, not async ones: fastify then has no promise to
  // wait for per request (the answer is sent later, by `respond`), and an error thrown here
  // reaches the same error handler. They must return undefined: a returned value is sent.
  const infer = function (req: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply): void {
    const model = inference.model(req.params.model)
    // fastify runs no parser for a body-less request without a Content-Type: that is an empty body.
    const received = (req.body as Buffer | undefined) ?? EMPTY
    const body = decodeBody(received, req.headers['content-encoding'], inflatedBytes)
    const { json, binary } = splitInferBody(body, req.headers)
    const job = parseOip(model, json, context(req), req.params.version ?? null, binary)
    submit(job, req, reply, respondOip)
  }
  // KServe v1 (what KServe's InferenceRESTClient speaks with its default RESTConfig): the body is
  // KServe's {"instances": [...]} (rows as /v1/predict takes them; the answer is
  // {"predictions": [...]}), or the OIP v2 request that client builds from an InferRequest, binary
  // tensors included, answered as OIP JSON: the client reads every v1 answer as JSON.
  const predict = async function (req: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply): Promise<FastifyReply> {
    const target = req.params.model
    // find-my-way cannot put a literal ":predict" after a parameter in one segment: it is split here.
    if (!target.endsWith(PREDICT) || target.length === PREDICT.length) throw FG_ERR_NOT_FOUND(req.method, req.url)
    // The model's own name, so that a refusal is counted under it.
    req.params.model = target.slice(0, -PREDICT.length)
    const model = inference.model(req.params.model)
    const received = (req.body as Buffer | undefined) ?? EMPTY
    const body = decodeBody(received, req.headers['content-encoding'], inflatedBytes)
    const { json, binary } = splitInferBody(body, req.headers)
    if (isObject(json) && json.instances !== undefined && binary === null) {
      const { job } = parsePredict(json, model, context(req))
      return submit(job, req, reply, respondKServeV1)
    }
    const job = parseOip(model, json, context(req), null, binary)
    job.answer &= ~(OUT_SCORE_RAW | OUT_ID_RAW)
    return submit(job, req, reply, respondOip)
  }
  app.register(async (oip) => {
    oip.removeAllContentTypeParsers()
    oip.addContentTypeParser('*', readInferBody)
    oip.post('/v2/models/:model/infer', COUNTED, infer)
    oip.post('/v2/models/:model/versions/:version/infer', COUNTED, infer)
    oip.post('/v1/models/:model', COUNTED, predict)
  })

  app.post('/v1/predict', COUNTED, async (req, reply) => {
    const body = req.body
    if (!isObject(body)) throw FG_ERR_REQUEST_INVALID('body', 'must be a JSON object')
    if (typeof body.model !== 'string') throw FG_ERR_REQUEST_INVALID('model', 'is required (a model name)')
    const model = inference.model(body.model)
    const { job, many } = parsePredict(body, model, context(req))
    return submit(job, req, reply, many ? respondPredictMany : respondPredictOne)
  })
}
