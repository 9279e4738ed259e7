// Open Inference Protocol v2 request → InferJob. One FP32 input [N, F], row-major data flat or
// nested one level; group labels, budget and variant pin in `parameters`.
import { InferJob } from '../batching/index.js'
import { FG_ERR_REQUEST_INVALID } from '../errors.js'
import type { ModelRuntime } from '../models/index.js'
import { MAX_REQUEST_ID } from './error-contract.js'
import { beyondFp32, isObject, parseBudget, parseGroups, parseVariant } from './parse-common.js'

export interface ParseContext {
  now: number
  maxRows: number
  defaultBudgetMs: number
  /** The x-latency-budget-ms header, already parsed (0 = none): an invalid one is a 400 even when the body has a budget. */
  headerBudget: number
  requestId: string
}

export function parseOip (model: ModelRuntime, body: unknown, ctx: ParseContext, versionPin: string | null): InferJob {
  if (!isObject(body)) throw FG_ERR_REQUEST_INVALID('body', 'must be a JSON object')
  const inputs = body.inputs
  if (!Array.isArray(inputs) || inputs.length !== 1) throw FG_ERR_REQUEST_INVALID('inputs', `must be an array with exactly one tensor named "${model.manifest.input.name}"`)
  const t = inputs[0]
  if (!isObject(t)) throw FG_ERR_REQUEST_INVALID('inputs[0]', 'must be a tensor object')
  if (t.name !== model.manifest.input.name) throw FG_ERR_REQUEST_INVALID('inputs[0].name', `must be "${model.manifest.input.name}"`)
  if (t.datatype !== 'FP32') throw FG_ERR_REQUEST_INVALID('inputs[0].datatype', 'must be "FP32"')
  const shape = t.shape
  const width = model.width
  if (!Array.isArray(shape) || shape.length !== 2 || !Number.isInteger(shape[0]) || shape[1] !== width) {
    throw FG_ERR_REQUEST_INVALID('inputs[0].shape', `must be [N, ${width}]`)
  }
  const rows = shape[0] as number
  if (rows < 1 || rows > ctx.maxRows) throw FG_ERR_REQUEST_INVALID('inputs[0].shape[0]', `must be between 1 and ${ctx.maxRows}`)
  const data = t.data
  if (!Array.isArray(data)) throw FG_ERR_REQUEST_INVALID('inputs[0].data', 'must be an array of numbers')
  const input = new Float32Array(rows * width)
  if (data.length === rows * width && (rows * width === 0 || !Array.isArray(data[0]))) {
    for (let i = 0; i < data.length; i++) {
      const x = data[i]
      if (typeof x !== 'number' || !Number.isFinite(x)) throw FG_ERR_REQUEST_INVALID(`inputs[0].data[${i}]`, 'must be a finite number')
      input[i] = x
      if (!Number.isFinite(input[i])) throw beyondFp32(`inputs[0].data[${i}]`)
    }
  } else if (data.length === rows) {
    for (let r = 0; r < rows; r++) {
      const row = data[r]
      if (!Array.isArray(row) || row.length !== width) throw FG_ERR_REQUEST_INVALID(`inputs[0].data[${r}]`, `must be an array of ${width} numbers`)
      for (let c = 0; c < width; c++) {
        const x = row[c]
        if (typeof x !== 'number' || !Number.isFinite(x)) throw FG_ERR_REQUEST_INVALID(`inputs[0].data[${r}][${c}]`, 'must be a finite number')
        input[r * width + c] = x
        if (!Number.isFinite(input[r * width + c])) throw beyondFp32(`inputs[0].data[${r}][${c}]`)
      }
    }
  } else {
    throw FG_ERR_REQUEST_INVALID('inputs[0].data', `has ${data.length} elements, shape [${rows}, ${width}] needs ${rows * width}`)
  }
  const p = body.parameters
  if (p !== undefined && !isObject(p)) throw FG_ERR_REQUEST_INVALID('parameters', 'must be an object')
  const params = p ?? {}
  const { ids, perRow } = parseGroups(model, params.group, params.groups, rows, 'parameters.')
  const budget = parseBudget(params.latency_budget_ms, 'parameters.latency_budget_ms') || ctx.headerBudget || ctx.defaultBudgetMs
  const pinned = versionPin ?? parseVariant(model, params.variant, 'parameters.variant')
  if (versionPin !== null) model.variant(versionPin)
  let requestId = ctx.requestId
  if (body.id !== undefined) {
    if (typeof body.id !== 'string' || body.id.length > MAX_REQUEST_ID) throw FG_ERR_REQUEST_INVALID('id', `must be a string of at most ${MAX_REQUEST_ID} characters`)
    requestId = body.id
  }
  return new InferJob(model, rows, input, ids, perRow, budget, budget > 0 ? ctx.now + budget : Infinity, pinned, requestId, ctx.now)
}
