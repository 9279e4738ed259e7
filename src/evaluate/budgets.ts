// --check: each variant the policy serves against the policy's offline budgets. A breach names
// the variant, the budget (its key in the policy file) and the value, so a CI log says what to fix.
import type { OfflineBudgets } from '../policy/index.js'

export interface Breach { variant: string, budget: string, limit: number, value: number | null, message: string }

export interface Measured {
  accuracy: number | null
  latencyMs: number | null
  /** Per gap metric, the largest value over the gap attributes (null: not measurable). */
  gaps: Record<string, number | null>
  advantage: number | null
}

const fmt = (x: number): string => Number.isInteger(x) ? String(x) : x.toPrecision(4)

export function checkBudgets (model: string, variant: string, m: Measured, b: OfflineBudgets): Breach[] {
  const out: Breach[] = []
  const breach = (budget: string, limit: number, value: number | null, what: string, op: '<' | '>'): void => {
    const shown = value === null ? 'not measurable' : `${what} ${fmt(value)} ${op} ${limit}`
    out.push({ variant, budget, limit, value, message: `${model}/${variant} breaks offline.${budget}: ${shown}` })
  }
  // A budget that cannot be measured (no labels, no second group) fails: CI must not pass on silence.
  if (b.min_accuracy !== undefined && !(m.accuracy !== null && m.accuracy >= b.min_accuracy)) breach('min_accuracy', b.min_accuracy, m.accuracy, 'accuracy', '<')
  if (b.max_latency_ms !== undefined && !(m.latencyMs !== null && m.latencyMs <= b.max_latency_ms)) breach('max_latency_ms', b.max_latency_ms, m.latencyMs, 'median ms of a 32-row batch', '>')
  for (const [metric, limit] of Object.entries(b.max_gap ?? {})) {
    if (limit === undefined) continue
    const v = m.gaps[metric] ?? null
    if (!(v !== null && v <= limit)) breach(`max_gap.${metric}`, limit, v, metric, '>')
  }
  if (b.max_membership_advantage !== undefined && !(m.advantage !== null && m.advantage <= b.max_membership_advantage)) breach('max_membership_advantage', b.max_membership_advantage, m.advantage, 'membership advantage', '>')
  return out
}
