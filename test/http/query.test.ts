// Issue 14, defect 7: /v1/fairness?window=1s&window=2s was a 500 ("s.trim is not a function").
// Every query parameter is validated: a repeated, unknown or mistyped one is a 400 naming it.
import t from 'tap'
import { startGateway } from '../helpers/gateway.js'

t.test('repeated, unknown or mistyped query parameters are a 400 naming the parameter', async t => {
  const { app } = await startGateway()
  t.teardown(async () => { await app.close() })
  const get = async (url: string): Promise<{ status: number, json: any }> => {
    const res = await app.inject({ method: 'GET', url })
    return { status: res.statusCode, json: res.json() }
  }
  t.equal((await get('/v1/fairness?window=60s&model=income')).status, 200)
  t.equal((await get('/v1/decisions?limit=5')).status, 200)
  const cases: Array<[string, RegExp]> = [
    ['/v1/fairness?window=1s&window=2s', /^window: must be given once/],
    ['/v1/fairness?model=income&model=income', /^model: must be given once/],
    ['/v1/fairness?windw=1s', /^windw: unknown query parameter/],
    ['/v1/decisions?limit=5&limit=6', /^limit: must be given once/],
    ['/v1/decisions?limit=0x10', /^limit: must be an integer/],
    ['/v1/decisions?limit=1e2', /^limit: must be an integer/],
    ['/v1/decisions?lmit=5', /^lmit: unknown query parameter/]
  ]
  for (const [url, error] of cases) {
    const r = await get(url)
    t.equal(r.status, 400, url)
    t.match(r.json, { code: 'FG_ERR_REQUEST_INVALID', error }, url)
  }
})
