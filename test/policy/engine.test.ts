// The engine on a real Monitor driven by a fake clock: significance, hysteresis, cooldown,
// inconclusive outcomes, last-known-good and rollback — the per-window rules (sequential tests
// off); test/policy/engine-sequential.test.ts covers the sequential ones.
import t from 'tap'
import { validateConfig } from '../../src/config/index.js'
import type { DecisionEvent } from '../../src/events/index.js'
import { Monitor } from '../../src/monitor/index.js'
import { PolicyEngine, evaluateFairness, policySchema } from '../../src/policy/index.js'
import { ActiveVariants } from '../../src/routing/index.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { silentLog } from '../helpers/gateway.js'

const manifest = { groups: { sex: ['Female', 'Male'] }, threshold: 0.5 } as any
const monitorCfg = validateConfig({ monitor: { window_ms: 10_000, bucket_ms: 1000, min_samples: 1, report_min: 1, min_labelled: 1, refresh_ms: 0 } }).monitor

function setup (policyOver: Record<string, unknown> = {}) {
  const clock = new FakeClock()
  const monitor = new Monitor([{ name: 'm', manifest, variants: ['full', 'small', 'tiny'] }], monitorCfg, clock)
  const active = new ActiveVariants()
  active.init({ name: 'm', variants: [{ name: 'full' }, { name: 'small' }, { name: 'tiny' }] })
  const decisions: DecisionEvent[] = []
  const policy = policySchema.parse({
    model: 'm', variants: ['full', 'small', 'tiny'], interval_ms: 1000, hysteresis: 3, cooldown_ms: 5000, sequential: { enabled: false },
    fairness: [{ name: 'dp', metric: 'demographic_parity_difference', attribute: 'sex', threshold: 0.2, min_samples: 50, action: { type: 'rollback' } }],
    ...policyOver
  })
  const engine = new PolicyEngine({
    monitor, active, clock, log: silentLog, actor: 'test',
    decide: d => { decisions.push(d); if (d.action !== 'alert') active.set(d.model, d.to, clock.wallNow()) },
    canServe: () => true,
    lkgWindowMs: 10_000
  }, new Map([['m', policy]]))
  /** n rows per group this second on the active variant, with selection rates f and m. */
  const feed = (n: number, female: number, male: number): void => {
    const v = ['full', 'small', 'tiny'].indexOf(active.active('m')!)
    for (let i = 0; i < n; i++) {
      monitor.record(0, v, clock.wallNow(), Int16Array.from([0]), 0, 0.5, i < n * female ? 1 : 0, 2)
      monitor.record(0, v, clock.wallNow(), Int16Array.from([1]), 0, 0.5, i < n * male ? 1 : 0, 2)
    }
  }
  return { clock, monitor, active, decisions, engine, feed }
}

t.test('a gap past the threshold but not significantly does not breach', async t => {
  const { monitor, feed } = setup()
  feed(60, 0.3, 0.55) // gap 0.25 > 0.2, but 60 rows per group is not enough evidence
  const r = evaluateFairness({ name: 'dp', metric: 'demographic_parity_difference', attribute: 'sex', threshold: 0.2, min_samples: 50, action: { type: 'alert' } }, monitor.report('m')!.variants.full, 1.96)
  t.equal(r.outcome, 'inconclusive')
  t.ok(r.ci![0] < 0.2 && r.value! > 0.2)
})

t.test('too few samples is inconclusive and neither breaches nor resets the streak', async t => {
  const { feed, engine, clock, decisions } = setup()
  feed(1000, 0.1, 0.9) // a huge gap
  engine.evaluate('m')
  clock.advance(1000)
  engine.evaluate('m')
  t.equal(engine.status()[0]!.rules[0]!.streak, 2, 'two breaches')
  clock.advance(20_000) // the window empties out
  engine.evaluate('m')
  const st = engine.status()[0]!.rules[0]!
  t.equal(st.outcome, 'inconclusive')
  t.equal(st.streak, 2, 'inconclusive keeps the streak')
  t.equal(decisions.length, 0)
  feed(1000, 0.1, 0.9)
  engine.evaluate('m')
  t.equal(decisions.length, 1, 'the third breach acts')
})

t.test('hysteresis, rollback to the next preferred variant, cooldown', async t => {
  const { feed, engine, clock, decisions, active } = setup()
  engine.start()
  for (let s = 0; s < 12; s++) { feed(100, 0.3, 0.35); clock.advance(1000) }
  t.equal(decisions.length, 0, 'a stable small gap never acts')
  t.equal(active.get('m')!.lastKnownGood, 'full', 'full passed every rule for a full window')
  for (let s = 0; s < 10 && decisions.length === 0; s++) { feed(400, 0.05, 0.95); clock.advance(1000) }
  t.equal(decisions.length, 1, 'acted')
  const d = decisions[0]!
  t.equal(d.action, 'rollback')
  t.equal(d.from, 'full')
  t.equal(d.to, 'small', 'the breaching variant is the last-known-good one: next preferred')
  const ev = d.evidence as any
  t.equal(ev.consecutive_breaches, 3, 'after three consecutive breaches')
  t.ok(ev.ci[0] > 0.2, 'the lower bound is past the threshold')
  t.same(Object.keys(ev.groups).sort(), ['Female', 'Male'])
  // The drift continues on the new variant: cooldown holds the next switch.
  const at = clock.wallNow()
  while (clock.wallNow() - at < 4000) { feed(400, 0.05, 0.95); clock.advance(1000) }
  t.equal(decisions.length, 1, 'no second switch inside the cooldown')
  for (let s = 0; s < 10 && decisions.length === 1; s++) { feed(400, 0.05, 0.95); clock.advance(1000) }
  t.equal(decisions.length, 2, 'acts again after the cooldown')
  engine.stop()
})

t.test('alert rules record a decision without switching', async t => {
  const { feed, engine, clock, decisions, active } = setup({ fairness: [{ name: 'dp', metric: 'demographic_parity_difference', attribute: 'sex', threshold: 0.2, min_samples: 50, action: { type: 'alert' } }] })
  engine.start()
  for (let s = 0; s < 4; s++) { feed(400, 0.05, 0.95); clock.advance(1000) }
  t.equal(decisions.length, 1)
  t.equal(decisions[0]!.action, 'alert')
  t.equal(active.active('m'), 'full')
  engine.stop()
})
