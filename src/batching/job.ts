// One inference request as it travels from HTTP through the batcher and back. It is a class
// with fixed fields (one hidden class, no per-request closures): the completion callback is a
// shared function that reads everything it needs from the job.
import type { Span } from '@opentelemetry/api'
import type { FairgateError } from '../errors.js'
import type { ModelRuntime, VariantRuntime } from '../models/index.js'
import { predictionId } from '../prediction-id.js'

/** The ids of a job that has none (an error answer): shared, and frozen so nobody fills it. */
const NO_IDS: string[] = Object.freeze([]) as unknown as string[]

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
  /** The sequence number of ids[0] (reservePredictionIds); ids[i] has firstIdSeq + i. */
  firstIdSeq = 0
  /** Set by assignIds: ids[i] is predictionId(completedAtWall, firstIdSeq + i). */
  idsAssigned = false
  /** The ids as strings, once something read them. */
  private idList: string[] | null = null
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

  /**
   * Gives the rows their prediction ids, as a sequence: the strings are made on the first read
   * of `ids`. A binary answer writes the ids' bytes from the numbers (writeJobIdBytes) and,
   * with no event stream, nothing else reads them: 64 strings a 64-row request no longer makes.
   */
  assignIds (wall: number, first: number): void {
    this.completedAtWall = wall
    this.firstIdSeq = first
    this.idsAssigned = true
    this.idList = null
  }

  /** Prediction ids, one per row (none before assignIds). */
  get ids (): string[] {
    if (this.idList !== null) return this.idList
    if (!this.idsAssigned) return NO_IDS
    const ids = new Array<string>(this.rows)
    for (let i = 0; i < this.rows; i++) ids[i] = predictionId(this.completedAtWall, this.firstIdSeq + i)
    this.idList = ids
    return ids
  }

  get queueMs (): number { return this.startedAt < 0 ? 0 : this.startedAt - this.enqueuedAt }
}
