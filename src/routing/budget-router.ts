// The adaptive router: for each request, the most preferred variant whose predicted latency fits
// its budget. Prediction = the variant batcher's live estimate of queue wait plus one batch's
// compute time (moving averages of what it just observed). A pinned variant is honoured; with no
// budget the active variant serves; when nothing fits, the fastest prediction wins.
import type { Batcher, InferJob } from '../batching/index.js'
import { FG_ERR_MODEL_NOT_READY } from '../errors.js'
import type { ModelRuntime, VariantRuntime } from '../models/index.js'
import type { ActiveVariants } from './active-variants.js'
import type { Router } from './router.js'

export interface RoutingPolicy {
  /** Variants in order of preference (the policy's list). */
  preference: (model: string) => readonly string[] | undefined
  /** Budget for requests without one (ms, 0 = none). */
  defaultBudget: (model: string) => number
}

export class BudgetRouter implements Router {
  constructor (
    private readonly active: ActiveVariants,
    private readonly batcher: (v: VariantRuntime) => Batcher,
    private readonly policy: RoutingPolicy
  ) {}

  /** Predicted ms from enqueue to answer for one more row on this variant. */
  predict (v: VariantRuntime): number {
    const b = this.batcher(v)
    return b.estimateWaitMs() + b.ewmaBatchMs
  }

  choose (model: ModelRuntime, job: InferJob): VariantRuntime {
    if (job.pinned !== null) {
      const v = model.variant(job.pinned)
      if (v.state !== 'ready') throw FG_ERR_MODEL_NOT_READY(model.name, v.name)
      return v
    }
    const activeName = this.active.active(model.name)
    const budget = job.budgetMs > 0 ? job.budgetMs : this.policy.defaultBudget(model.name)
    const head = activeName === undefined ? undefined : model.variant(activeName)
    if (budget <= 0 || head === undefined) {
      if (head !== undefined && head.state === 'ready') return head
      for (const v of model.variants) if (v.state === 'ready') return v
      throw FG_ERR_MODEL_NOT_READY(model.name, activeName ?? model.variants[0]!.name)
    }
    // The active variant heads the preference list; the rest keep the policy's order.
    let fastest: VariantRuntime | null = null
    let fastestMs = Infinity
    const visit = (v: VariantRuntime): boolean => {
      if (v.state !== 'ready') return false
      const ms = this.predict(v)
      if (ms <= budget) return true
      if (ms < fastestMs) { fastestMs = ms; fastest = v }
      return false
    }
    if (visit(head)) return head
    const order = this.policy.preference(model.name) ?? model.variants.map(v => v.name)
    for (const name of order) {
      if (name === head.name || !model.hasVariant(name)) continue
      const v = model.variant(name)
      if (visit(v)) return v
    }
    if (fastest !== null) return fastest
    throw FG_ERR_MODEL_NOT_READY(model.name, head.name)
  }
}
