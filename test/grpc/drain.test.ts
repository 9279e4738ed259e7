// SIGTERM on `fairgate serve` with gRPC calls in flight: every call is answered (a score, or
// UNAVAILABLE once draining), both servers close and the process exits 0.
import t from 'tap'
import { join } from 'node:path'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import { golden, ROOT } from '../helpers/gateway.js'
import { serveCli } from '../helpers/process.js'

const LOAD = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true }

t.test('SIGTERM drains gRPC calls and exits 0', async t => {
  const s = await serveCli()
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(join(ROOT, 'proto', 'grpc_predict_v2.proto'), LOAD)) as any
  const c = new pkg.inference.GRPCInferenceService(s.grpc, grpc.credentials.createInsecure())
  t.teardown(() => { c.close(); if (s.child.exitCode === null) s.child.kill('SIGKILL') })
  const f = new Float32Array(golden().encoded[0]!)
  const req = { model_name: 'income', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 112] }], raw_input_contents: [Buffer.from(f.buffer)] }
  const one = (): Promise<number> => new Promise(resolve => {
    c.ModelInfer(req, (err: grpc.ServiceError | null) => { resolve(err === null ? 0 : err.code) })
  })
  t.equal(await one(), 0, 'serving before the signal')
  const before = Array.from({ length: 100 }, one)
  // Signal once the first of them has been answered, so the rest are at the server or on the wire.
  await Promise.race(before)
  s.child.kill('SIGTERM')
  const after = Array.from({ length: 100 }, one)
  const codes = await Promise.all([...before, ...after])
  const allowed = new Set([0, grpc.status.UNAVAILABLE])
  t.ok(codes.every(x => allowed.has(x)), `every call answered with a score or UNAVAILABLE: ${[...new Set(codes)].join(',')}`)
  t.ok(codes.slice(0, 100).filter(x => x === 0).length >= 1, 'calls in flight at the signal got scores')
  t.equal(await s.exited, 0, 'drained and exited 0')
})
