// The router picks the variant for each request. This first router honours a pinned variant
// and otherwise serves the active one (falling down the preference list when it is not ready);
// the latency-budget router of the policy issue implements the same interface.
import { FG_ERR_MODEL_NOT_READY } from '../errors.js'
import type { InferJob } from '../batching/index.js'
import type { ModelRuntime, VariantRuntime } from '../models/index.js'
import type { ActiveVariants } from './active-variants.js'

export interface Router {
  /** The variant to run this job on; throws a coded error when none can. */
  choose: (model: ModelRuntime, job: InferJob) => VariantRuntime
}

export class PreferenceRouter implements Router {
  constructor (private readonly active: ActiveVariants) {}

  choose (model: ModelRuntime, job: InferJob): VariantRuntime {
    if (job.pinned !== null) {
      const v = model.variant(job.pinned)
      if (v.state !== 'ready') throw FG_ERR_MODEL_NOT_READY(model.name, v.name)
      return v
    }
    const name = this.active.active(model.name)
    if (name !== undefined) {
      const v = model.variant(name)
      if (v.state === 'ready') return v
    }
    for (const v of model.variants) if (v.state === 'ready') return v
    throw FG_ERR_MODEL_NOT_READY(model.name, name ?? model.variants[0]!.name)
  }
}
