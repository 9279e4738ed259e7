// Feeds a fairness rule's sequential tests (sequential.ts) from the monitor: each evaluation
// reads the variant's buckets closed since the last read, so every row is evidence once.
// Difference and ratio metrics have a test; the others keep the per-window evaluation.
import { suppressedGroups, type AttributeLayout, type ClosedCounts, type GroupLayout, type Monitor } from '../monitor/index.js'
import type { FairnessRule, Policy } from './schema.js'
import { SequentialGap, type Counts, type HideGroups, type SequentialSettings, type SequentialStatus } from './sequential.js'

type Pick = 'selection' | 'tpr' | 'fpr'

const PICKS: Partial<Record<FairnessRule['metric'], Pick[]>> = {
  demographic_parity_difference: ['selection'],
  demographic_parity_ratio: ['selection'],
  equal_opportunity_difference: ['tpr'],
  equalized_odds_difference: ['tpr', 'fpr']
}

export function hasSequentialTest (policy: Policy, rule: FairnessRule): boolean {
  return policy.sequential.enabled && PICKS[rule.metric] !== undefined
}

export function sequentialSettingsOf (policy: Policy): SequentialSettings {
  const s = policy.sequential
  return { alpha: s.alpha, epochMs: s.epoch_ms, kept: s.kept, tunedRows: s.tuned_rows }
}

function countsOf (c: ClosedCounts, cell: number, pick: Pick): Counts {
  if (pick === 'selection') return { k: c.pos[cell]!, n: c.n[cell]! }
  if (pick === 'tpr') return { k: c.tp[cell]!, n: c.tp[cell]! + c.fn[cell]! }
  return { k: c.fp[cell]!, n: c.fp[cell]! + c.tn[cell]! }
}

/** One rule's tests on one variant. */
export class SequentialRule {
  private readonly tests: Array<{ pick: Pick, gap: SequentialGap }> = []
  private after = -1
  private scratch: ClosedCounts | undefined
  private readonly batch: Counts[] = []
  private readonly groups: readonly string[]

  private readonly hide: HideGroups

  /** layout and attr place the rule's groups, so its status hides what the report would (reportMin). */
  constructor (readonly rule: FairnessRule, policy: Policy, layout: GroupLayout, attr: AttributeLayout, reportMin: number) {
    this.groups = attr.values
    // suppressedGroups reads rows by cell id: the test's per-group rows go at the attribute's offset.
    const cells = new Float64Array(layout.cells)
    this.hide = rows => { cells.set(rows, attr.offset); return suppressedGroups(cells, layout, attr, reportMin) }
    const picks = PICKS[rule.metric]!
    for (const pick of picks) this.tests.push({ pick, gap: new SequentialGap(this.groups, rule.threshold, rule.metric === 'demographic_parity_ratio', sequentialSettingsOf(policy), picks.length) })
  }

  /** Reads the closed buckets since the last call into every test; true once a test crossed. */
  observe (monitor: Monitor, model: string, variant: string, now: number): boolean {
    const got = monitor.closedCounts(model, variant, this.after, this.scratch)
    if (got === undefined) return this.breached
    this.scratch = got.counts
    const attr = got.layout.attributes.find(a => a.name === this.rule.attribute)
    const first = this.after < 0
    this.after = got.counts.last
    // The first read only sets the mark: what came before the rule watched is not evidence.
    if (attr === undefined || first) return this.breached
    let breached = false
    for (const t of this.tests) {
      this.batch.length = 0
      let rows = 0
      for (let g = 0; g < attr.values.length; g++) { const c = countsOf(got.counts, attr.offset + g, t.pick); this.batch.push(c); rows += c.n }
      if (rows > 0 && t.gap.observe(now, this.batch)) breached = true
      else if (t.gap.breached) breached = true
    }
    return breached
  }

  get breached (): boolean { return this.tests.some(t => t.gap.breached) }

  /** Drops the evidence after a decision; the next read only sets the mark again. */
  reset (): void {
    for (const t of this.tests) t.gap.reset()
    this.after = -1
  }

  status (): Record<string, SequentialStatus> {
    const out: Record<string, SequentialStatus> = {}
    for (const t of this.tests) out[t.pick] = t.gap.status(this.hide)
    return out
  }

  get groupNames (): readonly string[] { return this.groups }
}
