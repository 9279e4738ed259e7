// Every client mistake gets a JSON 4xx that names the problem, and the server keeps serving.
import { connect } from 'node:net'
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

interface Case { name: string, url: string, method?: 'POST' | 'GET', payload?: unknown, raw?: string, headers?: Record<string, string>, status: number, error: RegExp, code: string }

const cases: Case[] = [
  { name: 'malformed JSON', url: '/v1/predict', raw: '{"model": "income", "features": {', headers: J, status: 400, error: /^body: malformed JSON/, code: 'FG_ERR_REQUEST_INVALID' },
  { name: 'empty body', url: '/v1/predict', raw: '', headers: J, status: 400, error: /body|empty/i, code: 'FG_ERR_REQUEST_INVALID' },
  { name: 'JSON array body', url: '/v1/predict', payload: [1, 2], status: 400, error: /body: must be a JSON object/, code: 'FG_ERR_REQUEST_INVALID' },
  { name: 'text/plain', url: '/v1/predict', raw: 'hello', headers: { 'content-type': 'text/plain' }, status: 415, error: /content-type|Unsupported Media Type/i, code: 'FG_ERR_REQUEST_MEDIA_TYPE' },
  { name: 'NaN literal', url: '/v2/models/income/infer', raw: '{"inputs":[{"name":"input","shape":[1,1],"datatype":"FP32","data":[NaN]}]}', headers: J, status: 400, error: /JSON/, code: 'FG_ERR_REQUEST_INVALID' },
  { name: 'NaN as string', url: '/v2/models/income/infer', payload: oip({ data: ['NaN', ...row.slice(1)] }), status: 400, error: /inputs\[0\]\.data\[0\]: must be a finite number/, code: 'FG_ERR_REQUEST_INVALID' },
  { name: 'Infinity via 1e999', url: '/v2/models/income/infer', raw: JSON.stringify(oip()).replace(/"data":\[[^,]+/, '"data":[1e999'), headers: J, status: 400, error: /finite/, code: 'FG_ERR_REQUEST_INVALID' },
  { name: 'unknown model (OIP)', url: '/v2/models/nope/infer', payload: oip(), status: 404, error: /unknown model "nope"/, code: 'FG_ERR_MODEL_UNKNOWN' },
  { name: 'unknown model (predict)', url: '/v1/predict', payload: { model: 'nope', features: rec }, status: 404, error: /unknown model/, code: 'FG_ERR_MODEL_UNKNOWN' },
  { name: 'unknown variant', url: '/v1/predict', payload: { model: 'income', features: rec, variant: 'huge' }, status: 404, error: /unknown variant "huge"/, code: 'FG_ERR_MODEL_VARIANT_UNKNOWN' },
  { name: 'unknown version path', url: '/v2/models/income/versions/v9/infer', payload: oip(), status: 404, error: /unknown variant "v9"/, code: 'FG_ERR_MODEL_VARIANT_UNKNOWN' },
  { name: 'wrong datatype', url: '/v2/models/income/infer', payload: oip({ datatype: 'INT64' }), status: 400, error: /datatype: must be "FP32"/, code: 'FG_ERR_REQUEST_INVALID' },
  { name: 'wrong input name', url: '/v2/models/income/infer', payload: oip({ name: 'x' }), status: 400, error: /inputs\[0\]\.name/, code: 'FG_ERR_REQUEST_INVALID' },
  { name: 'wrong width', url: '/v2/models/income/infer', payload: oip({ shape: [1, 111] }), status: 400, error: /shape: must be \[N, 112\]/, code: 'FG_ERR_REQUEST_INVALID' },
  { name: 'shape/data mismatch', url: '/v2/models/income/infer', payload: oip({ shape: [2, 112] }), status: 400, error: /has 112 elements/, code: 'FG_ERR_REQUEST_INVALID' },
  { name: 'no inputs', url: '/v2/models/income/infer', payload: { parameters: {} }, status: 400, error: /inputs: must be an array/, code: 'FG_ERR_REQUEST_INVALID' },
  { name: 'two inputs', url: '/v2/models/income/infer', payload: { inputs: [{}, {}] }, status: 400, error: /exactly one/, code: 'FG_ERR_REQUEST_INVALID' },
  { name: 'zero rows', url: '/v2/models/income/infer', payload: oip({ shape: [0, 112], data: [] }), status: 400, error: /shape\[0\]/, code: 'FG_ERR_REQUEST_INVALID' },
  { name: 'missing model field', url: '/v1/predict', payload: { features: rec }, status: 400, error: /model: is required/, code: 'FG_ERR_REQUEST_INVALID' },
  { name: 'missing features', url: '/v1/predict', payload: { model: 'income' }, status: 400, error: /exactly one of "features" or "instances"/, code: 'FG_ERR_REQUEST_INVALID' },
  { name: 'missing raw field', url: '/v1/predict', payload: { model: 'income', features: { ...rec, age: undefined } }, status: 400, error: /features\.age: is required/, code: 'FG_ERR_REQUEST_INVALID' },
  { name: 'raw field wrong type', url: '/v1/predict', payload: { model: 'income', features: { ...rec, hours_per_week: '40' } }, status: 400, error: /features\.hours_per_week: must be a finite number/, code: 'FG_ERR_REQUEST_INVALID' },
  { name: 'vector of wrong length', url: '/v1/predict', payload: { model: 'income', features: [1, 2, 3] }, status: 400, error: /features: must have 112 numbers/, code: 'FG_ERR_REQUEST_INVALID' },
  { name: 'empty instances', url: '/v1/predict', payload: { model: 'income', instances: [] }, status: 400, error: /instances: must be a non-empty array/, code: 'FG_ERR_REQUEST_INVALID' },
  { name: 'unknown group attribute', url: '/v1/predict', payload: { model: 'income', features: rec, group: { gender: 'F' } }, status: 400, error: /group\.gender: unknown group attribute/, code: 'FG_ERR_REQUEST_GROUP' },
  { name: 'unknown group value', url: '/v1/predict', payload: { model: 'income', features: rec, group: { sex: 'X' } }, status: 400, error: /group\.sex: not a known value/, code: 'FG_ERR_REQUEST_GROUP' },
  { name: 'group not an object', url: '/v2/models/income/infer', payload: oip({}, { group: 'Female' }), status: 400, error: /parameters\.group: must be an object/, code: 'FG_ERR_REQUEST_GROUP' },
  { name: 'groups count mismatch', url: '/v2/models/income/infer', payload: oip({}, { groups: [{}, {}] }), status: 400, error: /parameters\.groups: has 2 entries for 1 rows/, code: 'FG_ERR_REQUEST_GROUP' },
  { name: 'group and groups', url: '/v1/predict', payload: { model: 'income', features: rec, group: {}, groups: [{}] }, status: 400, error: /either group or groups/, code: 'FG_ERR_REQUEST_GROUP' },
  { name: 'negative budget', url: '/v1/predict', payload: { model: 'income', features: rec, latency_budget_ms: -5 }, status: 400, error: /latency_budget_ms/, code: 'FG_ERR_REQUEST_INVALID' },
  { name: 'bad budget header', url: '/v1/predict', payload: { model: 'income', features: rec }, headers: { 'x-latency-budget-ms': 'soon' }, status: 400, error: /x-latency-budget-ms/, code: 'FG_ERR_REQUEST_INVALID' },
  { name: 'too many rows', url: '/v1/predict', payload: { model: 'income', instances: Array.from({ length: 1025 }, () => rec) }, status: 400, error: /at most 1024/, code: 'FG_ERR_REQUEST_INVALID' },
  { name: 'oversized body', url: '/v1/predict', raw: JSON.stringify({ model: 'income', pad: 'x'.repeat(1_100_000) }), headers: J, status: 413, error: /too large|larger/i, code: 'FG_ERR_REQUEST_TOO_LARGE' },
  { name: 'unknown route', url: '/v3/whatever', method: 'GET', status: 404, error: /no route GET \/v3\/whatever/, code: 'FG_ERR_NOT_FOUND' },
  { name: 'x-request-id over 256 characters', url: '/v1/predict', payload: { model: 'income', features: rec }, headers: { ...J, 'x-request-id': 'r'.repeat(257) }, status: 400, error: /^x-request-id header: must be a string of at most 256/, code: 'FG_ERR_REQUEST_INVALID' },
  { name: 'body id over 256 characters', url: '/v2/models/income/infer', payload: { ...(oip() as object), id: 'r'.repeat(257) }, status: 400, error: /^id: must be a string of at most 256/, code: 'FG_ERR_REQUEST_INVALID' },
  { name: 'body id not a string', url: '/v2/models/income/infer', payload: { ...(oip() as object), id: 7 }, status: 400, error: /^id:/, code: 'FG_ERR_REQUEST_INVALID' },
  { name: 'empty JSON content type', url: '/v1/predict', raw: '{}', headers: { 'content-type': '' }, status: 415, error: /content-type/, code: 'FG_ERR_REQUEST_MEDIA_TYPE' },
  { name: 'prototype poisoning', url: '/v1/predict', raw: '{"model":"income","__proto__":{"x":1}}', headers: J, status: 400, error: /^body:/, code: 'FG_ERR_REQUEST_INVALID' },
  { name: 'feedback: item not an object', url: '/v1/feedback', payload: [5], status: 400, error: /^\[0\]\.: must be an object/, code: 'FG_ERR_FEEDBACK_INVALID' },
  { name: 'feedback: bad prediction id', url: '/v1/feedback', payload: { prediction_id: 'nope', label: 1 }, status: 400, error: /^prediction_id: must be a prediction id/, code: 'FG_ERR_FEEDBACK_INVALID' },
  { name: 'feedback: bad label', url: '/v1/feedback', payload: { prediction_id: '01J0000000000000000000000A', label: 2 }, status: 400, error: /label: must be 0, 1/, code: 'FG_ERR_FEEDBACK_INVALID' },
  { name: 'feedback: empty list', url: '/v1/feedback', payload: [], status: 400, error: /^body: must hold 1 to/, code: 'FG_ERR_FEEDBACK_INVALID' },
  { name: 'feedback: unknown prediction', url: '/v1/feedback', payload: { prediction_id: '01J0000000000000000000000A', label: 1 }, status: 404, error: /^prediction_id: unknown or expired/, code: 'FG_ERR_FEEDBACK_UNKNOWN' },
  { name: 'decisions: limit out of range', url: '/v1/decisions?limit=0', method: 'GET', status: 400, error: /^limit: must be an integer/, code: 'FG_ERR_REQUEST_INVALID' },
  { name: 'fairness: bad window', url: '/v1/fairness?window=soon', method: 'GET', status: 400, error: /^window: must be a duration/, code: 'FG_ERR_REQUEST_INVALID' },
  { name: 'fairness: unknown model', url: '/v1/fairness?model=nope', method: 'GET', status: 404, error: /unknown model "nope"/, code: 'FG_ERR_MODEL_UNKNOWN' },
  { name: 'model metadata: unknown model', url: '/v2/models/nope', method: 'GET', status: 404, error: /unknown model "nope"/, code: 'FG_ERR_MODEL_UNKNOWN' },
  { name: 'admin: no token configured', url: '/v1/rollback/income', payload: {}, status: 403, error: /admin endpoints are disabled/, code: 'FG_ERR_AUTH_DISABLED' }
]

t.test('malformed requests', async t => {
  const { app } = await startGateway()
  t.teardown(() => app.close())
  t.ok(cases.length >= 30, `${cases.length} client mistakes`)
  for (const c of cases) {
    const res = await app.inject({
      method: c.method ?? 'POST',
      url: c.url,
      ...(c.raw !== undefined ? { body: c.raw } : c.payload !== undefined ? { payload: c.payload as object } : {}),
      headers: c.headers ?? (c.raw === undefined && c.payload !== undefined ? J : {})
    })
    t.equal(res.statusCode, c.status, `${c.name}: ${res.body.slice(0, 200)}`)
    t.equal(res.headers['content-type'], 'application/json', `${c.name}: content type exactly application/json`)
    t.same(Object.keys(res.json()).sort(), ['code', 'error'], `${c.name}: body {"error", "code"}`)
    t.equal(res.json().code, c.code, `${c.name}: code`)
    t.match(res.json().error, c.error, c.name)
    // And the gateway still serves after each one.
    const ok = await app.inject({ method: 'POST', url: '/v1/predict', payload: { model: 'income', features: rec } })
    if (ok.statusCode !== 200) t.fail(`not serving after ${c.name}: ${ok.body}`)
  }
  const m = (await app.inject('/metrics')).body
  t.match(m, /fairgate_requests_total\{model="income",variant="",code="400"\} \d+/, 'client errors are counted')
})

t.test("Node's parser errors answer with a code and a JSON body too", async t => {
  const { app } = await startGateway()
  t.teardown(() => app.close())
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.server.address() as { port: number }).port
  const raw = async (request: string): Promise<{ status: number, type: string, body: { error: string, code: string } }> => {
    const text = await new Promise<string>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => { s.end(request) })
      let got = ''
      s.setEncoding('utf8')
      s.on('data', (d: string) => { got += d })
      s.on('close', () => { resolve(got) })
      s.on('error', reject)
    })
    const [head, body] = text.split('\r\n\r\n') as [string, string]
    return { status: Number(head.split(' ')[1]), type: /content-type: (.*)/i.exec(head)?.[1] ?? '', body: JSON.parse(body) }
  }
  const bad = await raw('GET /v2/health/live HTTP/1.1\r\nHost: x\r\nthis is not a header\r\n\r\n')
  t.equal(bad.status, 400)
  t.equal(bad.type, 'application/json')
  t.equal(bad.body.code, 'FG_ERR_REQUEST_MALFORMED')
  const big = await raw(`GET /v2/health/live HTTP/1.1\r\nHost: x\r\nx-pad: ${'p'.repeat(20_000)}\r\n\r\n`)
  t.equal(big.status, 431)
  t.equal(big.type, 'application/json')
  t.equal(big.body.code, 'FG_ERR_REQUEST_HEADERS_TOO_LARGE')
  t.match(big.body.error, /^headers:/)
})
