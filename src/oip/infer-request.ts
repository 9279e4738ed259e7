// Open Inference Protocol v2 request pieces shared by the HTTP (JSON and binary) and gRPC
// transports: the one FP32 input [N, F], its data as numbers or as raw little-endian bytes, the
// requested outputs, and the request parameters (group labels, budget, variant pin, Triton's
// timeout). Every fault is a coded 400 naming the field.
import { InferJob } from '../batching/index.js'
import { FG_ERR_REQUEST_BINARY, FG_ERR_REQUEST_DEADLINE, FG_ERR_REQUEST_GROUP, FG_ERR_REQUEST_INVALID } from '../errors.js'
import type { ModelRuntime } from '../models/index.js'
import { firstNonFinite, nonFinite } from './non-finite.js'
import { beyondFp32, isObject, MAX_BUDGET_MS, parseBudget, parseGroups, parseVariant } from './parse-common.js'

export interface ParseContext {
  now: number
  maxRows: number
  defaultBudgetMs: number
  /** The x-latency-budget-ms header (metadata over gRPC), already parsed (0 = none): an invalid one is a 400 even when the body has a budget. */
  headerBudget: number
  requestId: string
}

/** The second output: one sortable prediction id per row, for feedback. */
export const PREDICTION_ID_OUTPUT = 'prediction_id'

/** job.answer bits: which outputs the caller gets, and which of them as raw bytes. */
export const OUT_SCORE = 1
export const OUT_SCORE_RAW = 2
export const OUT_ID = 4
export const OUT_ID_RAW = 8

/** Checks name, datatype and shape [N, F] of the one input tensor; returns N. */
export function inputRows (model: ModelRuntime, t: { name?: unknown, datatype?: unknown, shape?: unknown }, maxRows: number, field: string): number {
  if (t.name !== model.manifest.input.name) throw FG_ERR_REQUEST_INVALID(`${field}.name`, `must be "${model.manifest.input.name}"`)
  if (t.datatype !== 'FP32') throw FG_ERR_REQUEST_INVALID(`${field}.datatype`, 'must be "FP32"')
  const shape = t.shape
  const width = model.width
  if (!Array.isArray(shape) || shape.length !== 2 || !Number.isInteger(shape[0]) || shape[1] !== width) {
    throw FG_ERR_REQUEST_INVALID(`${field}.shape`, `must be [N, ${width}]`)
  }
  const rows = shape[0] as number
  if (rows < 1 || rows > maxRows) throw FG_ERR_REQUEST_INVALID(`${field}.shape[0]`, `must be between 1 and ${maxRows}`)
  return rows
}

/** Numbers, flat row-major or nested one level (JSON `data`, gRPC `fp32_contents`). */
export function floatsFromNumbers (data: unknown, rows: number, width: number, field: string): Float32Array {
  if (!Array.isArray(data)) throw FG_ERR_REQUEST_INVALID(field, 'must be an array of numbers')
  const input = new Float32Array(rows * width)
  if (data.length === rows * width && !Array.isArray(data[0])) {
    for (let i = 0; i < data.length; i++) {
      const x = data[i]
      if (typeof x !== 'number' || !Number.isFinite(x)) throw FG_ERR_REQUEST_INVALID(`${field}[${i}]`, 'must be a finite number')
      input[i] = x
      if (!Number.isFinite(input[i])) throw beyondFp32(`${field}[${i}]`)
    }
  } else if (data.length === rows) {
    for (let r = 0; r < rows; r++) {
      const row = data[r]
      if (!Array.isArray(row) || row.length !== width) throw FG_ERR_REQUEST_INVALID(`${field}[${r}]`, `must be an array of ${width} numbers`)
      for (let c = 0; c < width; c++) {
        const x = row[c]
        if (typeof x !== 'number' || !Number.isFinite(x)) throw FG_ERR_REQUEST_INVALID(`${field}[${r}][${c}]`, 'must be a finite number')
        input[r * width + c] = x
        if (!Number.isFinite(input[r * width + c])) throw beyondFp32(`${field}[${r}][${c}]`)
      }
    }
  } else {
    throw FG_ERR_REQUEST_INVALID(field, `has ${data.length} elements, shape [${rows}, ${width}] needs ${rows * width}`)
  }
  return input
}

/**
 * Raw little-endian FP32 bytes (the binary extension's tensor, gRPC's raw_input_contents). A
 * 4-byte-aligned slice becomes a view, so the batcher's copy into the batch buffer is the
 * tensor's only copy; an unaligned one is copied once here. Every value must be finite: the
 * exponent bits are checked as integers, without decoding.
 */
export function floatsFromBytes (bytes: Uint8Array, rows: number, width: number, field: string): Float32Array {
  const need = rows * width * 4
  if (bytes.length !== need) throw FG_ERR_REQUEST_BINARY(field, `has ${bytes.length} bytes, shape [${rows}, ${width}] × FP32 needs ${need}`)
  // A 4-byte-aligned slice is used in place; an unaligned one is copied once, here.
  let out: Float32Array
  if ((bytes.byteOffset & 3) === 0) {
    out = new Float32Array(bytes.buffer, bytes.byteOffset, rows * width)
  } else {
    out = new Float32Array(rows * width)
    new Uint8Array(out.buffer).set(bytes)
  }
  const bits = new Int32Array(out.buffer, out.byteOffset, out.length)
  if (nonFinite(bits)) {
    const e = firstNonFinite(bits)
    throw FG_ERR_REQUEST_BINARY(field, `element ${e} (row ${Math.floor(e / width)}, column ${e % width}) is not a finite number`)
  }
  return out
}

/**
 * Requested outputs → job.answer bits. None named: every output, raw when `rawDefault`
 * (binary_data_output over HTTP; always over gRPC). `rawOf` reads one output's own choice
 * (HTTP's parameters.binary_data) and returns undefined when it makes none.
 */
export function requestedOutputs (model: ModelRuntime, outputs: unknown, rawDefault: boolean, rawOf: (o: Record<string, unknown>, field: string) => boolean | undefined, field: string): number {
  if (outputs === undefined || outputs === null || (Array.isArray(outputs) && outputs.length === 0)) {
    return rawDefault ? OUT_SCORE | OUT_SCORE_RAW | OUT_ID | OUT_ID_RAW : OUT_SCORE | OUT_ID
  }
  if (!Array.isArray(outputs) || outputs.length > 2) throw FG_ERR_REQUEST_INVALID(field, `must be an array of at most 2 outputs ("${model.manifest.output.name}", "${PREDICTION_ID_OUTPUT}")`)
  let bits = 0
  for (let i = 0; i < outputs.length; i++) {
    const o = outputs[i]
    if (!isObject(o)) throw FG_ERR_REQUEST_INVALID(`${field}[${i}]`, 'must be an object with a name')
    const raw = rawOf(o, `${field}[${i}]`) ?? rawDefault
    let bit: number
    if (o.name === model.manifest.output.name) bit = raw ? OUT_SCORE | OUT_SCORE_RAW : OUT_SCORE
    else if (o.name === PREDICTION_ID_OUTPUT) bit = raw ? OUT_ID | OUT_ID_RAW : OUT_ID
    else throw FG_ERR_REQUEST_INVALID(`${field}[${i}].name`, `unknown output ${JSON.stringify(o.name)}: this model has "${model.manifest.output.name}" and "${PREDICTION_ID_OUTPUT}"`)
    if ((bits & bit & (OUT_SCORE | OUT_ID)) !== 0) throw FG_ERR_REQUEST_INVALID(`${field}[${i}].name`, `"${String(o.name)}" is requested twice`)
    bits |= bit
  }
  return bits
}

/** Group labels may come as JSON text: the protocol's parameter values are strings, numbers or booleans. */
function labels (v: unknown, field: string): unknown {
  if (typeof v !== 'string') return v
  if (v.length > 65_536) throw FG_ERR_REQUEST_GROUP(field, 'is longer than 65536 characters')
  try {
    return JSON.parse(v)
  } catch {
    throw FG_ERR_REQUEST_GROUP(field, 'must be an object of labels (or JSON text of one)')
  }
}

/** Triton's `timeout` parameter, in microseconds; beyond the longest budget it is no tighter than that. */
function timeoutBudget (v: unknown, field: string): number {
  if (v === undefined || v === null) return 0
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw FG_ERR_REQUEST_INVALID(field, 'must be a positive number of microseconds')
  return Math.min(v / 1000, MAX_BUDGET_MS)
}

/**
 * The job from a checked input and the request's parameters. `callerDeadline` is an absolute
 * Clock.now() time the caller gives up (gRPC's deadline), or Infinity.
 */
export function oipJob (model: ModelRuntime, rows: number, input: Float32Array, p: unknown, id: unknown, ctx: ParseContext, versionPin: string | null, callerDeadline: number): InferJob {
  if (p !== undefined && p !== null && !isObject(p)) throw FG_ERR_REQUEST_INVALID('parameters', 'must be an object')
  const params = p ?? {}
  const { ids, perRow } = parseGroups(model, labels(params.group, 'parameters.group'), labels(params.groups, 'parameters.groups'), rows, 'parameters.')
  let budget = parseBudget(params.latency_budget_ms, 'parameters.latency_budget_ms') ||
    timeoutBudget(params.timeout, 'parameters.timeout') ||
    ctx.headerBudget || ctx.defaultBudgetMs
  if (callerDeadline !== Infinity) {
    const left = callerDeadline - ctx.now
    if (left <= 0) throw FG_ERR_REQUEST_DEADLINE("the caller's deadline")
    if (budget === 0 || left < budget) budget = left
  }
  const pinned = versionPin ?? parseVariant(model, params.variant, 'parameters.variant')
  if (versionPin !== null) model.variant(versionPin)
  let requestId = ctx.requestId
  if (id !== undefined && id !== null && id !== '') {
    if (typeof id !== 'string' || id.length > 256) throw FG_ERR_REQUEST_INVALID('id', 'must be a string of at most 256 characters')
    requestId = id
  }
  return new InferJob(model, rows, input, ids, perRow, budget, budget > 0 ? ctx.now + budget : Infinity, pinned, requestId, ctx.now)
}
