// Issue 14, defect 14: an invalid x-latency-budget-ms was ignored when the body had a budget and
// rejected when it did not, and "0x10" passed as 16 ms. One parser: decimal milliseconds, and an
// invalid value is a 400 wherever it comes from.
import t from 'tap'
import { evalRows, startGateway } from '../helpers/gateway.js'

const rows = evalRows()

t.test('the budget header is decimal milliseconds, checked whether or not the body has a budget', async t => {
  const { app } = await startGateway()
  t.teardown(async () => { await app.close() })
  const predict = async (header: string | string[] | undefined, body: Record<string, unknown> = {}): Promise<{ status: number, json: any }> => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/predict',
      headers: header === undefined ? {} : { 'x-latency-budget-ms': header },
      payload: { model: 'income', features: rows[0]!.features, ...body }
    })
    return { status: res.statusCode, json: res.json() }
  }
  t.equal((await predict('250')).status, 200, 'decimal milliseconds')
  t.equal((await predict('250.5')).status, 200, 'with a fraction')
  for (const bad of ['0x10', '1e3', 'abc', '-5', '0', '', '99999999']) {
    const r = await predict(bad)
    t.equal(r.status, 400, `"${bad}" alone is a 400`)
    t.match(r.json, { code: 'FG_ERR_REQUEST_INVALID', error: /^x-latency-budget-ms header: / })
    const withBody = await predict(bad, { latency_budget_ms: 100 })
    t.equal(withBody.status, 400, `"${bad}" is a 400 also when the body has a budget`)
  }
  t.equal((await predict(['100', '200'])).status, 400, 'a repeated header is a 400')
  const oip = await app.inject({
    method: 'POST',
    url: '/v2/models/income/infer',
    headers: { 'x-latency-budget-ms': '0x10' },
    payload: { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 112], data: new Array(112).fill(0) }], parameters: { latency_budget_ms: 100 } }
  })
  t.equal(oip.statusCode, 400, 'the same on OIP v2')
  t.equal((await predict(undefined, { latency_budget_ms: '0x10' })).status, 400, 'and the same rule for the body')
})
