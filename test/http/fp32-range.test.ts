// Issue 14, defect 3: values finite as doubles but ±Infinity as float32 (1e308, 1e39) used to
// pass validation, answer 200 with score null and poison the group's calibration for the whole
// window. End to end against a real gateway process: a 400 naming the field. And the monitor
// keeps a non-finite score from any source (a model can emit NaN) out of its windows, counted.
import t from 'tap'
import { validateConfig } from '../../src/config/index.js'
import { Monitor } from '../../src/monitor/index.js'
import { evalRows, parseMetrics } from '../helpers/gateway.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { serveCli } from '../helpers/process.js'

const rows = evalRows()

t.test('values beyond FP32 range are a 400 naming the field, not a null score', async t => {
  const s = await serveCli()
  t.teardown(() => { s.child.kill('SIGKILL') })
  const post = async (url: string, body: unknown): Promise<{ status: number, json: any }> => {
    const r = await fetch(`${s.url}${url}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    return { status: r.status, json: await r.json() }
  }
  const features = { ...rows[0]!.features as Record<string, unknown>, age: 1e308 }
  let r = await post('/v1/predict', { model: 'income', features, group: rows[0]!.group })
  t.equal(r.status, 400)
  t.match(r.json, { code: 'FG_ERR_REQUEST_INVALID', error: /^features\.age: .*FP32/ })

  r = await post('/v1/predict', { model: 'income', instances: [rows[0]!.features, features] })
  t.match(r.json, { code: 'FG_ERR_REQUEST_INVALID', error: /^instances\[1\]\.age: / }, 'per row, in instances too')

  const meta = await (await fetch(`${s.url}/v2/models/income`)).json() as { inputs: Array<{ name: string, shape: number[] }> }
  const width = meta.inputs[0]!.shape[1]!
  const data = new Array<number>(width).fill(0)
  data[3] = 1e39
  r = await post('/v2/models/income/infer', { inputs: [{ name: meta.inputs[0]!.name, datatype: 'FP32', shape: [1, width], data }] })
  t.equal(r.status, 400)
  t.match(r.json, { code: 'FG_ERR_REQUEST_INVALID', error: /^inputs\[0\]\.data\[3\]: .*FP32/ })
  r = await post('/v2/models/income/infer', { inputs: [{ name: meta.inputs[0]!.name, datatype: 'FP32', shape: [1, width], data: [data] }] })
  t.match(r.json, { error: /^inputs\[0\]\.data\[0\]\[3\]: / }, 'nested data too')

  t.equal(parseMetrics(await (await fetch(`${s.url}/metrics`)).text()).get('fairgate_requests_total{model="income",variant="",code="400"}'), 4, 'counted as client errors')
})

t.test('the monitor counts a non-finite score and leaves it out of the window', async t => {
  const clock = new FakeClock()
  const cfg = validateConfig({ monitor: { window_ms: 10_000, bucket_ms: 1000, min_samples: 1, report_min: 1, min_labelled: 1, refresh_ms: 0 } }).monitor
  const manifest = { groups: { sex: ['Female', 'Male'] }, threshold: 0.5 } as any
  const m = new Monitor([{ name: 'm', manifest, variants: ['v'] }], cfg, clock)
  const t0 = clock.wallNow()
  const F = Int16Array.from([0])
  for (let i = 0; i < 4; i++) m.record(0, 0, t0, F, 0, 0.8, 1, 2)
  m.record(0, 0, t0, F, 0, NaN, 0, 2)
  m.record(0, 0, t0, F, 0, Infinity, 1, 2)
  for (let i = 0; i < 4; i++) m.recordLabel({ ts: t0, model: 0, variant: 0, decision: 1, score: 0.8, groups: F } as any, 1)
  m.recordLabel({ ts: t0, model: 0, variant: 0, decision: 0, score: NaN, groups: F } as any, 1)
  const r = m.report('m')!.variants.v!
  t.equal(r.n, 4, 'the non-finite rows are not counted as predictions')
  t.equal(r.non_finite_scores, 3, 'but counted as non-finite')
  const g = r.attributes.sex!.groups.Female!
  t.ok(Number.isFinite(g.calibration_error), `calibration stays a number (${String(g.calibration_error)})`)
})
