// An inference thread: holds one onnxruntime session per variant and runs batches sent by the
// pool. onnxruntime-node's session.run is synchronous on the thread that calls it (its promise
// only defers the call with setImmediate), so running it here keeps the HTTP thread free and
// lets inference use another core.
import { readlinkSync } from 'node:fs'
import { setPriority } from 'node:os'
import { parentPort, workerData } from 'node:worker_threads'
import type { Config } from '../config/index.js'
import { openSession, ort, runScores, scoresOf, type ReadPlan, type SessionIo } from './session.js'
import type { PoolReply, PoolRequest } from './inference-pool.js'

interface Loaded { session: ort.InferenceSession, io: SessionIo, plan: ReadPlan }

const port = parentPort!
const cfg = (workerData as { models: Config['models'] }).models
lowerPriority((workerData as { nice: number }).nice)
const sessions = new Map<string, Loaded>()
const inflight = new Set<Promise<void>>()
const post = (m: PoolReply, transfer?: ArrayBuffer[]): void => { port.postMessage(m, transfer ?? []) }
const log = {
  info: (o: object | string, msg?: string) => { post({ t: 'log', level: 'info', obj: typeof o === 'string' ? { msg: o } : o, msg: msg ?? '' }) },
  warn: (o: object | string, msg?: string) => { post({ t: 'log', level: 'warn', obj: typeof o === 'string' ? { msg: o } : o, msg: msg ?? '' }) },
  error: (o: object | string, msg?: string) => { post({ t: 'log', level: 'error', obj: typeof o === 'string' ? { msg: o } : o, msg: msg ?? '' }) }
}

/**
 * Runs this thread at a lower priority (Linux: setpriority on the thread's own id). A batch
 * runs for milliseconds and cannot be interrupted; at equal priority it takes the core from the
 * HTTP thread for a whole scheduler slice, and every request's latency pays for it. Niced, the
 * batch uses the CPU the HTTP thread leaves. Elsewhere, or if refused, it stays as it is.
 */
function lowerPriority (nice: number): void {
  if (nice === 0 || process.platform !== 'linux') return
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop())
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, nice)
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'could not lower the inference thread\'s priority')
  }
}

port.on('message', (m: PoolRequest) => {
  if (m.t === 'run') {
    const s = sessions.get(m.key)
    if (s === undefined) { post({ t: 'error', id: m.id, message: `no session ${m.key}` }); return }
    const running = runScores(s.session, s.io, new ort.Tensor('float32', m.input, [m.rows, s.io.width])).then(out => {
      // Our own copy, so the buffer can be transferred without touching onnxruntime's memory.
      const scores = scoresOf(out, s.io, s.plan, m.rows).slice()
      post({ t: 'ran', id: m.id, scores }, [scores.buffer as ArrayBuffer])
    }).catch((err: Error) => { post({ t: 'error', id: m.id, message: err.message }) })
    inflight.add(running)
    void running.finally(() => inflight.delete(running))
  } else if (m.t === 'open') {
    openSession(m.file, cfg, log, m.io).then(({ session, provider, plan }) => {
      sessions.set(m.key, { session, io: m.io, plan })
      post({ t: 'opened', id: m.id, provider })
    }, (err: Error) => { post({ t: 'error', id: m.id, message: err.message }) })
  } else if (m.t === 'close') {
    // session.run defers its work, so a batch posted just before close may not have run yet.
    void Promise.allSettled([...inflight])
      .then(async () => await Promise.allSettled([...sessions.values()].map(s => s.session.release())))
      .then(() => { post({ t: 'closed', id: m.id }) })
  }
})
