// The encoding of a model, fitted on its training table (`fairgate init`): exactly what
// examples/sklearn/fairgate_encoding.py computes, so a model trained on the Python side's rows
// is fed the same rows by the gateway. numeric: mean and population std (ddof 0) of the present
// values (after log1p); categorical: the sorted distinct values, "" and "?" left out (they go to
// the unknown column like any value the vocabulary lacks).
import type { FeatureSpec } from './manifest.js'

export interface ColumnSpec {
  numeric: readonly string[]
  categorical: readonly string[]
  log1p: readonly string[]
}

const MISSING = new Set(['', '?'])

/** A table cell as a number: a finite JSON number or a numeric string; otherwise undefined. */
export function cellNumber (v: unknown): number | undefined {
  let x: number
  if (typeof v === 'number') x = v
  else if (typeof v === 'string' && !MISSING.has(v.trim())) x = Number(v.trim())
  else return undefined
  return Number.isFinite(x) ? x : undefined
}

/** A table cell as a category: a trimmed string other than "" and "?"; otherwise undefined. */
export function cellCategory (v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined
  const s = String(v).trim()
  return MISSING.has(s) ? undefined : s
}

// Code-unit order, as Python's sorted() on these strings (both compare code points for BMP text).
const byCodeUnit = (a: string, b: string): number => a < b ? -1 : a > b ? 1 : 0

export function sortedValues (rows: ReadonlyArray<Record<string, unknown>>, column: string): string[] {
  const seen = new Set<string>()
  for (const r of rows) {
    const c = cellCategory(r[column])
    if (c !== undefined) seen.add(c)
  }
  return [...seen].sort(byCodeUnit)
}

export function fitFeatures (rows: ReadonlyArray<Record<string, unknown>>, spec: ColumnSpec): FeatureSpec[] {
  const features: FeatureSpec[] = []
  for (const name of spec.numeric) {
    const log = spec.log1p.includes(name)
    const xs: number[] = []
    for (const r of rows) {
      const x = cellNumber(r[name])
      if (x !== undefined && (!log || x > -1)) xs.push(log ? Math.log1p(x) : x)
    }
    const mean = xs.length === 0 ? 0 : xs.reduce((s, x) => s + x, 0) / xs.length
    const std = xs.length === 0 ? 0 : Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length)
    features.push({ name, kind: 'numeric', mean, std: std > 0 ? std : 1, log1p: log })
  }
  for (const name of spec.categorical) features.push({ name, kind: 'categorical', vocabulary: sortedValues(rows, name) })
  return features
}

/**
 * A table row as the record a client sends: numeric features as numbers, categories as trimmed
 * strings. undefined when a numeric feature is missing (the gateway answers such a request 400).
 */
export function recordOf (row: Record<string, unknown>, features: readonly FeatureSpec[]): Record<string, unknown> | undefined {
  const rec: Record<string, unknown> = {}
  for (const f of features) {
    if (f.kind === 'numeric') {
      const x = cellNumber(row[f.name])
      if (x === undefined) return undefined
      rec[f.name] = x
    } else rec[f.name] = cellCategory(row[f.name]) ?? ''
  }
  return rec
}
