// A pool of inference threads (models.inference_threads). Every thread opens every variant, so
// any thread can run any batch; a batch goes to the thread with the fewest runs pending. One
// postMessage per batch, with the input copied once and transferred both ways. A thread that
// dies is replaced and its sessions reopened; the batches it held fail (their requests get a
// 500) and the gateway keeps serving.
import { Worker } from 'node:worker_threads'
import type { Config } from '../config/index.js'
import { workerEntry } from '../worker-url.js'
import type { Logger, Provider } from './session.js'

export type PoolRequest =
  | { t: 'open', id: number, key: string, file: string, input: string, output: string, width: number }
  | { t: 'run', id: number, key: string, input: Float32Array, rows: number }
  | { t: 'close', id: number }

export type PoolReply =
  | { t: 'opened', id: number, provider: Provider }
  | { t: 'ran', id: number, scores: Float32Array }
  | { t: 'closed', id: number }
  | { t: 'error', id: number, message: string }
  | { t: 'log', level: 'info' | 'warn' | 'error', obj: object, msg: string }

interface Call { resolve: (v: any) => void, reject: (e: Error) => void }
interface Thread { worker: Worker, pending: number, calls: Map<number, Call> }
type OpenSpec = Extract<PoolRequest, { t: 'open' }>

export class InferencePool {
  private readonly threads: Thread[] = []
  private readonly opened: OpenSpec[] = []
  private nextId = 1
  private closing = false

  constructor (readonly size: number, private readonly cfg: Config['models'], private readonly log: Logger) {
    for (let i = 0; i < size; i++) this.threads.push(this.spawn(i))
  }

  private spawn (i: number): Thread {
    const entry = workerEntry(import.meta.url, 'inference-worker')
    const worker = new Worker(entry.url, { workerData: { models: this.cfg, ...entry.workerData }, name: `fairgate-inference-${i}` })
    const th: Thread = { worker, pending: 0, calls: new Map() }
    worker.on('message', (m: PoolReply) => {
      if (m.t === 'log') { this.log[m.level](m.obj, m.msg); return }
      const call = th.calls.get(m.id)
      if (call === undefined) return
      th.calls.delete(m.id)
      th.pending--
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
    const fresh = this.spawn(i)
    this.threads[i] = fresh
    for (const spec of this.opened) void this.call(fresh, { ...spec, id: this.nextId++ }).catch(() => {})
  }

  private call<T> (th: Thread, msg: PoolRequest, transfer: ArrayBuffer[] = []): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      th.calls.set(msg.id, { resolve, reject })
      th.pending++
      th.worker.postMessage(msg, transfer)
    })
  }

  /** Opens a variant in every thread; resolves to the provider it got. */
  async open (key: string, file: string, input: string, output: string, width: number): Promise<Provider> {
    const spec: OpenSpec = { t: 'open', id: 0, key, file, input, output, width }
    const providers = await Promise.all(this.threads.map(th => this.call<Provider>(th, { ...spec, id: this.nextId++ })))
    this.opened.push(spec)
    return providers[0]!
  }

  /** Runs rows × width floats (copied from input) on the least busy thread. */
  run (key: string, input: Float32Array, rows: number, width: number): Promise<Float32Array> {
    let th = this.threads[0]!
    for (const x of this.threads) if (x.pending < th.pending) th = x
    const copy = input.slice(0, rows * width)
    return this.call<Float32Array>(th, { t: 'run', id: this.nextId++, key, input: copy, rows }, [copy.buffer as ArrayBuffer])
  }

  async close (): Promise<void> {
    this.closing = true
    await Promise.allSettled(this.threads.map(th => Promise.race([
      this.call(th, { t: 'close', id: this.nextId++ }),
      new Promise(resolve => setTimeout(resolve, 2_000))
    ])))
    await Promise.allSettled(this.threads.map(th => th.worker.terminate()))
  }
}
