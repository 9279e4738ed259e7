// What the batcher needs from tracing, defined here so batching depends on no telemetry code:
// telemetry's Tracing implements it, and the shared no-op below costs one boolean test per batch.
import type { Span } from '@opentelemetry/api'
import type { FairgateError } from '../errors.js'
import type { VariantRuntime } from '../models/index.js'
import type { InferJob } from './job.js'

export interface BatchTracer {
  /** The one boolean the batcher tests before asking for a batch span. */
  readonly enabled: boolean
  /** A traced job left the queue (its first batch) or expired in it. */
  queued: (job: InferJob, end: number, expired: FairgateError | null) => void
  /** A batch span linked to the traced jobs it serves; null when none is sampled. */
  startBatch: (variant: VariantRuntime, jobs: ReadonlyArray<InferJob | null>, counts: Int32Array, segments: number, rows: number, start: number) => Span | null
  endBatch: (span: Span, end: number, error: FairgateError | null) => void
}

export const noBatchTracer: BatchTracer = {
  enabled: false,
  queued: () => {},
  startBatch: () => null,
  endBatch: () => {}
}
