// Completion callbacks, one shared function per answer shape (no closure per request): the
// batcher finishes a job, the gateway's completion steps assign ids and count it, and these
// write the HTTP answer.
import type { FastifyReply } from 'fastify'
import type { InferJob } from '../batching/index.js'
import { sendError } from './error-contract.js'

function finishError (job: InferJob, reply: FastifyReply): boolean {
  const err = job.error
  if (err === null) return false
  sendError(reply, err)
  return true
}

export function respondOip (job: InferJob): void {
  const reply = job.ctx as FastifyReply
  if (finishError(job, reply)) return
  const variant = job.variant!.name
  const data = new Array<number>(job.rows)
  for (let i = 0; i < job.rows; i++) data[i] = job.scores[i] as number
  reply.send({
    model_name: job.model.name,
    model_version: variant,
    id: job.requestId,
    parameters: { prediction_ids: job.ids, queue_ms: round3(job.queueMs), batch_size: job.batchSize },
    outputs: [{ name: job.model.manifest.output.name, datatype: 'FP32', shape: [job.rows, 1], data }]
  })
}

function round3 (x: number): number { return Math.round(x * 1000) / 1000 }

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
