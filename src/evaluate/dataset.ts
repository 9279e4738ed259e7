// Labelled rows for fairgate evaluate: jsonl lines of {"features": {raw record}, "group": {...},
// "label": 0 | 1 | null}, the body of POST /v1/predict plus the label (models/income/eval.jsonl).
// Encoded with the model's own encoder and group index, so a row means here what it means to
// the gateway; a bad line is refused naming its line and field.
import { readFileSync, statSync } from 'node:fs'
import { FG_ERR_EVALUATE_DATA, FairgateError } from '../errors.js'
import type { ModelRuntime } from '../models/index.js'

/** Bounds on what evaluate reads: a data file is held in memory whole. */
export const MAX_DATA_BYTES = 512 * 1024 * 1024
export const MAX_DATA_ROWS = 2_000_000

export interface Dataset {
  file: string
  rows: number
  width: number
  attrs: number
  /** rows × width encoded features. */
  input: Float32Array
  /** rows × attrs group ids (NO_GROUP where unlabelled). */
  groups: Int16Array
  /** 0, 1, or -1 for a row without a label. */
  labels: Int8Array
}

export function readDataset (file: string, model: ModelRuntime, maxRows = MAX_DATA_ROWS): Dataset {
  let size: number
  try {
    size = statSync(file).size
  } catch (err) {
    throw FG_ERR_EVALUATE_DATA(file, '(file)', (err as Error).message)
  }
  if (size > MAX_DATA_BYTES) throw FG_ERR_EVALUATE_DATA(file, '(file)', `is ${size} bytes, at most ${MAX_DATA_BYTES} are read`)
  const lines = readFileSync(file, 'utf8').split('\n')
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop()
  const rows = Math.min(lines.length, maxRows)
  if (rows === 0) throw FG_ERR_EVALUATE_DATA(file, '(file)', 'has no rows')
  const width = model.width
  const attrs = model.groups.size
  const ds: Dataset = { file, rows, width, attrs, input: new Float32Array(rows * width), groups: new Int16Array(rows * attrs), labels: new Int8Array(rows) }
  for (let r = 0; r < rows; r++) {
    const where = `line ${r + 1}`
    let obj: unknown
    try {
      obj = JSON.parse(lines[r]!)
    } catch (err) {
      throw FG_ERR_EVALUATE_DATA(file, where, `not JSON (${(err as Error).message})`)
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw FG_ERR_EVALUATE_DATA(file, where, 'must be an object {"features", "group", "label"}')
    const o = obj as Record<string, unknown>
    const f = o.features
    if (f === null || typeof f !== 'object' || Array.isArray(f)) throw FG_ERR_EVALUATE_DATA(file, `${where} features`, 'must be an object of named fields')
    try {
      model.encoder.encode(f as Record<string, unknown>, ds.input, r * width, 'features')
      model.groups.parse(o.group, ds.groups, r * attrs, 'group')
    } catch (err) {
      // The coded request error names the field; the group value itself is never echoed.
      if (err instanceof FairgateError) throw FG_ERR_EVALUATE_DATA(file, where, err.message)
      throw err
    }
    const y = o.label
    if (y === undefined || y === null) ds.labels[r] = -1
    else if (y === 0 || y === 1) ds.labels[r] = y
    else throw FG_ERR_EVALUATE_DATA(file, `${where} label`, 'must be 0, 1 or null')
  }
  return ds
}
