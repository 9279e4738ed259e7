// End to end on the real models with a fake clock: eval.jsonl replayed through the HTTP API, a
// stable replay of more than 10 windows takes no action; then a drift of about +0.15 that
// pushes the sex demographic parity difference past the rule, and the policy's sequential test
// acts within 3 minutes of the drift, as soon as its confidence sequence clears the threshold.
import t from 'tap'
import { startGateway } from '../helpers/gateway.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { replay, sexParityPolicyDir } from '../helpers/drift.js'

const INTERVAL = 1000
const WINDOW = 10_000

t.test('stable replay: no action; injected drift: action within 3 intervals', async t => {
  const dir = sexParityPolicyDir(INTERVAL)
  const clock = new FakeClock()
  const { app, gw } = await startGateway({ policy: { dir }, monitor: { window_ms: WINDOW, bucket_ms: 1000, refresh_ms: 0 } }, { clock })
  t.teardown(() => app.close())
  // 200 rows per second of fake time; the drift shifts Male applicants to a large capital gain.
  const second = replay(app, clock)

  const status = () => gw.policy!.status()[0]!.rules[0]!
  let maxDpd = 0
  for (let s = 0; s < 12 * WINDOW / 1000; s++) {
    await second(false)
    const v = status().value
    if (v !== null && v > maxDpd) maxDpd = v
  }
  t.equal(gw.policy!.decisions.list().length, 0, `stable replay of 12 windows: no action (max DPD ${maxDpd.toFixed(3)})`)
  t.equal(status().outcome, 'pass')
  t.equal(gw.active.get('income')!.lastKnownGood, 'full')

  let firstBreachAt = -1
  let actedAt = -1
  const driftAt = clock.wallNow()
  for (let s = 0; s < 180 && actedAt < 0; s++) {
    await second(true)
    if (status().outcome === 'breach' && firstBreachAt < 0) firstBreachAt = clock.wallNow()
    if (gw.policy!.decisions.list().length > 0) actedAt = clock.wallNow()
  }
  t.ok(firstBreachAt > 0, 'the breach became significant')
  t.ok(actedAt > 0, 'the policy acted')
  t.ok(actedAt - firstBreachAt <= 3 * INTERVAL, `acted ${actedAt - firstBreachAt} ms after the first significant breach`)
  t.ok(actedAt - driftAt <= 180_000, `acted ${(actedAt - driftAt) / 1000} s after the drift began`)
  const d = gw.policy!.decisions.list()[0]!
  t.equal(d.action, 'rollback')
  t.equal(d.from, 'full')
  t.not(gw.active.active('income'), 'full', 'traffic moved off the breaching variant')
  const seq = (d.evidence as { sequential: { selection: { outcome: string, strongest: { pair: { statistic: number, bound: number, limit: number } } } } }).sequential.selection
  t.equal(seq.outcome, 'breach')
  t.ok(seq.strongest.pair.statistic > seq.strongest.pair.bound && seq.strongest.pair.limit > 0.25, 'evidence: the confidence sequence lies past the threshold')
  const res = await app.inject('/v1/decisions')
  t.equal(res.json().decisions[0].rule, 'sex-dp', 'on /v1/decisions with its evidence')
  const f = await app.inject('/v1/fairness?model=income')
  t.equal(f.json().policies[0].rules[0].rule, 'sex-dp', 'the rule state is in the fairness report')
})
