// Every client mistake gets a JSON 4xx that names the problem, and the server keeps serving.
import t from 'tap'
import { evalRows, golden, startGateway } from '../helpers/gateway.js'

const g = golden()
const rec = evalRows()[0]!.features
const row = g.encoded[0]!
const oip = (over: Record<string, unknown> = {}, params?: unknown): unknown => ({
  inputs: [{ name: 'input', shape: [1, 112], datatype: 'FP32', data: row, ...over }],
  ...(params === undefined ? {} : { parameters: params })
})
const J = { 'content-type': 'application/json' }

interface Case { name: string, url: string, method?: 'POST' | 'GET', payload?: unknown, raw?: string, headers?: Record<string, string>, status: number, error: RegExp }

const cases: Case[] = [
  { name: 'malformed JSON', url: '/v1/predict', raw: '{"model": "income", "features": {', headers: J, status: 400, error: /malformed JSON|JSON/ },
  { name: 'empty body', url: '/v1/predict', raw: '', headers: J, status: 400, error: /body|empty/i },
  { name: 'JSON array body', url: '/v1/predict', payload: [1, 2], status: 400, error: /body: must be a JSON object/ },
  { name: 'text/plain', url: '/v1/predict', raw: 'hello', headers: { 'content-type': 'text/plain' }, status: 415, error: /content-type|Unsupported Media Type/i },
  { name: 'NaN literal', url: '/v2/models/income/infer', raw: '{"inputs":[{"name":"input","shape":[1,1],"datatype":"FP32","data":[NaN]}]}', headers: J, status: 400, error: /JSON/ },
  { name: 'NaN as string', url: '/v2/models/income/infer', payload: oip({ data: ['NaN', ...row.slice(1)] }), status: 400, error: /inputs\[0\]\.data\[0\]: must be a finite number/ },
  { name: 'Infinity via 1e999', url: '/v2/models/income/infer', raw: JSON.stringify(oip()).replace(/"data":\[[^,]+/, '"data":[1e999'), headers: J, status: 400, error: /finite/ },
  { name: 'unknown model (OIP)', url: '/v2/models/nope/infer', payload: oip(), status: 404, error: /unknown model "nope"/ },
  { name: 'unknown model (predict)', url: '/v1/predict', payload: { model: 'nope', features: rec }, status: 404, error: /unknown model/ },
  { name: 'unknown variant', url: '/v1/predict', payload: { model: 'income', features: rec, variant: 'huge' }, status: 404, error: /unknown variant "huge"/ },
  { name: 'unknown version path', url: '/v2/models/income/versions/v9/infer', payload: oip(), status: 404, error: /unknown variant "v9"/ },
  { name: 'wrong datatype', url: '/v2/models/income/infer', payload: oip({ datatype: 'INT64' }), status: 400, error: /datatype: must be "FP32"/ },
  { name: 'wrong input name', url: '/v2/models/income/infer', payload: oip({ name: 'x' }), status: 400, error: /inputs\[0\]\.name/ },
  { name: 'wrong width', url: '/v2/models/income/infer', payload: oip({ shape: [1, 111] }), status: 400, error: /shape: must be \[N, 112\]/ },
  { name: 'shape/data mismatch', url: '/v2/models/income/infer', payload: oip({ shape: [2, 112] }), status: 400, error: /has 112 elements/ },
  { name: 'no inputs', url: '/v2/models/income/infer', payload: { parameters: {} }, status: 400, error: /inputs: must be an array/ },
  { name: 'two inputs', url: '/v2/models/income/infer', payload: { inputs: [{}, {}] }, status: 400, error: /exactly one/ },
  { name: 'zero rows', url: '/v2/models/income/infer', payload: oip({ shape: [0, 112], data: [] }), status: 400, error: /shape\[0\]/ },
  { name: 'missing model field', url: '/v1/predict', payload: { features: rec }, status: 400, error: /model: is required/ },
  { name: 'missing features', url: '/v1/predict', payload: { model: 'income' }, status: 400, error: /exactly one of "features" or "instances"/ },
  { name: 'missing raw field', url: '/v1/predict', payload: { model: 'income', features: { ...rec, age: undefined } }, status: 400, error: /features\.age: is required/ },
  { name: 'raw field wrong type', url: '/v1/predict', payload: { model: 'income', features: { ...rec, hours_per_week: '40' } }, status: 400, error: /features\.hours_per_week: must be a finite number/ },
  { name: 'vector of wrong length', url: '/v1/predict', payload: { model: 'income', features: [1, 2, 3] }, status: 400, error: /features: must have 112 numbers/ },
  { name: 'empty instances', url: '/v1/predict', payload: { model: 'income', instances: [] }, status: 400, error: /instances: must be a non-empty array/ },
  { name: 'unknown group attribute', url: '/v1/predict', payload: { model: 'income', features: rec, group: { gender: 'F' } }, status: 400, error: /group\.gender: unknown group attribute/ },
  { name: 'unknown group value', url: '/v1/predict', payload: { model: 'income', features: rec, group: { sex: 'X' } }, status: 400, error: /group\.sex: not a known value/ },
  { name: 'group not an object', url: '/v2/models/income/infer', payload: oip({}, { group: 'Female' }), status: 400, error: /parameters\.group: must be an object/ },
  { name: 'groups count mismatch', url: '/v2/models/income/infer', payload: oip({}, { groups: [{}, {}] }), status: 400, error: /parameters\.groups: has 2 entries for 1 rows/ },
  { name: 'group and groups', url: '/v1/predict', payload: { model: 'income', features: rec, group: {}, groups: [{}] }, status: 400, error: /either group or groups/ },
  { name: 'negative budget', url: '/v1/predict', payload: { model: 'income', features: rec, latency_budget_ms: -5 }, status: 400, error: /latency_budget_ms/ },
  { name: 'bad budget header', url: '/v1/predict', payload: { model: 'income', features: rec }, headers: { 'x-latency-budget-ms': 'soon' }, status: 400, error: /x-latency-budget-ms/ },
  { name: 'too many rows', url: '/v1/predict', payload: { model: 'income', instances: Array.from({ length: 1025 }, () => rec) }, status: 400, error: /at most 1024/ },
  { name: 'oversized body', url: '/v1/predict', raw: JSON.stringify({ model: 'income', pad: 'x'.repeat(1_100_000) }), headers: J, status: 413, error: /too large|larger/i },
  { name: 'unknown route', url: '/v3/whatever', method: 'GET', status: 404, error: /no route GET \/v3\/whatever/ }
]

t.test('malformed requests', async t => {
  const { app } = await startGateway()
  t.teardown(() => app.close())
  t.ok(cases.length >= 20)
  for (const c of cases) {
    const res = await app.inject({
      method: c.method ?? 'POST',
      url: c.url,
      ...(c.raw !== undefined ? { body: c.raw } : c.payload !== undefined ? { payload: c.payload as object } : {}),
      headers: c.headers ?? (c.raw === undefined && c.payload !== undefined ? J : {})
    })
    t.equal(res.statusCode, c.status, `${c.name}: ${res.body.slice(0, 200)}`)
    t.match(res.headers['content-type'], /application\/json/, `${c.name}: JSON error`)
    t.match(res.json().error, c.error, c.name)
    // And the gateway still serves after each one.
    const ok = await app.inject({ method: 'POST', url: '/v1/predict', payload: { model: 'income', features: rec } })
    if (ok.statusCode !== 200) t.fail(`not serving after ${c.name}: ${ok.body}`)
  }
  const m = (await app.inject('/metrics')).body
  t.match(m, /fairgate_requests_total\{model="income",variant="",code="400"\} \d+/, 'client errors are counted')
})
