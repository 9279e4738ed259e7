// The adaptive router: for each request, the most preferred variant whose predicted latency fits
// its budget. A pinned variant is honoured; with no budget the active variant serves; when
// nothing fits, the fastest prediction wins.
//
// Prediction, with inference threads (the default): every variant shares them, so a request
// waits for the work ahead of it on the threads its batch may use (long batches or short ones,
// see inference-pool.ts): what is left of the running batches and the batches waiting for a
// thread (InferencePool.waitMs), plus the rows still queued in the batchers that will become
// batches of the same class, each at its variant's measured cost (a fixed part plus ms per
// row); then its own run. A batch small enough to run inline (on the HTTP thread, see
// models.inline_max_ms) skips the threads: it waits only for its own variant's queued rows.
// Without threads (inference_threads 0) it is the batcher's own estimate: queue wait plus one
// batch's moving compute time.
import type { Batcher, InferJob } from '../batching/index.js'
import { FG_ERR_MODEL_NOT_READY } from '../errors.js'
import type { InferencePool, ModelRuntime, VariantRuntime } from '../models/index.js'
import type { ActiveVariants } from './active-variants.js'
import type { Router } from './router.js'

export interface RoutingPolicy {
  /** Variants in order of preference (the policy's list). */
  preference: (model: string) => readonly string[] | undefined
  /** Budget for requests without one (ms, 0 = none). */
  defaultBudget: (model: string) => number
  /** While a fairness switch is in force: the only variants that may serve (undefined: any). */
  allowed?: (model: string) => ReadonlySet<string> | undefined
  /** Counts a request whose budget no allowed variant could meet (the active one served it). */
  missedBudget?: (model: string, variant: string) => void
}

/**
 * The prediction is a mean; the budget bounds the tail. So the router adds the model's slack:
 * the largest recent amount by which any of its budgeted answers came later than predicted
 * (from arrival to the answer written, so it also covers parsing, serializing, GC pauses and
 * CPU contention), halving every SLACK_HALF_LIFE_MS. Per model, not per variant: on a small machine a slow variant makes the
 * fast one late too (they share the cores), so a late answer anywhere must make the router
 * careful with every variant, which moves load to the fast one until answers are on time
 * again. A peak rather than a percentile, to react to the first late answer; too much care only
 * costs accuracy, and the slack fades, so the slow variant is tried again.
 */
const SLACK_HALF_LIFE_MS = 3000
interface Slack { peak: number, at: number }

export class BudgetRouter implements Router {
  private readonly slack = new Map<ModelRuntime, Slack>()
  private readonly ahead = new Float64Array(2)

  constructor (
    private readonly active: ActiveVariants,
    private readonly batcher: (v: VariantRuntime) => Batcher,
    private readonly policy: RoutingPolicy
  ) {}

  /**
   * Predicted ms from enqueue to answer for a job of `rows` rows on this variant. `ahead` is
   * queuedAhead() of its model, computed once per request when several variants are weighed.
   */
  predict (v: VariantRuntime, rows = 1, ahead: Float64Array | null = v.pool === null ? null : this.queuedAhead(v.model, v.pool)): number {
    const pool = v.pool
    if (pool === null || ahead === null) {
      const b = this.batcher(v)
      return b.estimateWaitMs() + b.ewmaBatchMs
    }
    if (v.runsInline(rows)) return v.inlineMs(rows + this.batcher(v).queuedRows)
    const run = pool.runMs(v.key, rows)
    return pool.waitMs(run, v.key) + (ahead[pool.isLong(run, v.key) ? 1 : 0] as number) + run
  }

  /**
   * Rows still in the model's batchers will become batches ahead of a new one: their expected
   * ms per class, [short, long], each spread over the threads that class may use. Written into
   * one reused array.
   */
  private queuedAhead (model: ModelRuntime, pool: InferencePool): Float64Array {
    const q = this.ahead
    q[0] = 0
    q[1] = 0
    for (const u of model.variants) {
      const n = u.state === 'ready' ? this.batcher(u).queuedRows : 0
      if (n === 0 || u.runsInline(n)) continue
      const ms = pool.runMs(u.key, n)
      q[pool.isLong(ms, u.key) ? 1 : 0] += ms
    }
    q[0] /= pool.size
    q[1] /= pool.longLanes
    return q
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
    const slack = this.slackMs(model, job.receivedAt)
    const ahead = head.pool === null ? null : this.queuedAhead(model, head.pool)
    let fastest: VariantRuntime | null = null
    let fastestMs = Infinity
    // A fairness switch in force narrows the candidates to the variants that satisfy its rule
    // (manifest order after the active one); the latency router never undoes it.
    const allowed = this.policy.allowed?.(model.name)
    const order = allowed !== undefined ? model.variants.map(v => v.name) : this.policy.preference(model.name) ?? model.variants.map(v => v.name)
    for (let k = -1; k < order.length; k++) {
      let v: VariantRuntime = head
      if (k >= 0) {
        const name = order[k] as string
        if (name === head.name || !model.hasVariant(name)) continue
        v = model.variant(name)
      }
      if (v.state !== 'ready' || (allowed !== undefined && !allowed.has(v.name))) continue
      // A variant deciding by a protected attribute is opt-in: it serves when it is the active one
      // or a fairness switch allows it, never as the latency router's fallback.
      if (allowed === undefined && v !== head && v.rule.usesGroups) continue
      const predicted = this.predict(v, job.rows, ahead)
      if (predicted + slack <= budget) { job.predictedMs = predicted; return v }
      // When nothing fits, the fastest prediction wins.
      if (predicted < fastestMs) { fastestMs = predicted; fastest = v }
    }
    if (fastest === null) throw FG_ERR_MODEL_NOT_READY(model.name, head.name)
    // Nothing that satisfies the rule fits: the fastest mitigated variant serves, late, and the
    // miss is counted (serving the slow active one would only grow its queue).
    if (allowed !== undefined) this.policy.missedBudget?.(model.name, fastest.name)
    job.predictedMs = fastestMs
    return fastest
  }

  /** The model's slack at `now` (ms). */
  slackMs (model: ModelRuntime, now: number): number {
    const s = this.slack.get(model)
    if (s === undefined) return 0
    return now <= s.at ? s.peak : s.peak * Math.pow(2, (s.at - now) / SLACK_HALF_LIFE_MS)
  }

  observe (job: InferJob): void {
    const v = job.variant
    // Errors count too: a 504 (budget expired in the queue) is the latest answer of all.
    if (job.predictedMs < 0 || v === null) return
    const late = (job.answeredAt - job.receivedAt) - job.predictedMs
    const s = this.slack.get(job.model)
    if (s === undefined) { this.slack.set(job.model, { peak: Math.max(0, late), at: job.answeredAt }); return }
    s.peak = Math.max(late, this.slackMs(job.model, job.answeredAt), 0)
    s.at = job.answeredAt
  }
}
