// An inference thread: holds one onnxruntime session per variant and runs batches sent by the
// pool. onnxruntime-node's session.run is synchronous on the thread that calls it (its promise
// only defers the call with setImmediate), so running it here keeps the HTTP thread free and
// lets inference use another core.
import { parentPort, workerData } from 'node:worker_threads'
import type { Config } from '../config/index.js'
import { openSession, ort } from './session.js'
import type { PoolReply, PoolRequest } from './inference-pool.js'

interface Loaded { session: ort.InferenceSession, input: string, output: string, width: number }

const port = parentPort!
const cfg = (workerData as { models: Config['models'] }).models
const sessions = new Map<string, Loaded>()
const post = (m: PoolReply, transfer?: ArrayBuffer[]): void => { port.postMessage(m, transfer ?? []) }
const log = {
  info: (o: object | string, msg?: string) => { post({ t: 'log', level: 'info', obj: typeof o === 'string' ? { msg: o } : o, msg: msg ?? '' }) },
  warn: (o: object | string, msg?: string) => { post({ t: 'log', level: 'warn', obj: typeof o === 'string' ? { msg: o } : o, msg: msg ?? '' }) },
  error: (o: object | string, msg?: string) => { post({ t: 'log', level: 'error', obj: typeof o === 'string' ? { msg: o } : o, msg: msg ?? '' }) }
}

port.on('message', (m: PoolRequest) => {
  if (m.t === 'run') {
    const s = sessions.get(m.key)
    if (s === undefined) { post({ t: 'error', id: m.id, message: `no session ${m.key}` }); return }
    s.session.run({ [s.input]: new ort.Tensor('float32', m.input, [m.rows, s.width]) }).then(out => {
      const t = out[s.output]
      if (t === undefined) { post({ t: 'error', id: m.id, message: `no output "${s.output}"` }); return }
      // Our own copy, so the buffer can be transferred without touching onnxruntime's memory.
      const scores = (t.data as Float32Array).slice()
      post({ t: 'ran', id: m.id, scores }, [scores.buffer as ArrayBuffer])
    }, (err: Error) => { post({ t: 'error', id: m.id, message: err.message }) })
  } else if (m.t === 'open') {
    openSession(m.file, cfg, log).then(({ session, provider }) => {
      sessions.set(m.key, { session, input: m.input, output: m.output, width: m.width })
      post({ t: 'opened', id: m.id, provider })
    }, (err: Error) => { post({ t: 'error', id: m.id, message: err.message }) })
  } else if (m.t === 'close') {
    void Promise.allSettled([...sessions.values()].map(s => s.session.release())).then(() => { post({ t: 'closed', id: m.id }) })
  }
})
