// The KServe v2 gRPC service through a real grpc-js client over a real socket, on the same
// gateway as HTTP: metadata, readiness, ModelInfer with typed and raw contents (bit-identical to
// the HTTP JSON path), status codes, health, and malformed requests as INVALID_ARGUMENT.
import t, { type Test } from 'tap'
import { join } from 'node:path'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import { startGrpcServer } from '../../src/grpc/index.js'
import { golden, parseMetrics, ROOT, startGateway } from '../helpers/gateway.js'

const g = golden()
const W = 112
const LOAD = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true }

type Client = grpc.Client & Record<string, (req: object, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: any) => void) => void>

function clientFor (file: string, path: string[], address: string): Client {
  let node: any = grpc.loadPackageDefinition(protoLoader.loadSync(join(ROOT, 'proto', file), LOAD))
  for (const p of path) node = node[p]
  return new node(address, grpc.credentials.createInsecure()) as Client
}

function call (c: Client, method: string, req: object, opts: grpc.CallOptions = {}): Promise<any> {
  return new Promise((resolve, reject) => {
    c[method]!(req, new grpc.Metadata(), opts, (err, res) => { if (err !== null) reject(err); else resolve(res) })
  })
}

async function status (p: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await p
  } catch (err) {
    return err as grpc.ServiceError
  }
  throw new Error('expected an error status')
}

const raw = (rows: number): Buffer => {
  const f = new Float32Array(rows * W)
  for (let r = 0; r < rows; r++) f.set(g.encoded[r]!, r * W)
  return Buffer.from(f.buffer)
}
const tensor = (rows: number, extra: object = {}): object => ({ name: 'input', datatype: 'FP32', shape: [rows, W], ...extra })

async function setup (t: Test): Promise<{ c: Client, gw: any, app: any }> {
  const { gw, app } = await startGateway()
  const server = await startGrpcServer({ inference: gw.inference, health: gw.health }, '127.0.0.1', 0)
  const c = clientFor('grpc_predict_v2.proto', ['inference', 'GRPCInferenceService'], `127.0.0.1:${server.port}`)
  const h = clientFor('health.proto', ['grpc', 'health', 'v1', 'Health'], `127.0.0.1:${server.port}`)
  ;(c as any).health = h
  t.teardown(async () => { c.close(); h.close(); await server.close(); await app.close() })
  return { c, gw, app }
}

t.test('metadata, readiness, health and inference over gRPC', async t => {
  const { c, gw, app } = await setup(t)
  t.same(await call(c, 'ServerLive', {}), { live: true })
  t.same(await call(c, 'ServerReady', {}), { ready: true })
  t.same(await call(c, 'ModelReady', { name: 'income' }), { ready: true })
  t.same(await call(c, 'ModelReady', { name: 'income', version: 'distilled' }), { ready: true })
  const meta = await call(c, 'ServerMetadata', {})
  t.ok(meta.extensions.includes('binary_tensor_data'))
  const mm = await call(c, 'ModelMetadata', { name: 'income', version: 'int8' })
  t.same(mm.versions, ['int8'])
  t.same(mm.inputs[0], { name: 'input', datatype: 'FP32', shape: [-1, W] })
  t.same(mm.outputs.map((o: any) => o.name), ['probability', 'prediction_id'])
  t.equal((await status(call(c, 'ModelMetadata', { name: 'nope' }))).code, grpc.status.NOT_FOUND)
  t.same(await call((c as any).health, 'Check', { service: '' }), { status: 'SERVING' })
  t.same(await call((c as any).health, 'Check', { service: 'inference.GRPCInferenceService' }), { status: 'SERVING' })
  t.equal((await status(call((c as any).health, 'Check', { service: 'other' }))).code, grpc.status.NOT_FOUND)

  const rows = 4
  const http = await app.inject({ method: 'POST', url: '/v2/models/income/infer', payload: { inputs: [{ name: 'input', datatype: 'FP32', shape: [rows, W], data: g.encoded.slice(0, rows) }], parameters: { variant: 'full' } } })
  const want = http.json().outputs[0].data as number[]
  const pin = { variant: { string_param: 'full' } }

  const r1 = await call(c, 'ModelInfer', { model_name: 'income', id: 'g-1', inputs: [tensor(rows)], raw_input_contents: [raw(rows)], parameters: { ...pin, group: { string_param: '{"sex":"Female","race":"White"}' } } })
  t.equal(r1.model_version, 'full')
  t.equal(r1.id, 'g-1')
  t.same(r1.outputs.map((o: any) => [o.name, o.datatype, o.shape]), [['probability', 'FP32', [rows, 1]], ['prediction_id', 'BYTES', [rows]]])
  const b = r1.raw_output_contents[0] as Buffer
  t.same([...new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length))], want, 'raw scores bit-identical to HTTP JSON')
  const ids = r1.raw_output_contents[1] as Buffer
  t.equal(ids.length, rows * 30)
  t.match(ids.subarray(4, 30).toString(), /^[0-9A-Z]{26}$/)

  const flat: number[] = []
  for (let r = 0; r < rows; r++) flat.push(...g.encoded[r]!)
  const r2 = await call(c, 'ModelInfer', { model_name: 'income', inputs: [tensor(rows, { contents: { fp32_contents: flat } })], parameters: pin, outputs: [{ name: 'probability', parameters: { binary_data: { bool_param: false } } }] })
  t.same(r2.outputs.map((o: any) => o.name), ['probability'], 'requested outputs only')
  t.same(r2.outputs[0].contents.fp32_contents, want, 'typed contents in, typed contents out')
  t.same(r2.raw_output_contents, [])

  const pinned = await call(c, 'ModelInfer', { model_name: 'income', model_version: 'distilled', inputs: [tensor(1)], raw_input_contents: [raw(1)] })
  t.equal(pinned.model_version, 'distilled', 'model_version pins the variant')

  // Status codes beyond INVALID_ARGUMENT.
  t.equal((await status(call(c, 'ModelInfer', { model_name: 'nope', inputs: [tensor(1)], raw_input_contents: [raw(1)] }))).code, grpc.status.NOT_FOUND)
  t.equal((await status(call(c, 'ModelInfer', { model_name: 'income', model_version: 'nope', inputs: [tensor(1)], raw_input_contents: [raw(1)] }))).code, grpc.status.NOT_FOUND)
  const tight = await status(call(c, 'ModelInfer', { model_name: 'income', inputs: [tensor(1)], raw_input_contents: [raw(1)] }, { deadline: Date.now() - 1 }))
  t.equal(tight.code, grpc.status.DEADLINE_EXCEEDED, 'an expired deadline')

  const text = await gw.metrics.registry.metrics()
  const m = parseMetrics(text)
  t.ok((m.get('fairgate_transport_requests_total{transport="grpc",code="200"}') ?? 0) >= 3, 'metrics carry the transport')
  t.ok((m.get('fairgate_transport_requests_total{transport="grpc",code="404"}') ?? 0) >= 2)

  // Watch: the current status at once, then each change (draining below turns it NOT_SERVING).
  const seen: string[] = []
  const watch = (c as any).health.Watch({ service: '' })
  watch.on('data', (m: { status: string }) => { seen.push(m.status) })
  watch.on('error', () => {})
  while (seen.length < 1) await new Promise(resolve => setImmediate(resolve))
  t.same(seen, ['SERVING'], 'Watch sends the current status first')

  gw.startDraining()
  while (seen.length < 2) await new Promise(resolve => setTimeout(resolve, 20))
  t.same(seen, ['SERVING', 'NOT_SERVING'], 'and the change to NOT_SERVING when draining')
  watch.cancel()
  const draining = await status(call(c, 'ModelInfer', { model_name: 'income', inputs: [tensor(1)], raw_input_contents: [raw(1)] }))
  t.equal(draining.code, grpc.status.UNAVAILABLE, draining.details)
  t.same(await call((c as any).health, 'Check', { service: '' }), { status: 'NOT_SERVING' })
})

t.test('a full queue is RESOURCE_EXHAUSTED', async t => {
  const { gw, app } = await startGateway({ batching: { max_queue_rows: 1 }, models: { inference_threads: 0 } })
  const server = await startGrpcServer({ inference: gw.inference, health: gw.health }, '127.0.0.1', 0)
  const c = clientFor('grpc_predict_v2.proto', ['inference', 'GRPCInferenceService'], `127.0.0.1:${server.port}`)
  t.teardown(async () => { c.close(); await server.close(); await app.close() })
  const replies = await Promise.allSettled(Array.from({ length: 40 }, () => call(c, 'ModelInfer', { model_name: 'income', inputs: [tensor(8)], raw_input_contents: [raw(8)] })))
  const codes = replies.map(r => r.status === 'fulfilled' ? 0 : (r.reason as grpc.ServiceError).code)
  t.ok(codes.includes(0), 'some run')
  t.ok(codes.includes(grpc.status.RESOURCE_EXHAUSTED), `some are refused: ${[...new Set(codes)].join(',')}`)
  t.ok(codes.every(x => x === 0 || x === grpc.status.RESOURCE_EXHAUSTED), 'nothing else')
})

t.test('malformed ModelInfer requests: INVALID_ARGUMENT naming the fault, the service keeps serving', async t => {
  const { c } = await setup(t)
  const one = raw(1)
  const nan = Buffer.from(one)
  nan.writeFloatLE(Number.NaN, 8)
  const base = { model_name: 'income' }
  const cases: Array<[string, object, RegExp]> = [
    ['no inputs', { ...base }, /inputs: must hold exactly one tensor/],
    ['two inputs', { ...base, inputs: [tensor(1), tensor(1)], raw_input_contents: [one, one] }, /inputs: must hold exactly one tensor .* got 2/],
    ['wrong input name', { ...base, inputs: [tensor(1, { name: 'x' })], raw_input_contents: [one] }, /inputs\[0\]\.name: must be "input"/],
    ['wrong datatype', { ...base, inputs: [tensor(1, { datatype: 'FP64' })], raw_input_contents: [one] }, /inputs\[0\]\.datatype: must be "FP32"/],
    ['wrong width', { ...base, inputs: [tensor(1, { shape: [1, 5] })], raw_input_contents: [one] }, /inputs\[0\]\.shape: must be \[N, 112\]/],
    ['zero rows', { ...base, inputs: [tensor(1, { shape: [0, W] })], raw_input_contents: [Buffer.alloc(0)] }, /inputs\[0\]\.shape\[0\]: must be between 1 and/],
    ['no data at all', { ...base, inputs: [tensor(1)] }, /inputs\[0\]\.contents\.fp32_contents: is empty/],
    ['raw too short', { ...base, inputs: [tensor(1)], raw_input_contents: [one.subarray(0, 100)] }, /raw_input_contents\[0\]: has 100 bytes, shape \[1, 112\] × FP32 needs 448/],
    ['raw for 2 rows, shape says 1', { ...base, inputs: [tensor(1)], raw_input_contents: [raw(2)] }, /raw_input_contents\[0\]: has 896 bytes/],
    ['two raw entries', { ...base, inputs: [tensor(1)], raw_input_contents: [one, one] }, /raw_input_contents: has 2 entries for 1 input/],
    ['raw and typed both', { ...base, inputs: [tensor(1, { contents: { fp32_contents: g.encoded[0] } })], raw_input_contents: [one] }, /inputs\[0\]\.contents: must be unset when raw_input_contents/],
    ['typed count wrong', { ...base, inputs: [tensor(1, { contents: { fp32_contents: [1, 2, 3] } })] }, /inputs\[0\]\.contents\.fp32_contents: has 3 elements/],
    ['typed as int', { ...base, inputs: [tensor(1, { contents: { int_contents: [1] } })] }, /inputs\[0\]\.contents\.int_contents: must be empty/],
    ['NaN in raw', { ...base, inputs: [tensor(1)], raw_input_contents: [nan] }, /raw_input_contents\[0\]: element 2 .* is not a finite number/],
    ['group not JSON', { ...base, inputs: [tensor(1)], raw_input_contents: [one], parameters: { group: { string_param: '{sex' } } }, /parameters\.group: must be an object of labels/],
    ['unknown group value', { ...base, inputs: [tensor(1)], raw_input_contents: [one], parameters: { group: { string_param: '{"sex":"Robot"}' } } }, /parameters\.group/],
    ['budget negative', { ...base, inputs: [tensor(1)], raw_input_contents: [one], parameters: { latency_budget_ms: { int64_param: -5 } } }, /parameters\.latency_budget_ms: must be a number of milliseconds/],
    ['timeout a string', { ...base, inputs: [tensor(1)], raw_input_contents: [one], parameters: { timeout: { string_param: 'soon' } } }, /parameters\.timeout: must be a positive number of microseconds/],
    ['unknown output', { ...base, inputs: [tensor(1)], raw_input_contents: [one], outputs: [{ name: 'logits' }] }, /outputs\[0\]\.name: unknown output "logits"/],
    ['parameter without a value', { ...base, inputs: [tensor(1)], raw_input_contents: [one], parameters: { variant: {} } }, /parameters\.variant: has no value/],
    ['id too long', { ...base, id: 'x'.repeat(300), inputs: [tensor(1)], raw_input_contents: [one] }, /id: must be a string of at most 256/]
  ]
  for (const [name, req, re] of cases) {
    const err = await status(call(c, 'ModelInfer', req))
    t.equal(err.code, grpc.status.INVALID_ARGUMENT, `${name}: ${err.details}`)
    t.match(err.details, re, name)
    t.match(err.details, /^FG_ERR_REQUEST_\w+: /, `${name}: coded`)
    const ok = await call(c, 'ModelInfer', { ...base, inputs: [tensor(1)], raw_input_contents: [one] })
    if (ok.outputs.length !== 2) t.fail(`${name}: service stopped answering`)
  }
  t.ok(cases.length >= 10)
})
