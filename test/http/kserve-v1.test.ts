// KServe's v1 REST protocol, which KServe's InferenceRESTClient speaks with its default
// RESTConfig: liveness at GET /, model readiness at GET /v1/models/{m}, and
// POST /v1/models/{m}:predict taking KServe's {"instances"} or the OIP request that client builds
// (JSON or binary tensors), answered as JSON with the same scores as the OIP route.
import t from 'tap'
import { golden, startGateway } from '../helpers/gateway.js'

const g = golden()
const W = 112
const ROWS = 4

t.test('KServe v1 endpoints', async t => {
  const { app } = await startGateway()
  t.teardown(() => app.close())

  const live = await app.inject({ method: 'GET', url: '/' })
  t.equal(live.statusCode, 200)
  t.same(live.json(), { status: 'alive' }, 'GET / is KServe v1 liveness')
  const ready = await app.inject({ method: 'GET', url: '/v1/models/income' })
  t.equal(ready.statusCode, 200)
  t.same(ready.json(), { name: 'income', ready: true })
  const unknown = await app.inject({ method: 'GET', url: '/v1/models/nope' })
  t.equal(unknown.statusCode, 404)
  t.equal(unknown.json().code, 'FG_ERR_MODEL_UNKNOWN')

  const oip = await app.inject({ method: 'POST', url: '/v2/models/income/infer', payload: { inputs: [{ name: 'input', datatype: 'FP32', shape: [ROWS, W], data: g.encoded.slice(0, ROWS) }], parameters: { variant: 'full' } } })
  t.equal(oip.statusCode, 200, oip.body)
  const want = oip.json().outputs[0].data as number[]

  const inst = await app.inject({ method: 'POST', url: '/v1/models/income:predict', payload: { instances: g.encoded.slice(0, ROWS), variant: 'full' } })
  t.equal(inst.statusCode, 200, inst.body)
  const body = inst.json()
  t.same(body.predictions, want, '{"instances"} → {"predictions"}: the OIP route\'s scores')
  t.equal(body.prediction_ids.length, ROWS)
  t.equal(body.model_version, 'full')

  // The OIP request KServe's client builds from an InferRequest, with binary tensors: a JSON answer.
  const f = new Float32Array(ROWS * W)
  for (let r = 0; r < ROWS; r++) f.set(g.encoded[r]!, r * W)
  const header = Buffer.from(JSON.stringify({ id: 'k-1', model_name: 'income', inputs: [{ name: 'input', datatype: 'FP32', shape: [ROWS, W], parameters: { binary_data_size: f.byteLength } }], parameters: { variant: 'full', binary_data_output: true } }))
  const bin = await app.inject({ method: 'POST', url: '/v1/models/income:predict', payload: Buffer.concat([header, Buffer.from(f.buffer)]), headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) } })
  t.equal(bin.statusCode, 200, bin.body)
  t.match(bin.headers['content-type'], /^application\/json/, 'v1 answers are JSON even when binary output is asked for')
  t.equal(bin.headers['inference-header-content-length'], undefined)
  const outs = bin.json().outputs as Array<{ name: string, data: unknown[] }>
  t.same(outs.find(o => o.name === 'probability')!.data, want, 'binary OIP body on :predict: the same scores')
  t.equal(outs.find(o => o.name === 'prediction_id')!.data.length, ROWS)
  t.equal(bin.json().id, 'k-1')

  const verb = await app.inject({ method: 'POST', url: '/v1/models/income:explain', payload: { instances: g.encoded.slice(0, 1) } })
  t.equal(verb.statusCode, 404, 'only :predict is served')
  t.equal(verb.json().code, 'FG_ERR_NOT_FOUND')
  const bad = await app.inject({ method: 'POST', url: '/v1/models/income:predict', payload: { instances: [[1, 2]] } })
  t.equal(bad.statusCode, 400)
  t.match(bad.json().error, /instances\[0\]/, 'a bad row is a 400 naming it')
  const noModel = await app.inject({ method: 'POST', url: '/v1/models/nope:predict', payload: { instances: g.encoded.slice(0, 1) } })
  t.equal(noModel.statusCode, 404)
  t.equal(noModel.json().code, 'FG_ERR_MODEL_UNKNOWN')
})
