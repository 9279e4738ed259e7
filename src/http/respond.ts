// Completion callbacks, one shared function per answer shape (no closure per request): the
// batcher finishes a job, the gateway assigns ids, and these write the HTTP answer.
import type { FastifyReply } from 'fastify'
import type { InferJob } from '../batching/index.js'
import type { FairgateError } from '../errors.js'
import type { Gateway } from '../gateway.js'
import { idBytes, round3, scoreBytes } from '../oip/infer-answer.js'
import { OUT_ID, OUT_ID_RAW, OUT_SCORE, OUT_SCORE_RAW, PREDICTION_ID_OUTPUT } from '../oip/infer-request.js'

export function sendError (reply: FastifyReply, err: FairgateError): void {
  if (err.retryAfter !== undefined) reply.header('retry-after', String(err.retryAfter))
  // While draining, tell keep-alive clients to reconnect elsewhere rather than reuse this socket.
  if (err.statusCode === 503) reply.header('connection', 'close')
  // Exactly application/json: KServe's client reads the error text only for that content type.
  reply.code(err.statusCode).type('application/json').send(Buffer.from(JSON.stringify({ error: err.message, code: err.code })))
}

function finishError (job: InferJob, reply: FastifyReply, gw: Gateway): boolean {
  const err = job.error
  if (err === null) return false
  gw.countJob(job, err.statusCode)
  sendError(reply, err)
  return true
}

function gatewayOf (reply: FastifyReply): Gateway {
  return (reply.server as unknown as { fairgate: Gateway }).fairgate
}

export function respondOip (job: InferJob): void {
  const reply = job.ctx as FastifyReply
  const gw = gatewayOf(reply)
  if (finishError(job, reply, gw)) return
  gw.countJob(job, 200)
  const n = job.rows
  const bits = job.answer
  const outputs: object[] = []
  let raw: Buffer[] | null = null
  if ((bits & OUT_SCORE) !== 0) {
    const out: Record<string, unknown> = { name: job.model.manifest.output.name, datatype: 'FP32', shape: [n, 1] }
    if ((bits & OUT_SCORE_RAW) !== 0) {
      const b = scoreBytes(job)
      out.parameters = { binary_data_size: b.length }
      ;(raw ??= []).push(b)
    } else {
      const data = new Array<number>(n)
      for (let i = 0; i < n; i++) data[i] = job.scores[i] as number
      out.data = data
    }
    outputs.push(out)
  }
  if ((bits & OUT_ID) !== 0) {
    const out: Record<string, unknown> = { name: PREDICTION_ID_OUTPUT, datatype: 'BYTES', shape: [n] }
    if ((bits & OUT_ID_RAW) !== 0) {
      const b = idBytes(job.ids)
      out.parameters = { binary_data_size: b.length }
      ;(raw ??= []).push(b)
    } else {
      out.data = job.ids
    }
    outputs.push(out)
  }
  const header = {
    model_name: job.model.name,
    model_version: job.variant!.name,
    id: job.requestId,
    parameters: { queue_ms: round3(job.queueMs), batch_size: job.batchSize },
    outputs
  }
  if (raw === null) {
    reply.send(header)
    return
  }
  // Binary extension: the JSON header, then each binary output's bytes in output order.
  const json = Buffer.from(JSON.stringify(header))
  reply.header('inference-header-content-length', String(json.length)).type('application/octet-stream').send(Buffer.concat([json, ...raw]))
}

function predictionOf (job: InferJob, i: number, latency: number): object {
  const score = job.scores[i] as number
  return { id: job.ids[i], variant: job.variant!.name, score, decision: score >= job.model.manifest.threshold ? 1 : 0, latency_ms: latency }
}

function respondPredictWith (job: InferJob, many: boolean): void {
  const reply = job.ctx as FastifyReply
  const gw = gatewayOf(reply)
  if (finishError(job, reply, gw)) return
  gw.countJob(job, 200)
  const latency = round3(job.finishedAt - job.receivedAt)
  if (!many) {
    reply.send(predictionOf(job, 0, latency))
    return
  }
  const out = new Array<object>(job.rows)
  for (let i = 0; i < job.rows; i++) out[i] = predictionOf(job, i, latency)
  reply.send(out)
}

export function respondPredictOne (job: InferJob): void { respondPredictWith(job, false) }
export function respondPredictMany (job: InferJob): void { respondPredictWith(job, true) }
