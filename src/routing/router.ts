// The router picks the variant for each request (see budget-router.ts for the one we use).
import type { InferJob } from '../batching/index.js'
import type { ModelRuntime, VariantRuntime } from '../models/index.js'

export interface Router {
  /** The variant to run this job on; throws a coded error when none can. */
  choose: (model: ModelRuntime, job: InferJob) => VariantRuntime
  /** Called with every answered job, so the router can learn from how long it took. */
  observe: (job: InferJob) => void
}
