// OIP v2 over HTTP → InferJob: the JSON request, with or without Triton's binary tensor data
// extension (an input's parameters.binary_data_size says its raw bytes follow the JSON header).
import type { InferJob } from '../batching/index.js'
import { FG_ERR_REQUEST_BINARY, FG_ERR_REQUEST_INVALID } from '../errors.js'
import type { ModelRuntime } from '../models/index.js'
import { floatsFromBytes, floatsFromNumbers, inputRows, isObject, oipJob, requestedOutputs, type ParseContext } from '../oip/index.js'

export type { ParseContext } from '../oip/index.js'

function binaryFlag (v: unknown, field: string): boolean | undefined {
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'boolean') throw FG_ERR_REQUEST_INVALID(field, 'must be true or false')
  return v
}

function outputBinary (o: Record<string, unknown>, field: string): boolean | undefined {
  const p = o.parameters
  if (p === undefined || p === null) return undefined
  if (!isObject(p)) throw FG_ERR_REQUEST_INVALID(`${field}.parameters`, 'must be an object')
  return binaryFlag(p.binary_data, `${field}.parameters.binary_data`)
}

/** `binary` is what follows the JSON header (null without Inference-Header-Content-Length). */
export function parseOip (model: ModelRuntime, body: unknown, ctx: ParseContext, versionPin: string | null, binary: Uint8Array | null = null): InferJob {
  if (!isObject(body)) throw FG_ERR_REQUEST_INVALID('body', 'must be a JSON object')
  const inputs = body.inputs
  if (!Array.isArray(inputs) || inputs.length !== 1) throw FG_ERR_REQUEST_INVALID('inputs', `must be an array with exactly one tensor named "${model.manifest.input.name}"`)
  const t = inputs[0]
  if (!isObject(t)) throw FG_ERR_REQUEST_INVALID('inputs[0]', 'must be a tensor object')
  const rows = inputRows(model, t, ctx.maxRows, 'inputs[0]')
  const tp = t.parameters
  if (tp !== undefined && tp !== null && !isObject(tp)) throw FG_ERR_REQUEST_INVALID('inputs[0].parameters', 'must be an object')
  const size = tp?.binary_data_size
  let input: Float32Array
  if (size === undefined || size === null) {
    if (binary !== null && binary.length > 0) throw FG_ERR_REQUEST_BINARY('body', `${binary.length} bytes follow the JSON header but no input has parameters.binary_data_size`)
    input = floatsFromNumbers(t.data, rows, model.width, 'inputs[0].data')
  } else {
    if (binary === null) throw FG_ERR_REQUEST_BINARY('inputs[0].parameters.binary_data_size', 'is given but the request has no Inference-Header-Content-Length header')
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw FG_ERR_REQUEST_BINARY('inputs[0].parameters.binary_data_size', 'must be a non-negative integer')
    if (t.data !== undefined) throw FG_ERR_REQUEST_BINARY('inputs[0]', 'has both data and parameters.binary_data_size')
    if (size > binary.length) throw FG_ERR_REQUEST_BINARY('inputs[0].parameters.binary_data_size', `is ${size} bytes but only ${binary.length} follow the JSON header (truncated body?)`)
    if (size < binary.length) throw FG_ERR_REQUEST_BINARY('body', `${binary.length - size} bytes follow the binary tensors (binary_data_size ${size})`)
    input = floatsFromBytes(binary, rows, model.width, 'inputs[0].parameters.binary_data_size')
  }
  const params = isObject(body.parameters) ? body.parameters : undefined
  const rawDefault = binaryFlag(params?.binary_data_output, 'parameters.binary_data_output') ?? false
  const job = oipJob(model, rows, input, body.parameters, body.id, ctx, versionPin, Infinity)
  job.answer = requestedOutputs(model, body.outputs, rawDefault, outputBinary, 'outputs')
  return job
}
