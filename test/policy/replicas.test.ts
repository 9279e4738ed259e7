// Decisions across replicas on the real broker: a rollback on one replica is followed by the
// other within about a second; a replica started afterwards starts on the rolled-back variant.
// Admin endpoints need the bearer token; each decision is on /v1/decisions and on the topic.
import t from 'tap'
import { readTopic, sharedBroker, uniquePrefix } from '../helpers/kafka.js'
import { startGateway } from '../helpers/gateway.js'

const TOKEN = 'test-admin-token'

t.test('rollback on one replica moves all of them, now and later', async t => {
  const brokers = await sharedBroker(t)
  const prefix = uniquePrefix()
  const cfg = { kafka: { brokers: [brokers], topic_prefix: prefix }, admin: { token: TOKEN } }
  const a = await startGateway({ ...cfg, replica: 'a' })
  const b = await startGateway({ ...cfg, replica: 'b' })
  t.teardown(async () => { await a.app.close(); await b.app.close() })

  const url = '/v1/rollback/income'
  t.equal((await a.app.inject({ method: 'POST', url })).statusCode, 401, 'no token: 401')
  t.equal((await a.app.inject({ method: 'POST', url, headers: { authorization: 'Bearer nope' } })).statusCode, 403, 'wrong token: 403')
  t.equal((await a.app.inject({ method: 'POST', url, headers: { authorization: 'Basic xyz' } })).statusCode, 401, 'not a bearer token: 401')
  t.equal(a.gw.active.active('income'), 'full')

  const res = await a.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${TOKEN}` } })
  t.equal(res.statusCode, 200, res.body)
  const to = res.json().decision.to as string
  t.not(to, 'full')
  t.equal(a.gw.active.active('income'), to, 'the replica that decided switched at once')

  const t0 = Date.now()
  while (b.gw.active.active('income') !== to && Date.now() - t0 < 10_000) await new Promise(resolve => setTimeout(resolve, 25))
  const followMs = Date.now() - t0
  t.equal(b.gw.active.active('income'), to, `the other replica followed in ${followMs} ms`)
  t.ok(followMs < 3_000, 'within about a second (3 s margin)')
  const served = await b.app.inject({ method: 'POST', url: '/v1/predict', payload: { model: 'income', features: [...new Array(112).fill(0)] } })
  t.equal(served.json().variant, to, 'and serves it')

  const c = await startGateway({ ...cfg, replica: 'c' })
  t.teardown(() => c.app.close())
  t.equal(c.gw.active.active('income'), to, 'a replica started afterwards starts on the current decision')

  const manual = await b.app.inject({ method: 'POST', url: '/v1/variants/income/active', headers: { authorization: `Bearer ${TOKEN}` }, payload: { variant: 'distilled' } })
  t.equal(manual.statusCode, 200, manual.body)
  const bad = await b.app.inject({ method: 'POST', url: '/v1/variants/income/active', headers: { authorization: `Bearer ${TOKEN}` }, payload: { variant: 'huge' } })
  t.equal(bad.statusCode, 404)

  const log = (await a.app.inject('/v1/decisions?model=income')).json().decisions
  t.equal(log[log.length - 1].action, 'rollback')
  t.equal(log[log.length - 1].origin, 'local')
  const records = await readTopic(brokers, `${prefix}decisions`, 2)
  t.equal(records.length, 2, 'both decisions are on the decisions topic')
  t.equal(records[0]!.key, 'income', 'keyed by model (compacted)')
  t.equal(records[0]!.headers.ce_type, 'io.fairgate.decision.v1')
  t.match(records[0]!.value, { model: 'income', action: 'rollback', from: 'full', to, rule: 'admin', actor: 'admin@a' })
  t.match(records[0]!.value.evidence, { last_known_good: 'full', requested_by: String }, 'with its evidence')
})

t.test('admin endpoints are off without a token; reload refuses a bad policy', async t => {
  const { app } = await startGateway()
  t.teardown(() => app.close())
  const r = await app.inject({ method: 'POST', url: '/v1/rollback/income', headers: { authorization: 'Bearer x' } })
  t.equal(r.statusCode, 403)
  t.match(r.json().error, /disabled/)
})
