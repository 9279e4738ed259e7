// The batcher against a fake variant whose runs the test completes by hand, and a fake clock.
import t from 'tap'
import { Batcher, InferJob } from '../../src/batching/index.js'
import type { VariantRuntime, ModelRuntime } from '../../src/models/index.js'
import { FakeClock } from '../helpers/fake-clock.js'

const WIDTH = 2

/** `input` is a copy of the batch's rows; `given` the array the batcher passed (to tell a copy from the job's own). */
interface PendingRun { input: Float32Array, given: Float32Array, rows: number, resolve: (s: Float32Array) => void, reject: (e: Error) => void }

function fakeVariant (): { variant: VariantRuntime, runs: PendingRun[] } {
  const runs: PendingRun[] = []
  const model = { name: 'm', width: WIDTH } as unknown as ModelRuntime
  const variant = {
    name: 'v',
    model,
    state: 'ready',
    run: (input: Float32Array, rows: number) => new Promise<Float32Array>((resolve, reject) => {
      runs.push({ input: input.slice(0, rows * WIDTH), given: input, rows, resolve, reject })
    })
  } as unknown as VariantRuntime
  return { variant, runs }
}

/** Answers a run with score = first feature of each row, so rows can be traced. */
function answer (r: PendingRun): void {
  const s = new Float32Array(r.rows)
  for (let i = 0; i < r.rows; i++) s[i] = r.input[i * WIDTH]!
  r.resolve(s)
}

function job (model: ModelRuntime, rows: number, first: number, clock: FakeClock, budget = 0): InferJob {
  const input = new Float32Array(rows * WIDTH)
  for (let i = 0; i < rows; i++) input[i * WIDTH] = first + i
  return new InferJob(model, rows, input, new Int16Array(0), false, budget, budget > 0 ? clock.now() + budget : Infinity, null, 'r', clock.now())
}

const opts = { max_batch_size: 4, max_queue_delay_ms: 0, max_queue_rows: 10, max_inflight: 1, default_latency_budget_ms: 0 }
const tick = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

t.test('greedy batching: a lone job runs at once, followers share the next batch', async t => {
  const clock = new FakeClock()
  const { variant, runs } = fakeVariant()
  const done: InferJob[] = []
  const sizes: number[] = []
  const b = new Batcher(variant, opts, clock, { onBatch: (_v, rows) => sizes.push(rows), onJobDone: j => done.push(j) })
  const jobs = [0, 10, 20, 30].map(f => job(variant.model, 1, f, clock))
  for (const j of jobs) b.enqueue(j)
  t.equal(runs.length, 1, 'first job dispatched immediately')
  t.equal(runs[0]!.rows, 1)
  t.equal(b.queuedRows, 3)
  answer(runs[0]!)
  await tick()
  t.equal(runs.length, 2)
  t.equal(runs[1]!.rows, 3, 'the three waiting jobs form one batch')
  answer(runs[1]!)
  await tick()
  t.same(done.map(j => j.scores[0]), [0, 10, 20, 30], 'each job gets its own row')
  t.same(sizes, [1, 3])
  t.same(done.map(j => j.batchSize), [1, 3, 3, 3])
})

t.test('a job larger than a batch is split and merged back in order', async t => {
  const clock = new FakeClock()
  const { variant, runs } = fakeVariant()
  const done: InferJob[] = []
  const b = new Batcher(variant, { ...opts, max_inflight: 2 }, clock, { onBatch: () => {}, onJobDone: j => done.push(j) })
  const big = job(variant.model, 9, 100, clock)
  const small = job(variant.model, 1, 5, clock)
  b.enqueue(big)
  b.enqueue(small)
  t.same(runs.map(r => r.rows), [4, 4], 'both slots take a full part of big at once')
  answer(runs[1]!) // the second part finishes first
  await tick()
  t.equal(done.length, 0, 'big waits for its other parts')
  t.equal(runs.length, 2, 'the two rows left are a partial batch: they wait for the first run, not beside it')
  answer(runs[0]!)
  await tick()
  t.equal(runs.length, 3)
  t.equal(runs[2]!.rows, 2, 'big\'s last row and small run together')
  answer(runs[2]!)
  await tick()
  t.same([...big.scores], [100, 101, 102, 103, 104, 105, 106, 107, 108], 'parts merged back in order')
  t.same(done, [big, small])
})

t.test('a second run starts only for a full batch', async t => {
  const clock = new FakeClock()
  const { variant, runs } = fakeVariant()
  const b = new Batcher(variant, { ...opts, max_inflight: 2 }, clock, { onBatch: () => {}, onJobDone: () => {} })
  b.enqueue(job(variant.model, 1, 0, clock))
  t.same(runs.map(r => r.rows), [1], 'an idle batcher runs a lone row at once')
  for (let i = 0; i < 3; i++) b.enqueue(job(variant.model, 1, 0, clock))
  t.equal(runs.length, 1, 'three rows are not a full batch: they wait while the first runs')
  t.equal(b.queuedRows, 3)
  b.enqueue(job(variant.model, 1, 0, clock))
  t.same(runs.map(r => r.rows), [1, 4], 'four rows are: the second slot takes them')
})

t.test('max_queue_delay holds a partial batch until the delay or a full batch', async t => {
  const clock = new FakeClock()
  const { variant, runs } = fakeVariant()
  const b = new Batcher(variant, { ...opts, max_queue_delay_ms: 2 }, clock, { onBatch: () => {}, onJobDone: () => {} })
  b.enqueue(job(variant.model, 1, 0, clock))
  clock.advance(1)
  b.enqueue(job(variant.model, 1, 1, clock))
  t.equal(runs.length, 0, 'waiting for company')
  clock.advance(0.999)
  t.equal(runs.length, 0)
  clock.advance(0.002)
  t.equal(runs.length, 1, 'released when the oldest job has waited 2 ms')
  t.equal(runs[0]!.rows, 2)
  answer(runs[0]!)
  await tick()
  for (let i = 0; i < 4; i++) b.enqueue(job(variant.model, 1, i, clock))
  t.equal(runs.length, 2, 'a full batch goes without waiting')
  t.equal(clock.pending, 0, 'no timer left behind')
})

t.test('queue full is a 429 with Retry-After; a job whose deadline passed is never run', async t => {
  const clock = new FakeClock()
  const { variant, runs } = fakeVariant()
  const done: InferJob[] = []
  const b = new Batcher(variant, opts, clock, { onBatch: () => {}, onJobDone: j => done.push(j) })
  b.enqueue(job(variant.model, 4, 0, clock)) // runs
  b.enqueue(job(variant.model, 4, 0, clock, 5)) // queued with a 5 ms budget
  b.enqueue(job(variant.model, 4, 0, clock))
  t.throws(() => b.enqueue(job(variant.model, 3, 0, clock)), { code: 'FG_ERR_BATCH_QUEUE_FULL', statusCode: 429, retryAfter: 1 })
  clock.advance(10)
  answer(runs[0]!)
  await tick()
  t.equal(done[1]!.error?.code, 'FG_ERR_BATCH_DEADLINE', 'expired job answered with an error')
  t.equal(done[1]!.error?.statusCode, 504)
  t.equal(runs.length, 2)
  t.equal(runs[1]!.rows, 4, 'the next batch holds only the live job')
})

t.test('an inference failure answers every job of the batch with a 500, the batcher keeps going', async t => {
  const clock = new FakeClock()
  const { variant, runs } = fakeVariant()
  const done: InferJob[] = []
  const b = new Batcher(variant, opts, clock, { onBatch: () => {}, onJobDone: j => done.push(j) })
  b.enqueue(job(variant.model, 2, 0, clock))
  runs[0]!.reject(new Error('boom'))
  await tick()
  t.equal(done[0]!.error?.code, 'FG_ERR_MODEL_INFERENCE')
  b.enqueue(job(variant.model, 1, 9, clock))
  answer(runs[1]!)
  await tick()
  t.equal(done[1]!.error, null)
  t.equal(done[1]!.scores[0], 9)
})

t.test('drain answers what is queued, refuses new jobs', async t => {
  const clock = new FakeClock()
  const { variant, runs } = fakeVariant()
  const done: InferJob[] = []
  const b = new Batcher(variant, { ...opts, max_queue_delay_ms: 50 }, clock, { onBatch: () => {}, onJobDone: j => done.push(j) })
  b.enqueue(job(variant.model, 1, 1, clock))
  let drained = false
  const p = b.drain().then(() => { drained = true })
  t.equal(runs.length, 1, 'drain does not wait out the queue delay')
  t.throws(() => b.enqueue(job(variant.model, 1, 0, clock)), { statusCode: 503, code: 'FG_ERR_BATCH_DRAINING' })
  await tick()
  t.equal(drained, false)
  answer(runs[0]!)
  await p
  t.equal(done.length, 1)
})

t.test('an output that is not float32 scores fails its batch with a 500, never the process (issue 14, defect 18)', async t => {
  const clock = new FakeClock()
  const { variant, runs } = fakeVariant()
  ;(variant.model as unknown as { name: string }).name = 'm'
  const done: InferJob[] = []
  const b = new Batcher(variant, opts, clock, { onBatch: () => {}, onJobDone: j => done.push(j) })
  b.enqueue(job(variant.model, 2, 0, clock))
  // What onnxruntime gives for an int64 label output: copying it into a Float32Array throws
  // "Cannot mix BigInt and other types" inside the promise callback.
  runs[0]!.resolve(new BigInt64Array(2) as unknown as Float32Array)
  await tick()
  t.equal(done.length, 1, 'the job is answered')
  t.match(done[0]!.error, { code: 'FG_ERR_MODEL_INFERENCE', statusCode: 500, message: /not 2 float32 scores/ })
  b.enqueue(job(variant.model, 3, 0, clock))
  runs[1]!.resolve(new Float32Array(1))
  await tick()
  t.match(done[1]!.error, { statusCode: 500 }, 'too few scores too')
  b.enqueue(job(variant.model, 1, 7, clock))
  answer(runs[2]!)
  await tick()
  t.equal(done[2]!.error, null, 'and the next batch runs normally')
  t.equal(done[2]!.scores[0], 7)
})

t.test('a whole job that is its batch alone runs on its own input; a batch of parts is packed in the slot', async t => {
  const clock = new FakeClock()
  const { variant, runs } = fakeVariant()
  const model = variant.model
  const done: InferJob[] = []
  const b = new Batcher(variant, opts, clock, { onBatch: () => {}, onJobDone: j => done.push(j) })
  const lone = job(model, 3, 0, clock)
  b.enqueue(lone)
  t.equal(runs[0]!.given, lone.input, 'the only job queued: its input itself, no copy')
  const full = job(model, 4, 10, clock)
  const a = job(model, 1, 20, clock)
  const c = job(model, 2, 30, clock)
  b.enqueue(full)
  b.enqueue(a)
  b.enqueue(c)
  answer(runs[0]!)
  await tick()
  t.equal(runs[1]!.given, full.input, 'a job of max_batch_size rows is a batch by itself')
  answer(runs[1]!)
  await tick()
  t.not(runs[2]!.given, a.input, 'two jobs in one batch: packed into the slot buffer')
  t.not(runs[2]!.given, c.input)
  t.same([...runs[2]!.input], [20, 0, 30, 0, 31, 0], 'in queue order')
  answer(runs[2]!)
  await tick()
  t.same(done.map(j => [...j.scores]), [[0, 1, 2], [10, 11, 12, 13], [20], [30, 31]], 'each job its own scores')
})
