// One load generator of bench-protocol.ts, in its own worker thread (plain JS: no loader), so
// the client's own cost (grpc-js especially) is spread over threads and not the figure.
// workerData: { kind: 'http' | 'grpc', target, bodies: [{ body: Uint8Array, headers }], concurrency, seconds }
import { parentPort, workerData } from 'node:worker_threads'
import * as grpc from '@grpc/grpc-js'
import { Pool } from 'undici'

const { kind, target, bodies, concurrency, seconds } = workerData
let requests = 0
let errors = 0
let i = 0
const end = Date.now() + seconds * 1000
const t0 = Date.now()
if (kind === 'http') {
  const pool = new Pool(target, { connections: concurrency })
  const worker = async () => {
    while (Date.now() < end) {
      const b = bodies[i++ % bodies.length]
      const res = await pool.request({ path: '/v2/models/income/versions/distilled/infer', method: 'POST', body: Buffer.from(b.body), headers: b.headers })
      await res.body.arrayBuffer()
      if (res.statusCode === 200) requests++
      else errors++
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  await pool.close()
} else {
  const client = new grpc.Client(target, grpc.credentials.createInsecure())
  const id = (x) => x
  const one = (b) => new Promise(resolve => {
    client.makeUnaryRequest('/inference.GRPCInferenceService/ModelInfer', id, id, b, (err) => { resolve(err === null) })
  })
  const payloads = bodies.map(b => Buffer.from(b.body))
  const worker = async () => {
    while (Date.now() < end) {
      if (await one(payloads[i++ % payloads.length])) requests++
      else errors++
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  client.close()
}
parentPort.postMessage({ requests, errors, seconds: (Date.now() - t0) / 1000 })
