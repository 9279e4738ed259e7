// The main thread's handle on the Kafka worker (kafka-worker.ts): connect, send one WireBatch,
// disconnect, each an RPC answered once. One postMessage per batch, never per event. The
// transport holds no delivery state: if the worker dies, every pending call is rejected (the
// publisher counts the in-flight send as failed and re-sends it after reconnecting), the crash
// is logged and reported through onCrash, and the next connect() starts a fresh worker.
import type { Worker } from 'node:worker_threads'
import type { Logger } from '../models/index.js'
import { startWorker } from '../worker-url.js'
import type { ContentRefusal, FromWorker, LaneDef, ToWorker, WireBatch, WorkerInit } from './wire.js'

/** A send refused for its content (wire.ts ContentRefusal): split it, never re-send it as is. */
export class TransportContentError extends Error {
  constructor (message: string, readonly refusal: ContentRefusal) { super(message) }
}

interface Call { resolve: () => void, reject: (err: Error) => void }

export class KafkaTransport {
  private worker: Worker | null = null
  private nextId = 1
  private readonly calls = new Map<number, Call>()
  /** Lanes the current worker has been sent (a new worker starts with none). */
  private lanesPosted = 0
  private closing = false
  /** Workers started so far (1 + restarts). */
  started = 0

  constructor (
    private readonly init: WorkerInit,
    /** The publisher's lane table; grows, never changes. */
    private readonly lanes: LaneDef[],
    private readonly log: Logger,
    private readonly onCrash: (err: Error) => void
  ) {}

  /** The running worker, started on demand. */
  private get live (): Worker {
    if (this.worker !== null) return this.worker
    const w = startWorker(import.meta.url, 'kafka-worker', { ...this.init }, 'fairgate-kafka')
    // The HTTP server and the publisher's own timers decide the process's lifetime, not this.
    w.unref()
    w.on('message', (m: FromWorker) => { this.onMessage(m) })
    w.on('error', (err: Error) => { this.log.error({ err: err.message, stack: err.stack }, 'kafka worker crashed') })
    w.on('exit', (code: number) => { this.onExit(w, code) })
    this.worker = w
    this.lanesPosted = 0
    this.started++
    return w
  }

  private onMessage (m: FromWorker): void {
    if (m.t === 'log') {
      this.log[m.level](m.obj, m.msg)
      return
    }
    const c = this.calls.get(m.id)
    if (c === undefined) return
    this.calls.delete(m.id)
    if (m.t === 'done') c.resolve()
    else c.reject(m.content === undefined ? new Error(m.message) : new TransportContentError(m.message, m.content))
  }

  private onExit (w: Worker, code: number): void {
    if (this.worker !== w) return
    this.worker = null
    const err = new Error(`kafka worker exited (code ${code})`)
    const calls = [...this.calls.values()]
    this.calls.clear()
    if (!this.closing) {
      this.log.error({ code, pending_calls: calls.length }, 'kafka worker exited; a new one starts on the next connect, the in-flight batch is re-sent')
      this.onCrash(err)
    }
    for (const c of calls) c.reject(err)
  }

  private async call (m: ToWorker): Promise<void> {
    const w = this.live
    await new Promise<void>((resolve, reject) => {
      this.calls.set(m.id, { resolve, reject })
      w.postMessage(m)
    })
  }

  async connect (): Promise<void> { await this.call({ t: 'connect', id: this.nextId++ }) }

  /** Sends one batch; the promise settles when Kafka acked it (or the send failed outright). */
  async send (batch: WireBatch): Promise<void> {
    const w = this.live
    batch.newLanes = this.lanes.length > this.lanesPosted ? this.lanes.slice(this.lanesPosted) : null
    this.lanesPosted = this.lanes.length
    const id = this.nextId++
    await new Promise<void>((resolve, reject) => {
      this.calls.set(id, { resolve, reject })
      w.postMessage({ t: 'send', id, batch } satisfies ToWorker)
    })
  }

  /** Disconnects (bounded by timeoutMs) and ends the worker. */
  async close (timeoutMs: number): Promise<void> {
    this.closing = true
    const w = this.worker
    if (w === null) return
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      this.call({ t: 'disconnect', id: this.nextId++ }).catch(() => {}),
      new Promise(resolve => { timer = setTimeout(resolve, timeoutMs) })
    ])
    clearTimeout(timer)
    await w.terminate()
  }

  /** For tests: ends the worker as a crash would. */
  async crashForTest (): Promise<void> {
    if (this.worker !== null) await this.worker.terminate()
  }
}
