// POST /v1/predict → InferJob: {"model", "features": {raw record} | [numbers], "group"} or
// {"model", "instances": [...], "group" | "groups"}. Raw records go through the manifest's
// feature schema, so applications never see the one-hot layout.
import { InferJob } from '../batching/index.js'
import { FG_ERR_REQUEST_INVALID } from '../errors.js'
import type { ModelRuntime } from '../models/index.js'
import { beyondFp32, isObject, parseBudget, parseGroups, parseVariant } from '../oip/index.js'
import type { ParseContext } from './parse-oip.js'

function encodeOne (model: ModelRuntime, f: unknown, out: Float32Array, row: number, field: string): void {
  const width = model.width
  if (Array.isArray(f)) {
    if (f.length !== width) throw FG_ERR_REQUEST_INVALID(field, `must have ${width} numbers (the encoded vector) or be an object of named fields`)
    for (let c = 0; c < width; c++) {
      const x = f[c]
      if (typeof x !== 'number' || !Number.isFinite(x)) throw FG_ERR_REQUEST_INVALID(`${field}[${c}]`, 'must be a finite number')
      out[row * width + c] = x
      if (!Number.isFinite(out[row * width + c])) throw beyondFp32(`${field}[${c}]`)
    }
  } else if (isObject(f)) {
    model.encoder.encode(f, out, row * width, field)
  } else {
    throw FG_ERR_REQUEST_INVALID(field, 'must be an object of named fields or an array of numbers')
  }
}

export interface ParsedPredict {
  job: InferJob
  /** true for {"instances": [...]}: the answer is a list. */
  many: boolean
}

export function parsePredict (body: Record<string, unknown>, model: ModelRuntime, ctx: ParseContext): ParsedPredict {
  const hasFeatures = body.features !== undefined
  const hasInstances = body.instances !== undefined
  if (hasFeatures === hasInstances) throw FG_ERR_REQUEST_INVALID('features', 'give exactly one of "features" or "instances"')
  let rows: number
  let input: Float32Array
  if (hasFeatures) {
    rows = 1
    input = new Float32Array(model.width)
    encodeOne(model, body.features, input, 0, 'features')
  } else {
    const inst = body.instances
    if (!Array.isArray(inst) || inst.length === 0) throw FG_ERR_REQUEST_INVALID('instances', 'must be a non-empty array')
    if (inst.length > ctx.maxRows) throw FG_ERR_REQUEST_INVALID('instances', `has ${inst.length} rows, at most ${ctx.maxRows} allowed`)
    rows = inst.length
    input = new Float32Array(rows * model.width)
    for (let i = 0; i < rows; i++) encodeOne(model, inst[i], input, i, `instances[${i}]`)
  }
  const { ids, perRow } = parseGroups(model, body.group, body.groups, rows, '')
  const budget = parseBudget(body.latency_budget_ms, 'latency_budget_ms') || ctx.headerBudget || ctx.defaultBudgetMs
  const pinned = parseVariant(model, body.variant, 'variant')
  return {
    job: new InferJob(model, rows, input, ids, perRow, budget, budget > 0 ? ctx.now + budget : Infinity, pinned, ctx.requestId, ctx.now),
    many: hasInstances
  }
}
