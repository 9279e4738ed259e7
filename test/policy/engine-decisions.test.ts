// The engine hears every applied decision (remote and manual too) and keeps its state per (rule,
// variant); streaks expire; recovery never undoes a manual switch within the hold time; the
// sequential rules act on their confidence sequence and report statistic, bound and evidence.
import t from 'tap'
import { validateConfig } from '../../src/config/index.js'
import type { DecisionEvent } from '../../src/events/index.js'
import { Monitor } from '../../src/monitor/index.js'
import { PolicyEngine, policySchema } from '../../src/policy/index.js'
import { ActiveVariants } from '../../src/routing/index.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { silentLog } from '../helpers/gateway.js'

const manifest = { groups: { sex: ['Female', 'Male'] }, threshold: 0.5 } as any
const monitorCfg = validateConfig({ monitor: { window_ms: 10_000, bucket_ms: 1000, min_samples: 1, report_min: 1, min_labelled: 1, refresh_ms: 0 } }).monitor
const VARIANTS = ['full', 'small', 'tiny']

function setup (policyOver: Record<string, unknown> = {}) {
  const clock = new FakeClock()
  const monitor = new Monitor([{ name: 'm', manifest, variants: VARIANTS }], monitorCfg, clock)
  const active = new ActiveVariants()
  active.init({ name: 'm', variants: VARIANTS.map(name => ({ name })) })
  const decisions: DecisionEvent[] = []
  const policy = policySchema.parse({
    model: 'm', variants: VARIANTS, interval_ms: 1000, hysteresis: 3, cooldown_ms: 5000,
    fairness: [{ name: 'dp', metric: 'demographic_parity_difference', attribute: 'sex', threshold: 0.2, min_samples: 50, action: { type: 'rollback' } }],
    ...policyOver
  })
  let engine: PolicyEngine
  // As the controller does: apply, then tell the engine.
  const apply = (d: DecisionEvent): void => { decisions.push(d); if (d.action !== 'alert') active.set(d.model, d.to, clock.wallNow()); engine.applied(d) }
  engine = new PolicyEngine({ monitor, active, clock, log: silentLog, actor: 'test', decide: apply, canServe: () => true, lkgWindowMs: 10_000 }, new Map([['m', policy]]))
  const feed = (n: number, female: number, male: number): void => {
    const v = VARIANTS.indexOf(active.active('m')!)
    for (let i = 0; i < n; i++) {
      monitor.record(0, v, clock.wallNow(), Int16Array.from([0]), 0, 0.5, i < n * female ? 1 : 0, 2)
      monitor.record(0, v, clock.wallNow(), Int16Array.from([1]), 0, 0.5, i < n * male ? 1 : 0, 2)
    }
  }
  const remote = (to: string, action: DecisionEvent['action'] = 'rollback', rule = 'dp'): void =>
    apply({ model: 'm', action, from: active.active('m')!, to, rule, evidence: {}, ts: clock.wallNow(), actor: 'elsewhere' })
  return { clock, monitor, active, decisions, engine, feed, remote }
}

t.test('the sequential rule acts on its confidence sequence and shows its evidence', async t => {
  const { feed, engine, clock, decisions } = setup()
  engine.start()
  for (let s = 0; s < 30; s++) { feed(100, 0.3, 0.35); clock.advance(1000) }
  t.equal(decisions.length, 0, 'a stable gap within the threshold never acts')
  let st = engine.status()[0]!.rules[0]!
  t.equal(st.outcome, 'pass')
  t.equal(st.sequential!.selection!.outcome, 'watching')
  t.ok(st.sequential!.selection!.strongest!.pair!.statistic < st.sequential!.selection!.strongest!.pair!.bound)
  for (let s = 0; s < 60 && decisions.length === 0; s++) { feed(100, 0.1, 0.6); clock.advance(1000) }
  t.equal(decisions.length, 1, 'a gap of 0.5 is found')
  const ev = decisions[0]!.evidence as any
  t.equal(ev.sequential.selection.outcome, 'breach')
  t.ok(ev.sequential.selection.strongest.pair.limit > 0.2, 'the lower bound of the gap is past the threshold')
  t.same([ev.sequential.selection.strongest.pair.a, ev.sequential.selection.strongest.pair.b], ['Male', 'Female'])
  feed(100, 0.3, 0.35); clock.advance(1000)
  st = engine.status()[0]!.rules[0]!
  t.not(st.sequential!.selection!.outcome, 'breach', 'the evidence restarted on the new variant')
  engine.stop()
})

t.test('a remote decision resets streaks and cooldown; streaks are per variant', async t => {
  const { feed, engine, clock, decisions, remote, active } = setup({ sequential: { enabled: false } })
  feed(400, 0.05, 0.95); engine.evaluate('m'); clock.advance(1000)
  feed(400, 0.05, 0.95); engine.evaluate('m')
  t.equal(engine.status()[0]!.rules[0]!.streak, 2, 'two breaches on full')
  remote('small')
  t.equal(active.active('m'), 'small')
  clock.advance(1000)
  feed(400, 0.05, 0.95); engine.evaluate('m')
  t.equal(engine.status()[0]!.rules[0]!.streak, 1, 'the streak built on full does not carry over to small')
  t.equal(decisions.length, 1, 'only the remote decision')
  clock.advance(1000); feed(400, 0.05, 0.95); engine.evaluate('m')
  clock.advance(1000); feed(400, 0.05, 0.95); engine.evaluate('m')
  t.equal(decisions.length, 1, 'three breaches on small, but the cooldown from the remote decision holds')
  t.ok(engine.status()[0]!.cooldown_until !== null)
})

t.test('a streak expires after streak_ttl_ms without a breach', async t => {
  const { feed, engine, clock } = setup({ sequential: { enabled: false }, streak_ttl_ms: 5000 })
  feed(400, 0.05, 0.95); engine.evaluate('m'); clock.advance(1000)
  feed(400, 0.05, 0.95); engine.evaluate('m')
  t.equal(engine.status()[0]!.rules[0]!.streak, 2)
  clock.advance(20_000) // the window empties: inconclusive keeps the streak, until it expires
  engine.evaluate('m')
  t.equal(engine.status()[0]!.rules[0]!.streak, 0, 'expired')
})

t.test('recovery does not undo a manual switch within the hold time', async t => {
  const { feed, engine, clock, decisions, remote, active } = setup({ recovery: { enabled: true, after_passing: 3 }, manual_hold_ms: 60_000 })
  remote('small', 'manual', 'admin')
  engine.start()
  for (let s = 0; s < 50; s++) { feed(100, 0.3, 0.32); clock.advance(1000) }
  t.equal(active.active('m'), 'small', 'still on the manual choice after 50 passing seconds')
  t.equal(decisions.length, 1)
  for (let s = 0; s < 20 && decisions.length === 1; s++) { feed(100, 0.3, 0.32); clock.advance(1000) }
  t.equal(decisions.length, 2, 'after the hold time recovery may act')
  t.equal(decisions[1]!.action, 'recover')
  t.equal(active.active('m'), 'full')
  engine.stop()
})

t.test('a sequential rule shows no group the report hides: not in its rows, not in its pair, not in the evidence', async t => {
  const clock = new FakeClock()
  const groups = ['Big1', 'Big2', 'Mid', 'Tiny']
  const cfg = validateConfig({ monitor: { window_ms: 10_000, bucket_ms: 1000, min_samples: 1, report_min: 100, min_labelled: 1, refresh_ms: 0 } }).monitor
  const monitor = new Monitor([{ name: 'm', manifest: { groups: { race: groups }, threshold: 0.5 } as any, variants: VARIANTS }], cfg, clock)
  const active = new ActiveVariants()
  active.init({ name: 'm', variants: VARIANTS.map(name => ({ name })) })
  const decisions: DecisionEvent[] = []
  const policy = policySchema.parse({
    model: 'm', variants: VARIANTS, interval_ms: 1000, hysteresis: 3, cooldown_ms: 5000,
    fairness: [{ name: 'dp', metric: 'demographic_parity_difference', attribute: 'race', threshold: 0.2, min_samples: 50, action: { type: 'rollback' } }]
  })
  const engine = new PolicyEngine({ monitor, active, clock, log: silentLog, actor: 'test', decide: d => { decisions.push(d); active.set(d.model, d.to, clock.wallNow()); engine.applied(d) }, canServe: () => true, lkgWindowMs: 10_000 }, new Map([['m', policy]]))
  // Tiny is under report_min and Mid is the smallest other group, so complementary suppression
  // hides both once a test holds 3 buckets (before that Mid is under report_min too, and the two
  // together under it, so a Big group is hidden as well); the gap that acts is Big1 against Big2.
  const rates = [0.1, 0.6, 0.6, 0.6]
  const sizes = [100, 100, 40, 1]
  const feed = (): void => {
    const v = VARIANTS.indexOf(active.active('m')!)
    for (let g = 0; g < groups.length; g++) {
      for (let i = 0; i < sizes[g]!; i++) monitor.record(0, v, clock.wallNow(), Int16Array.from([g]), 0, 0.5, i < sizes[g]! * rates[g]! ? 1 : 0, 2)
    }
  }
  engine.start()
  for (let s = 0; s < 2; s++) { feed(); clock.advance(1000) }
  t.equal(engine.status()[0]!.rules[0]!.sequential!.selection!.strongest!.suppressed, 3, 'one bucket in: Tiny, Mid and a Big group hidden')
  let leaked = false
  for (let s = 0; s < 60 && decisions.length === 0; s++) {
    feed(); clock.advance(1000)
    if (/Tiny|Mid/.test(JSON.stringify(engine.status()))) leaked = true
  }
  t.notOk(leaked, 'no rule state named a hidden group')
  t.equal(decisions.length, 1, 'the Big1/Big2 gap acts')
  const ev = decisions[0]!.evidence as any
  t.notOk(/Tiny|Mid/.test(JSON.stringify(ev)), 'nor does the evidence')
  t.same(Object.keys(ev.sequential.selection.strongest.rows).sort(), ['Big1', 'Big2'], 'rows only for the groups the report shows')
  t.equal(ev.sequential.selection.strongest.suppressed, 2)
  t.same([ev.sequential.selection.strongest.pair.a, ev.sequential.selection.strongest.pair.b], ['Big2', 'Big1'])
})
