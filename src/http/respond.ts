// Completion callbacks, one shared function per answer shape (no closure per request): the
// batcher finishes a job, the gateway's completion steps assign ids and count it, and these
// write the HTTP answer.
import type { FastifyReply } from 'fastify'
import type { InferJob } from '../batching/index.js'
import { sendError } from './error-contract.js'
import { idBytes, OUT_ID, OUT_ID_RAW, OUT_SCORE, OUT_SCORE_RAW, PREDICTION_ID_OUTPUT, round3, scoreBytes } from '../oip/index.js'

function finishError (job: InferJob, reply: FastifyReply): boolean {
  const err = job.error
  if (err === null) return false
  sendError(reply, err)
  return true
}

export function respondOip (job: InferJob): void {
  const reply = job.ctx as FastifyReply
  if (finishError(job, reply)) return
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
  return { id: job.ids[i], variant: job.variant!.name, score, decision: score >= (job.thresholds[i] as number) ? 1 : 0, threshold: job.thresholds[i], latency_ms: latency }
}

function respondPredictWith (job: InferJob, many: boolean): void {
  const reply = job.ctx as FastifyReply
  if (finishError(job, reply)) return
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
