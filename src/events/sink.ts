// Where answered predictions go after the client has its answer: the Kafka producer, the
// in-process monitor. A sink must not block or throw: the HTTP answer never waits for it.
import type { InferJob } from '../batching/index.js'

export interface PredictionSink {
  /** One answered job (no error): its rows, scores, ids and groups. */
  onPredictions: (job: InferJob) => void
  /** Best effort to push out what is buffered, bounded by timeoutMs. */
  flush: (timeoutMs: number) => Promise<void>
  close: () => Promise<void>
}

/** Shared no-op (pino's habit): disabled features cost one call to an empty function. */
export const noopSink: PredictionSink = {
  onPredictions: () => {},
  flush: async () => {},
  close: async () => {}
}
