// While a fairness switch is in force, the variants that may serve: those whose manifest metrics
// (measured on the model's test split by models/train.py) satisfy the breached rule, plus the
// switch's target. The latency router routes only among them, so it never undoes the switch by
// sending load to a faster variant that fails the rule.
import type { FairnessRule } from './schema.js'

interface GroupRates { n: number, selection_rate: number, tpr?: number | undefined, fpr?: number | undefined }
/** A variant as a manifest describes it: name and per-group rates of its decisions. */
export interface VariantFacts { name: string, groups?: Record<string, Record<string, GroupRates>> | undefined }

function spread (xs: number[]): number { return Math.max(...xs) - Math.min(...xs) }

/** The rule's metric from a variant's manifest rates; undefined when the manifest cannot say. */
export function manifestGap (rule: FairnessRule, v: VariantFacts): number | undefined {
  const rates = Object.values(v.groups?.[rule.attribute] ?? {}).filter(g => g.n > 0)
  if (rates.length < 2) return undefined
  const sr = rates.map(g => g.selection_rate)
  const tpr = rates.map(g => g.tpr)
  const fpr = rates.map(g => g.fpr)
  const haveRates = tpr.every(x => x !== undefined) && fpr.every(x => x !== undefined)
  switch (rule.metric) {
    case 'demographic_parity_difference': return spread(sr)
    case 'demographic_parity_ratio': return Math.max(...sr) > 0 ? Math.min(...sr) / Math.max(...sr) : undefined
    case 'equal_opportunity_difference': return haveRates ? spread(tpr as number[]) : undefined
    case 'equalized_odds_difference': return haveRates ? Math.max(spread(tpr as number[]), spread(fpr as number[])) : undefined
    default: return undefined
  }
}

/** Whether the manifest's figures pass the rule (a ratio passes at or above its threshold). */
export function satisfies (rule: FairnessRule, v: VariantFacts): boolean {
  const gap = manifestGap(rule, v)
  if (gap === undefined) return false
  return rule.metric === 'demographic_parity_ratio' ? gap >= rule.threshold : gap <= rule.threshold
}

/** The variants that may serve while `rule`'s switch to `target` is in force. */
export function allowedVariants (rule: FairnessRule, target: string, variants: readonly VariantFacts[]): Set<string> {
  const out = new Set(variants.filter(v => satisfies(rule, v)).map(v => v.name))
  out.add(target)
  return out
}
