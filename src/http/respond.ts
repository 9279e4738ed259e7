// Completion callbacks, one shared function per answer shape (no closure per request): the
// batcher finishes a job, the gateway's completion steps assign ids and count it, and these
// write the HTTP answer.
import type { FastifyReply } from 'fastify'
import type { InferJob } from '../batching/index.js'
import { sendError } from './error-contract.js'
import { jobIdBytesLength, OUT_ID, OUT_ID_RAW, OUT_SCORE, OUT_SCORE_RAW, PREDICTION_ID_OUTPUT, round3, scoreBytes, writeJobIdBytes } from '../oip/index.js'

function finishError (job: InferJob, reply: FastifyReply): boolean {
  const err = job.error
  if (err === null) return false
  sendError(reply, err)
  return true
}

export function respondOip (job: InferJob): void {
  const reply = job.ctx as FastifyReply
  if (finishError(job, reply)) return
  const bits = job.answer
  const scoreRaw = (bits & OUT_SCORE_RAW) !== 0
  const idRaw = (bits & OUT_ID_RAW) !== 0
  if (!scoreRaw && !idRaw) {
    reply.send(jsonAnswer(job, bits))
    return
  }
  // Binary extension: the JSON header, then each binary output's bytes in output order, all
  // written into one buffer (no per-output buffers to join).
  const n = job.rows
  const idSize = idRaw ? jobIdBytesLength(job) : 0
  const json = binaryHeader(job, bits, idSize)
  const hl = Buffer.byteLength(json)
  const body = Buffer.allocUnsafe(hl + (scoreRaw ? n * 4 : 0) + idSize)
  body.write(json, 0, hl, 'utf8')
  let at = hl
  if (scoreRaw) {
    scoreBytes(job).copy(body, at)
    at += n * 4
  }
  if (idRaw) writeJobIdBytes(job, body, at)
  reply.header('inference-header-content-length', String(hl)).type('application/octet-stream').send(body)
}

function scoreData (job: InferJob): number[] {
  const n = job.rows
  const data = new Array<number>(n)
  for (let i = 0; i < n; i++) data[i] = job.scores[i] as number
  return data
}

/** The OIP answer without binary outputs, as fastify serializes it. */
function jsonAnswer (job: InferJob, bits: number): object {
  const n = job.rows
  const outputs: object[] = []
  if ((bits & OUT_SCORE) !== 0) outputs.push({ name: job.model.manifest.output.name, datatype: 'FP32', shape: [n, 1], data: scoreData(job) })
  if ((bits & OUT_ID) !== 0) outputs.push({ name: PREDICTION_ID_OUTPUT, datatype: 'BYTES', shape: [n], data: job.ids })
  return {
    model_name: job.model.name,
    model_version: job.variant!.name,
    id: job.requestId,
    parameters: { queue_ms: round3(job.queueMs), batch_size: job.batchSize },
    outputs
  }
}

/** A number as JSON writes it (null for NaN and ±Infinity, which JSON has no words for). */
function num (x: number): string { return Number.isFinite(x) ? String(x) : 'null' }

/**
 * The binary answer's JSON header, the text JSON.stringify gives for jsonAnswer's object with
 * `parameters.binary_data_size` in place of each binary output's data (a test holds them equal),
 * written as a template: building and serializing the object cost twice as much, per request.
 */
export function binaryHeader (job: InferJob, bits: number, idSize: number): string {
  const n = job.rows
  let outputs = ''
  if ((bits & OUT_SCORE) !== 0) {
    const data = (bits & OUT_SCORE_RAW) !== 0 ? `"parameters":{"binary_data_size":${n * 4}}` : `"data":${JSON.stringify(scoreData(job))}`
    outputs = `{"name":${JSON.stringify(job.model.manifest.output.name)},"datatype":"FP32","shape":[${n},1],${data}}`
  }
  if ((bits & OUT_ID) !== 0) {
    const data = (bits & OUT_ID_RAW) !== 0 ? `"parameters":{"binary_data_size":${idSize}}` : `"data":${JSON.stringify(job.ids)}`
    outputs += `${outputs === '' ? '' : ','}{"name":"${PREDICTION_ID_OUTPUT}","datatype":"BYTES","shape":[${n}],${data}}`
  }
  return `{"model_name":${JSON.stringify(job.model.name)},"model_version":${JSON.stringify(job.variant!.name)},"id":${JSON.stringify(job.requestId)},` +
    `"parameters":{"queue_ms":${num(round3(job.queueMs))},"batch_size":${num(job.batchSize)}},"outputs":[${outputs}]}`
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

/** KServe v1's answer: {"predictions": [score per row]}, with the ids feedback needs beside them. */
export function respondKServeV1 (job: InferJob): void {
  const reply = job.ctx as FastifyReply
  if (finishError(job, reply)) return
  const n = job.rows
  const predictions = new Array<number>(n)
  for (let i = 0; i < n; i++) predictions[i] = job.scores[i] as number
  reply.type('application/json').send({ predictions, prediction_ids: job.ids, model_name: job.model.name, model_version: job.variant!.name })
}
export function respondPredictMany (job: InferJob): void { respondPredictWith(job, true) }
