// One inference request as it travels from HTTP through the batcher and back. It is a class
// with fixed fields (one hidden class, no per-request closures): the completion callback is a
// shared function that reads everything it needs from the job.
import type { Span } from '@opentelemetry/api'
import type { FairgateError } from '../errors.js'
import type { ModelRuntime, VariantRuntime } from '../models/index.js'

export type JobCallback = (job: InferJob) => void

export class InferJob {
  /** Rows × model width, packed. */
  input: Float32Array
  /** One probability per row, filled by the batches that ran this job. */
  readonly scores: Float32Array
  /** The threshold each row was decided at (the variant's rule with the row's group labels), filled on completion. */
  readonly thresholds: Float64Array
  variant: VariantRuntime | null = null
  /** Rows handed to a batch so far (a large job spans batches). */
  nextRow = 0
  /** Rows answered so far, by a score or by an error. */
  rowsDone = 0
  error: FairgateError | null = null
  /** Clock.now() at enqueue, at the first batch it ran in, and at completion. */
  enqueuedAt = 0
  startedAt = -1
  finishedAt = 0
  /** Clock.now() once the answer was handed to the caller (written, for HTTP). */
  answeredAt = 0
  /** Clock.wallNow() at completion: the event timestamp. */
  completedAtWall = 0
  /** The router's predicted ms from enqueue to answer when it chose by budget; -1 otherwise. */
  predictedMs = -1
  /** Largest batch this job's rows ran in. */
  batchSize = 0
  /** Prediction ids, one per row, assigned on completion. */
  ids: string[] = []
  /** The sequence number of ids[0] (reservePredictionIds); ids[i] has firstIdSeq + i. */
  firstIdSeq = 0
  /** Opaque slot for the caller (e.g. the HTTP reply). */
  ctx: unknown = null
  /** Opaque bits for the caller's answer (which outputs, in which encoding). */
  answer = 0
  /** The transport that brought the request ('http' or 'grpc'), for metrics and traces. */
  transport = 'http'
  /** Set by the caller; called once. */
  respond: JobCallback | null = null
  /** The request's tracing span; null unless tracing is on (src/telemetry/tracing.ts). */
  span: Span | null = null

  constructor (
    readonly model: ModelRuntime,
    readonly rows: number,
    input: Float32Array,
    /** rows × attributes when groupsPerRow, else one row of attributes for all. */
    readonly groupIds: Int16Array,
    readonly groupsPerRow: boolean,
    /** Latency budget in ms (0 = none) and the absolute Clock.now() deadline it gives. */
    readonly budgetMs: number,
    readonly deadline: number,
    /** A variant pinned by the caller (null: the router chooses). */
    readonly pinned: string | null,
    readonly requestId: string,
    /** Clock.now() when the request arrived. */
    readonly receivedAt: number
  ) {
    this.input = input
    // One backing store for both (thresholds first, 8-byte aligned): each typed array past 64
    // bytes allocates its own off-heap store, and this is per request.
    const store = new ArrayBuffer(rows * 12)
    this.thresholds = new Float64Array(store, 0, rows)
    this.scores = new Float32Array(store, rows * 8, rows)
  }

  get queueMs (): number { return this.startedAt < 0 ? 0 : this.startedAt - this.enqueuedAt }
}
