export { Batcher, type BatchObserver, type BatchingOptions } from './batcher.js'
export { InferJob, type JobCallback } from './job.js'
export { RingQueue } from './ring-queue.js'
export { noBatchTracer, type BatchTracer } from './tracer.js'
