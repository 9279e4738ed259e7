// End to end on the real models with a fake clock: eval.jsonl replayed through the HTTP API, a
// stable replay of more than 10 windows takes no action; then a drift of about +0.15 that
// pushes the sex demographic parity difference past the rule, and the policy's sequential test
// acts within 3 minutes of the drift, as soon as its confidence sequence clears the threshold.
import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { evalRows, startGateway } from '../helpers/gateway.js'
import { FakeClock } from '../helpers/fake-clock.js'

const rows = evalRows()
const INTERVAL = 1000
const WINDOW = 10_000

t.test('stable replay: no action; injected drift: action within 3 intervals', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-drift-'))
  writeFileSync(join(dir, 'income.yaml'), stringify({
    model: 'income',
    variants: ['full', 'fair', 'distilled'],
    interval_ms: INTERVAL,
    hysteresis: 3,
    cooldown_ms: 60_000,
    fairness: [{ name: 'sex-dp', metric: 'demographic_parity_difference', attribute: 'sex', threshold: 0.25, min_samples: 200, action: { type: 'rollback' } }]
  }))
  const clock = new FakeClock()
  const { app, gw } = await startGateway({ policy: { dir }, monitor: { window_ms: WINDOW, bucket_ms: 1000, refresh_ms: 0 } }, { clock })
  t.teardown(() => app.close())

  let next = 0
  const second = async (drift: boolean): Promise<void> => {
    // 200 rows per second of fake time, in requests of 20 rows with per-row groups.
    for (let r = 0; r < 10; r++) {
      const batch = Array.from({ length: 20 }, () => rows[next++ % rows.length]!)
      const instances = batch.map(x => drift && x.group.sex === 'Male'
        // The drift: Male applicants' inputs shift to a large capital gain, the strongest
        // positive feature in Adult, so their selection rate jumps.
        ? { ...x.features, capital_gain: 15024 }
        : x.features)
      const res = await app.inject({ method: 'POST', url: '/v1/predict', payload: { model: 'income', instances, groups: batch.map(x => x.group) } })
      if (res.statusCode !== 200) throw new Error(res.body)
    }
    clock.advance(1000)
  }

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
