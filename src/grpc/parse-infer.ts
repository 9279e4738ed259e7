// ModelInferRequest (proto-loader object, keepCase) → InferJob, over the same OIP pieces as
// HTTP: one FP32 input [N, F] as fp32_contents or raw_input_contents, parameters with the HTTP
// names (group/groups as JSON text, latency_budget_ms, variant, Triton's timeout in µs).
import type { InferJob } from '../batching/index.js'
import { FG_ERR_REQUEST_BINARY, FG_ERR_REQUEST_INVALID } from '../errors.js'
import type { ModelRuntime } from '../models/index.js'
import { floatsFromBytes, floatsFromNumbers, inputRows, oipJob, requestedOutputs, type ParseContext } from '../oip/index.js'

export interface GrpcParameter { parameter_choice?: string, [k: string]: unknown }
export interface GrpcTensorContents { fp32_contents?: number[], [k: string]: unknown }
export interface GrpcInferRequest {
  model_name: string
  model_version: string
  id: string
  parameters: Record<string, GrpcParameter>
  inputs: Array<{ name: string, datatype: string, shape: number[], parameters: Record<string, GrpcParameter>, contents: GrpcTensorContents | null }>
  outputs: Array<{ name: string, parameters: Record<string, GrpcParameter> }>
  raw_input_contents: Buffer[]
}

/** InferParameter map → plain values (the oneof's chosen field). */
export function plainParameters (p: Record<string, GrpcParameter> | undefined, field: string): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  if (p === undefined || p === null) return out
  for (const k of Object.keys(p)) {
    const v = p[k]!
    const choice = v.parameter_choice
    if (choice === undefined) throw FG_ERR_REQUEST_INVALID(`${field}.${k}`, 'has no value (set bool_param, int64_param, string_param, double_param or uint64_param)')
    out[k] = v[choice]
  }
  return out
}

const OTHER_CONTENTS = ['bool_contents', 'int_contents', 'int64_contents', 'uint_contents', 'uint64_contents', 'fp64_contents', 'bytes_contents']

function rawOf (o: Record<string, unknown>, field: string): boolean | undefined {
  const v = plainParameters(o.parameters as Record<string, GrpcParameter>, `${field}.parameters`).binary_data
  if (v === undefined) return undefined
  if (typeof v !== 'boolean') throw FG_ERR_REQUEST_INVALID(`${field}.parameters.binary_data`, 'must be a bool_param')
  return v
}

export function parseGrpcInfer (model: ModelRuntime, req: GrpcInferRequest, ctx: ParseContext, callerDeadline: number): InferJob {
  if (req.inputs.length !== 1) throw FG_ERR_REQUEST_INVALID('inputs', `must hold exactly one tensor named "${model.manifest.input.name}", got ${req.inputs.length}`)
  const t = req.inputs[0]!
  const rows = inputRows(model, t, ctx.maxRows, 'inputs[0]')
  const raw = req.raw_input_contents
  const contents = t.contents
  const typed = contents !== null && contents !== undefined
  for (const k of OTHER_CONTENTS) {
    if (typed && Array.isArray(contents[k]) && (contents[k] as unknown[]).length > 0) throw FG_ERR_REQUEST_INVALID(`inputs[0].contents.${k}`, 'must be empty: the input is FP32 (fp32_contents)')
  }
  const numbers = typed ? contents.fp32_contents ?? [] : []
  let input: Float32Array
  if (raw.length > 0) {
    if (raw.length !== 1) throw FG_ERR_REQUEST_BINARY('raw_input_contents', `has ${raw.length} entries for 1 input`)
    if (numbers.length > 0) throw FG_ERR_REQUEST_BINARY('inputs[0].contents', 'must be unset when raw_input_contents carries the data')
    input = floatsFromBytes(raw[0]!, rows, model.width, 'raw_input_contents[0]')
  } else {
    if (numbers.length === 0) throw FG_ERR_REQUEST_INVALID('inputs[0].contents.fp32_contents', 'is empty: send the data there or in raw_input_contents')
    input = floatsFromNumbers(numbers, rows, model.width, 'inputs[0].contents.fp32_contents')
  }
  const params = plainParameters(req.parameters, 'parameters')
  const job = oipJob(model, rows, input, params, req.id, ctx, req.model_version === '' ? null : req.model_version, callerDeadline)
  // gRPC answers in raw_output_contents (as Triton does) unless every output asks otherwise.
  job.answer = requestedOutputs(model, req.outputs, true, rawOf, 'outputs')
  job.transport = 'grpc'
  return job
}
