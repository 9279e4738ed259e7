// Pieces shared by the OIP v2 (HTTP and gRPC) and /v1/predict parsers: budgets, variant pins,
// group labels. Every failure is a coded 4xx whose message names the field.
import { FG_ERR_REQUEST_GROUP, FG_ERR_REQUEST_INVALID, type FairgateError } from '../errors.js'
import type { ModelRuntime } from '../models/index.js'

export const MAX_BUDGET_MS = 60_000

export function isObject (v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/**
 * A value finite as a double but not as the float32 the model reads (|x| > 3.4e38): checked
 * after encoding, since that is where it becomes ±Infinity and a null score.
 */
export function beyondFp32 (field: string): FairgateError {
  return FG_ERR_REQUEST_INVALID(field, 'is beyond the FP32 range of the model input (|x| ≤ 3.4e38 once encoded)')
}

/** Decimal milliseconds as text: Number() alone would take "0x10" as 16 and "1e3" as 1000. */
const DECIMAL_MS = /^\s*\d+(\.\d+)?\s*$/

/**
 * A latency budget, from the body or the x-latency-budget-ms header (the one parser for both,
 * so the same value is valid or invalid wherever it comes from); 0 = none given.
 */
export function parseBudget (v: unknown, field: string): number {
  if (v === undefined || v === null) return 0
  let n = v
  if (typeof v === 'string' && DECIMAL_MS.test(v)) n = Number(v)
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0 || n > MAX_BUDGET_MS) {
    throw FG_ERR_REQUEST_INVALID(field, `must be a number of milliseconds in (0, ${MAX_BUDGET_MS}]`)
  }
  return n
}

export function parseVariant (model: ModelRuntime, v: unknown, field: string): string | null {
  if (v === undefined || v === null) return null
  if (typeof v !== 'string' || v === '') throw FG_ERR_REQUEST_INVALID(field, 'must be a variant name')
  model.variant(v) // throws 404 for an unknown variant
  return v
}

/**
 * Group labels: one object for all rows, or an array of one object per row. Returns the
 * interned ids and whether they are per row.
 */
export function parseGroups (model: ModelRuntime, group: unknown, groups: unknown, rows: number, field: string): { ids: Int16Array, perRow: boolean } {
  const g = model.groups
  if (groups !== undefined && groups !== null) {
    if (group !== undefined && group !== null) throw FG_ERR_REQUEST_GROUP(`${field}group`, 'give either group or groups, not both')
    if (!Array.isArray(groups)) throw FG_ERR_REQUEST_GROUP(`${field}groups`, 'must be an array of one label object per row')
    if (groups.length !== rows) throw FG_ERR_REQUEST_GROUP(`${field}groups`, `has ${groups.length} entries for ${rows} rows`)
    const ids = new Int16Array(rows * g.size)
    for (let i = 0; i < rows; i++) g.parse(groups[i], ids, i * g.size, `${field}groups[${i}]`)
    return { ids, perRow: true }
  }
  const ids = new Int16Array(g.size)
  g.parse(group, ids, 0, `${field}group`)
  return { ids, perRow: false }
}
