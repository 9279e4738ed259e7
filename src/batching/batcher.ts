// Dynamic batcher, one per variant. Rows of queued jobs are packed into one Float32Array per
// batch (a fixed buffer per in-flight slot) and run together. With max_queue_delay_ms = 0 it is
// greedy: a free run slot takes whatever is queued at once, so a lone request is not delayed and
// batches grow by themselves under load while the slots are busy (what Triton calls
// max_queue_delay 0). A delay > 0 lets a partial batch wait that long for company. Up to
// max_inflight batches run at once, but only the first may be partial (see pump).
import type { Clock } from '../clock.js'
import type { Config } from '../config/index.js'
import { FairgateError, FG_ERR_BATCH_DEADLINE, FG_ERR_BATCH_DRAINING, FG_ERR_BATCH_QUEUE_FULL, FG_ERR_MODEL_INFERENCE, FG_ERR_MODEL_NOT_READY } from '../errors.js'
import type { VariantRuntime } from '../models/index.js'
import type { Span } from '@opentelemetry/api'
import type { InferJob } from './job.js'
import { RingQueue } from './ring-queue.js'
import { noBatchTracer, type BatchTracer } from './tracer.js'

export interface BatchObserver {
  /** A batch finished: its size in rows and its compute time (ms). */
  onBatch: (variant: VariantRuntime, rows: number, computeMs: number) => void
  /** A job is answered (scores or error); called once per job. */
  onJobDone: (job: InferJob) => void
}

/** The batching knobs of one variant (config.batching). */
export type BatchingOptions = Config['batching']

class BatchSlot {
  readonly buffer: Float32Array
  readonly jobs: Array<InferJob | null>
  readonly starts: Int32Array
  readonly counts: Int32Array
  segments = 0
  rows = 0
  startedAt = 0
  busy = false
  /** This batch's tracing span (null when tracing is off or nothing in it is sampled). */
  span: Span | null = null
  // Bound once per slot, not per batch: the completion path allocates no closures.
  readonly onResult: (scores: Float32Array) => void
  readonly onError: (err: unknown) => void

  constructor (readonly batcher: Batcher, maxBatch: number, width: number) {
    this.buffer = new Float32Array(maxBatch * width)
    this.jobs = new Array<InferJob | null>(maxBatch).fill(null)
    this.starts = new Int32Array(maxBatch)
    this.counts = new Int32Array(maxBatch)
    this.onResult = (scores) => { batcher.finish(this, scores, null) }
    this.onError = (err) => { batcher.finish(this, null, err) }
  }
}

export class Batcher {
  private readonly queue: RingQueue<InferJob>
  private readonly slots: BatchSlot[]
  private queued = 0
  private running = 0
  private timer: unknown = null
  private closing = false
  private drainWaiters: Array<() => void> = []
  private readonly width: number
  /** Moving estimate of batch compute time (ms) per row and per batch, for the router. */
  ewmaBatchMs = 0
  ewmaRowMs = 0
  batches = 0
  private readonly onTimer: () => void

  constructor (
    readonly variant: VariantRuntime,
    private readonly opts: BatchingOptions,
    private readonly clock: Clock,
    private readonly observer: BatchObserver,
    private readonly tracing: BatchTracer = noBatchTracer
  ) {
    this.width = variant.model.width
    // Queue length is bounded by rows (each job has ≥ 1 row), so the ring never needs to grow.
    this.queue = new RingQueue<InferJob>(opts.max_queue_rows + 1)
    this.slots = Array.from({ length: opts.max_inflight }, () => new BatchSlot(this, opts.max_batch_size, this.width))
    this.onTimer = () => { this.timer = null; this.pump(true) }
  }

  /** Rows waiting to run. */
  get queuedRows (): number { return this.queued }
  get inflight (): number { return this.running }

  /** Predicted wait before a new row starts running: queued rows at the observed rate. */
  estimateWaitMs (): number {
    const perSlot = this.queued / Math.max(1, this.opts.max_inflight)
    return this.running >= this.opts.max_inflight ? this.ewmaBatchMs + perSlot * this.ewmaRowMs : perSlot * this.ewmaRowMs
  }

  /** Queues a job or throws a coded error (429 full, 503 draining or not ready). */
  enqueue (job: InferJob): void {
    if (this.closing) throw FG_ERR_BATCH_DRAINING()
    if (this.variant.state !== 'ready') throw FG_ERR_MODEL_NOT_READY(this.variant.model.name, this.variant.name)
    if (this.queued + job.rows > this.opts.max_queue_rows && this.queued > 0) {
      throw FG_ERR_BATCH_QUEUE_FULL(this.variant.model.name, this.variant.name, this.opts.max_queue_rows)
    }
    if (!this.queue.push(job)) throw FG_ERR_BATCH_QUEUE_FULL(this.variant.model.name, this.variant.name, this.opts.max_queue_rows)
    job.variant = this.variant
    job.enqueuedAt = this.clock.now()
    this.queued += job.rows - job.nextRow
    this.pump(false)
  }

  private pump (timerFired: boolean): void {
    // A second run of this variant starts only for a full batch (or to drain): running two
    // partial batches at once would split the same rows into smaller batches, which cost more
    // per row and take the cores the HTTP thread needs; while one runs, the queue fills the next.
    while (this.queued > 0 && this.running < this.slots.length && (this.running === 0 || this.queued >= this.opts.max_batch_size || this.closing)) {
      if (!timerFired && !this.closing && this.opts.max_queue_delay_ms > 0 && this.queued < this.opts.max_batch_size) {
        // Partial batch: wait for company, but not past the oldest job's delay.
        if (this.timer === null) {
          const head = this.queue.peek() as InferJob
          const wait = Math.max(0, head.enqueuedAt + this.opts.max_queue_delay_ms - this.clock.now())
          this.timer = this.clock.setTimer(this.onTimer, wait)
        }
        return
      }
      timerFired = false
      if (this.timer !== null) { this.clock.clearTimer(this.timer); this.timer = null }
      let slot: BatchSlot | undefined
      for (const s of this.slots) if (!s.busy) { slot = s; break }
      if (slot === undefined) return
      this.dispatch(slot)
    }
    this.checkDrained()
  }

  private dispatch (slot: BatchSlot): void {
    const max = this.opts.max_batch_size
    const now = this.clock.now()
    const width = this.width
    let rows = 0
    let seg = 0
    let direct: Float32Array | null = null
    while (rows < max) {
      const job = this.queue.peek()
      if (job === undefined) break
      if (job.nextRow === 0 && job.deadline < now) {
        // Its budget is spent before it ran: answer now, never run it.
        this.queue.shift()
        this.queued -= job.rows
        job.error = FG_ERR_BATCH_DEADLINE(job.budgetMs, now - job.receivedAt, now - job.enqueuedAt)
        job.rowsDone = job.rows
        job.finishedAt = now
        if (job.span !== null) this.tracing.queued(job, now, job.error)
        this.observer.onJobDone(job)
        continue
      }
      const take = Math.min(job.rows - job.nextRow, max - rows)
      // A whole job that is the batch by itself (a full batch, or the only job queued) runs on
      // its own packed input: copying 64 rows into the slot's buffer bought nothing.
      if (seg === 0 && job.nextRow === 0 && take === job.rows && (take === max || this.queue.length === 1)) direct = job.input
      else slot.buffer.set(job.input.subarray(job.nextRow * width, (job.nextRow + take) * width), rows * width)
      slot.jobs[seg] = job
      slot.starts[seg] = job.nextRow
      slot.counts[seg] = take
      seg++
      if (job.startedAt < 0) {
        job.startedAt = now
        if (job.span !== null) this.tracing.queued(job, now, null)
      }
      job.nextRow += take
      rows += take
      this.queued -= take
      if (job.nextRow === job.rows) this.queue.shift()
    }
    if (rows === 0) return
    slot.segments = seg
    slot.rows = rows
    slot.startedAt = now
    slot.busy = true
    if (this.tracing.enabled) slot.span = this.tracing.startBatch(this.variant, slot.jobs, slot.counts, seg, rows, now)
    this.running++
    this.variant.run(direct ?? slot.buffer, rows).then(slot.onResult, slot.onError)
  }

  /** @internal called by a slot when its batch has run. */
  finish (slot: BatchSlot, scores: Float32Array | null, err: unknown): void {
    const now = this.clock.now()
    const ms = now - slot.startedAt
    const rows = slot.rows
    if (scores !== null && (!(scores instanceof Float32Array) || scores.length < rows)) {
      // Whatever the model gave (int64 labels, too few rows), this batch fails with a 500; copying
      // it into the jobs' scores would throw out of a promise callback and end the process.
      err = new Error(`model output is not ${rows} float32 scores`)
      scores = null
    }
    if (scores !== null) {
      // EWMA with α = 0.2: follows load changes within a few batches, ignores one slow run.
      this.ewmaBatchMs = this.batches === 0 ? ms : 0.8 * this.ewmaBatchMs + 0.2 * ms
      this.ewmaRowMs = this.batches === 0 ? ms / rows : 0.8 * this.ewmaRowMs + 0.2 * (ms / rows)
      this.batches++
      this.observer.onBatch(this.variant, rows, ms)
    }
    const error = err === null
      ? null
      : err instanceof FairgateError ? err : FG_ERR_MODEL_INFERENCE(this.variant.model.name, this.variant.name, (err as Error)?.message ?? String(err))
    if (slot.span !== null) {
      this.tracing.endBatch(slot.span, now, error)
      slot.span = null
    }
    let at = 0
    for (let i = 0; i < slot.segments; i++) {
      const job = slot.jobs[i] as InferJob
      slot.jobs[i] = null
      const start = slot.starts[i] as number
      const count = slot.counts[i] as number
      if (scores !== null) job.scores.set(scores.subarray(at, at + count), start)
      else if (job.error === null) job.error = error
      at += count
      if (rows > job.batchSize) job.batchSize = rows
      job.rowsDone += count
      if (job.rowsDone === job.rows) {
        job.finishedAt = now
        this.observer.onJobDone(job)
      }
    }
    slot.busy = false
    slot.segments = 0
    this.running--
    this.pump(false)
  }

  /** Stops taking jobs; resolves once everything queued has been answered. */
  drain (): Promise<void> {
    this.closing = true
    if (this.timer !== null) { this.clock.clearTimer(this.timer); this.timer = null }
    this.pump(true)
    if (this.queued === 0 && this.running === 0) return Promise.resolve()
    return new Promise(resolve => { this.drainWaiters.push(resolve) })
  }

  private checkDrained (): void {
    if (this.closing && this.queued === 0 && this.running === 0 && this.drainWaiters.length > 0) {
      const w = this.drainWaiters
      this.drainWaiters = []
      for (const f of w) f()
    }
  }
}
