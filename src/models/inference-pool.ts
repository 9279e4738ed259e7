// A pool of inference threads (models.inference_threads). Every thread opens every variant, so
// any thread can run any batch. One postMessage per batch, with the input copied once and
// transferred both ways. A thread that dies is replaced and its sessions reopened; the batch it
// held fails (its requests get a 500) and the gateway keeps serving.
//
// Scheduling: a thread holds at most one batch; the rest wait here and an idle thread takes the
// one with the earliest (queued at + expected run time). Variants share the threads, and a run
// cannot be interrupted, so handing batches to the threads' own FIFO ports would make a 50 µs
// distilled batch wait behind every queued 6 ms full batch: the latency router would then see
// no fast variant at all under load. Ordering by arrival + cost lets short batches overtake long
// ones that arrived less than their cost earlier, which bounds how long either can wait. The
// expected run time is the variant's moving cost (a fixed part plus ms per row), measured here
// from post to answer (one batch per thread, so that is the run alone), as the median of the
// recent runs (run-cost.ts), so it keeps following the machine while serving. The extra hop between
// batches costs ~tens of µs.
import type { Worker } from 'node:worker_threads'
import { systemClock, type Clock } from '../clock.js'
import type { Config } from '../config/index.js'
import { expectedMs, learn, newRunCost, seed, type RunCost } from './run-cost.js'
import { HysteresisGate } from './hysteresis-gate.js'
import { startWorker } from '../worker-url.js'
import type { Logger, Provider, SessionIo } from './session.js'

export type PoolRequest =
  | { t: 'open', id: number, key: string, file: string, io: SessionIo }
  | { t: 'run', id: number, key: string, input: Float32Array, rows: number }
  | { t: 'close', id: number }

export type PoolReply =
  | { t: 'opened', id: number, provider: Provider }
  | { t: 'ran', id: number, scores: Float32Array }
  | { t: 'closed', id: number }
  | { t: 'error', id: number, message: string }
  | { t: 'log', level: 'info' | 'warn' | 'error', obj: object, msg: string }

interface Call { resolve: (v: any) => void, reject: (e: Error) => void }
interface Thread { worker: Worker, calls: Map<number, Call>, running: Queued | null }
/** A batch waiting for a thread (or running on one). */
interface Queued extends Call { msg: Extract<PoolRequest, { t: 'run' }>, expected: number, due: number, postedAt: number, cost: RunCost, lane: Lane, short: boolean }
/**
 * A variant's cost and its lane: whether its batches are short (may take the kept thread). The
 * lane is the variant's, not each batch's: decided on its largest batch with hysteresis, so one
 * variant's one-row batches (short) never keep the kept thread from its own full ones (long);
 * when they did, a start whose `full` ran one-row batches on the threads served long batches on
 * the niced thread alone, at a quarter of the rate of a start that did not.
 */
interface Lane { cost: RunCost, short: HysteresisGate, maxRows: number }
/**
 * With two threads or more, the last one only takes batches of variants whose largest batch is
 * expected to run this long or less (see Lane): a short (distilled) batch then never waits behind
 * a long (full) one, whatever the load.
 */
export const SHORT_RUN_MS = 1
/**
 * The last thread is kept for short batches only while they are around: for this long after a
 * short batch was queued. With none (every request pinned to one slow variant, say) it takes long
 * batches too, or half the inference capacity would sit idle; the first short batch after a
 * quiet spell waits at most one long run for it.
 */
export const KEEP_SHORT_MS = 1_000
type OpenSpec = Extract<PoolRequest, { t: 'open' }>

/** Posts a message to a thread; its answer settles `call`. */
function send (th: Thread, msg: PoolRequest, call: Call, transfer: ArrayBuffer[]): void {
  th.calls.set(msg.id, call)
  th.worker.postMessage(msg, transfer)
}

export class InferencePool {
  private readonly threads: Thread[] = []
  private readonly opened: OpenSpec[] = []
  private nextId = 1
  private closing = false
  private readonly waiting: Queued[] = []
  private readonly lanes = new Map<string, Lane>()
  /** The warm-up in progress (warm() runs one variant at a time). */
  private warming: Promise<void> = Promise.resolve()
  /** When the last short batch was queued (-Infinity: never). */
  private lastShortAt = -Infinity

  /** `clock` times the keep-short window only; run times are always measured in real time. */
  constructor (readonly size: number, private readonly cfg: Config['models'], private readonly log: Logger, private readonly clock: Pick<Clock, 'now'> = systemClock) {
    for (let i = 0; i < size; i++) this.threads.push(this.spawn(i))
    log.info({ threads: size, short_thread: size > 1 ? size - 1 : null, short_run_ms: SHORT_RUN_MS, nice: size > 1 ? cfg.inference_nice : 0 }, 'inference pool')
  }

  private spawn (i: number): Thread {
    // The thread kept for short batches stays at normal priority; the others yield the CPU to it
    // and to the HTTP thread (see models.inference_nice).
    const nice = this.size > 1 && i < this.size - 1 ? this.cfg.inference_nice : 0
    const worker = startWorker(import.meta.url, 'inference-worker', { models: this.cfg, nice }, `fairgate-inference-${i}`)
    const th: Thread = { worker, calls: new Map(), running: null }
    worker.on('message', (m: PoolReply) => {
      if (m.t === 'log') { this.log[m.level](m.obj, m.msg); return }
      const call = th.calls.get(m.id)
      if (call === undefined) return
      th.calls.delete(m.id)
      const run = th.running
      if (run !== null && run.msg.id === m.id) {
        th.running = null
        if (m.t === 'ran') this.observe(run)
        this.dispatch()
      }
      if (m.t === 'error') call.reject(new Error(m.message))
      else if (m.t === 'ran') call.resolve(m.scores)
      else if (m.t === 'opened') call.resolve(m.provider)
      else call.resolve(undefined)
    })
    worker.on('error', (err) => { this.crashed(th, i, err) })
    worker.on('exit', (code) => { if (!this.closing) this.crashed(th, i, new Error(`inference thread exited with code ${code}`)) })
    return th
  }

  private crashed (th: Thread, i: number, err: Error): void {
    if (this.threads[i] !== th || this.closing) return
    this.log.error({ thread: i, err: err.message, failed_calls: th.calls.size }, 'inference thread died; replacing it')
    for (const c of th.calls.values()) c.reject(err)
    th.calls.clear()
    th.running = null
    const fresh = this.spawn(i)
    this.threads[i] = fresh
    // Its port runs these opens before any batch dispatched to it below.
    for (const spec of this.opened) void this.call(fresh, { ...spec, id: this.nextId++ }).catch(() => {})
    this.dispatch()
  }

  private call<T> (th: Thread, msg: PoolRequest, transfer: ArrayBuffer[] = []): Promise<T> {
    return new Promise<T>((resolve, reject) => { send(th, msg, { resolve, reject }, transfer) })
  }

  /** Opens a variant in every thread; resolves to the provider it got. */
  async open (key: string, file: string, io: SessionIo): Promise<Provider> {
    const spec: OpenSpec = { t: 'open', id: 0, key, file, io }
    const providers = await Promise.all(this.threads.map(th => this.call<Provider>(th, { ...spec, id: this.nextId++ })))
    this.opened.push(spec)
    return providers[0]!
  }

  /** Runs rows × width floats (copied from input) on the first idle thread, in the order above. */
  run (key: string, input: Float32Array, rows: number, width: number): Promise<Float32Array> {
    const copy = input.slice(0, rows * width)
    const lane = this.laneFor(key)
    const cost = lane.cost
    const now = performance.now()
    if (rows > lane.maxRows) lane.maxRows = rows
    if (!lane.short.started) lane.short.start(SHORT_RUN_MS, expectedMs(cost, lane.maxRows))
    return new Promise<Float32Array>((resolve, reject) => {
      if (this.closing) { reject(new Error('inference pool is closed')); return }
      const expected = expectedMs(cost, rows)
      const short = lane.short.on
      if (short) this.lastShortAt = this.clock.now()
      this.waiting.push({ msg: { t: 'run', id: this.nextId++, key, input: copy, rows }, expected, due: now + expected, postedAt: 0, cost, lane, short, resolve, reject })
      this.dispatch()
    })
  }

  private laneFor (key: string): Lane {
    let lane = this.lanes.get(key)
    if (lane === undefined) { lane = { cost: newRunCost(), short: new HysteresisGate(this.clock), maxRows: 0 }; this.lanes.set(key, lane) }
    return lane
  }

  /** Whether this variant's batches are short (may take the kept thread); null before it has run. */
  laneOf (key: string): 'short' | 'long' | null {
    const lane = this.lanes.get(key)
    return lane === undefined || !lane.short.started ? null : lane.short.on ? 'short' : 'long'
  }

  /**
   * Sets a variant's cost as if it had run (every sample of each part; served runs then replace them).
   * The scheduling tests give each variant a known cost with it, since costs learned from real
   * runs on a loaded machine can put a distilled batch of 8 above SHORT_RUN_MS.
   */
  prime (key: string, fixedMs: number, rowMs: number): void {
    const lane = this.laneFor(key)
    seed(lane.cost, fixedMs, rowMs)
    lane.short.start(SHORT_RUN_MS, expectedMs(lane.cost, lane.maxRows))
  }

  /** Batches waiting for a thread. */
  get queued (): number { return this.waiting.length }

  /** Expected ms of a run of `rows` rows of this variant (0 before it has run). */
  runMs (key: string, rows: number): number {
    const lane = this.lanes.get(key)
    return lane === undefined ? 0 : expectedMs(lane.cost, rows)
  }

  /**
   * Expected ms before a new batch of this expected run time starts: the work ahead of it that
   * can use the same threads, per thread. A long batch waits for the long work (what is left of
   * the running long batches and every waiting one) spread over the threads it may use; a short
   * one for the short batches waiting, plus what is left of a long batch on the kept thread.
   */
  waitMs (runMs: number, key?: string): number {
    const n = this.threads.length
    const long = this.isLong(runMs, key)
    const now = performance.now()
    let ms = 0
    for (let i = 0; i < n; i++) {
      const r = (this.threads[i] as Thread).running
      if (r === null) continue
      const left = Math.max(0, r.expected - (now - r.postedAt))
      const rLong = n > 1 && !r.short
      if (long ? rLong : n === 1 || (i === n - 1 && rLong)) ms += left
    }
    for (const q of this.waiting) if ((n > 1 && !q.short) === long) ms += q.expected
    return ms / (long ? this.longLanes : n)
  }

  /** Whether the last thread is kept for short batches now (see KEEP_SHORT_MS). */
  private get keepingShort (): boolean { return this.threads.length > 1 && this.clock.now() - this.lastShortAt < KEEP_SHORT_MS }

  /** Threads a long batch may use. */
  get longLanes (): number { return this.keepingShort ? this.threads.length - 1 : this.threads.length }

  /** Whether a batch of this expected run time is long (may not take the kept thread). */
  isLong (runMs: number, key?: string): boolean {
    if (this.threads.length < 2) return false
    const lane = key === undefined ? undefined : this.lanes.get(key)
    return lane !== undefined && lane.short.started ? !lane.short.on : runMs > SHORT_RUN_MS
  }

  /** Hands the earliest-due waiting batches to idle threads; the last thread only takes short ones while they are around. */
  private dispatch (): void {
    const n = this.threads.length
    const keep = this.keepingShort
    for (let i = 0; i < n && this.waiting.length > 0; i++) {
      const th = this.threads[i] as Thread
      if (th.running !== null) continue
      const shortOnly = keep && i === n - 1
      let best = -1
      for (let k = 0; k < this.waiting.length; k++) {
        const q = this.waiting[k] as Queued
        if (shortOnly && !q.short) continue
        if (best < 0 || q.due < (this.waiting[best] as Queued).due) best = k
      }
      if (best < 0) continue
      const q = this.waiting.splice(best, 1)[0] as Queued
      th.running = q
      q.postedAt = performance.now()
      send(th, q.msg, q, [q.msg.input.buffer as ArrayBuffer])
    }
  }

  private observe (q: Queued): void {
    // A session's first run (allocations, kernel selection, cold weights) says nothing of the next.
    if (q.cost.runs++ === 0) return
    learn(q.cost, q.msg.rows, performance.now() - q.postedAt)
    const lane = q.lane
    if (lane.short.update(expectedMs(q.cost, lane.maxRows))) {
      this.log.info({ key: q.msg.key, lane: lane.short.on ? 'short' : 'long', max_batch_ms: Math.round(expectedMs(q.cost, lane.maxRows) * 1000) / 1000, rows: lane.maxRows }, 'inference lane revisited')
    }
  }

  /**
   * Warm-up: runs batches of each size `runs` times on every thread (each thread has its own
   * session, and a cold one is many times slower), outside the queue, and learns the variant's
   * cost from all but each thread's first round. One variant at a time: the registry loads
   * variants concurrently, and a run timed while another variant's warm-up sits ahead of it in
   * the thread's port would teach the pool the other variant's cost.
   */
  async warm (key: string, input: Float32Array, width: number, sizes: readonly number[], runs: number): Promise<void> {
    const mine = this.warming.then(async () => { await this.warmAlone(key, input, width, sizes, runs) })
    this.warming = mine.catch(() => {})
    await mine
  }

  private async warmAlone (key: string, input: Float32Array, width: number, sizes: readonly number[], runs: number): Promise<void> {
    const lane = this.laneFor(key)
    const cost = lane.cost
    lane.maxRows = Math.max(lane.maxRows, ...sizes)
    await Promise.all(this.threads.map(async th => {
      for (let i = 0; i < runs; i++) {
        for (const rows of sizes) {
          const copy = input.slice(0, rows * width)
          const t0 = performance.now()
          await this.call<Float32Array>(th, { t: 'run', id: this.nextId++, key, input: copy, rows }, [copy.buffer as ArrayBuffer])
          if (i > 0) learn(cost, rows, performance.now() - t0)
        }
      }
    }))
    cost.runs = Math.max(cost.runs, 1)
    lane.short.start(SHORT_RUN_MS, expectedMs(cost, lane.maxRows))
  }

  async close (): Promise<void> {
    this.closing = true
    for (const q of this.waiting.splice(0)) q.reject(new Error('inference pool is closed'))
    await Promise.allSettled(this.threads.map(th => Promise.race([
      this.call(th, { t: 'close', id: this.nextId++ }),
      new Promise(resolve => setTimeout(resolve, 2_000))
    ])))
    await Promise.allSettled(this.threads.map(th => th.worker.terminate()))
  }
}
