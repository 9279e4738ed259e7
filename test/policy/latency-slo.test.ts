// Issue 14, defect 4: the latency SLO weighed rows, not requests. After 2,000 one-row requests,
// one 1024-row request switched the model for every client: its rows were a third of the window,
// so the p99 was that request's latency while 1,997 of 2,001 requests were under 50 ms. The
// window now counts each request once (each row adds 1 / rows of its request). A real Monitor
// and PolicyEngine on a fake clock.
import t from 'tap'
import { validateConfig } from '../../src/config/index.js'
import type { DecisionEvent } from '../../src/events/index.js'
import { Monitor } from '../../src/monitor/index.js'
import { PolicyEngine, policySchema } from '../../src/policy/index.js'
import { ActiveVariants } from '../../src/routing/index.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { silentLog } from '../helpers/gateway.js'

const manifest = { groups: { sex: ['Female', 'Male'] }, threshold: 0.5 } as any
const monitorCfg = validateConfig({ monitor: { window_ms: 60_000, bucket_ms: 1000, min_samples: 1, report_min: 1, min_labelled: 1, refresh_ms: 0 } }).monitor

function setup () {
  const clock = new FakeClock()
  const monitor = new Monitor([{ name: 'm', manifest, variants: ['full', 'small'] }], monitorCfg, clock)
  const active = new ActiveVariants()
  active.init({ name: 'm', variants: [{ name: 'full' }, { name: 'small' }] })
  const decisions: DecisionEvent[] = []
  const policy = policySchema.parse({
    model: 'm', variants: ['full', 'small'], interval_ms: 1000, hysteresis: 3, cooldown_ms: 5000,
    latency: { slo: { percentile: 99, threshold_ms: 50, min_samples: 500, window_ms: 60_000, action: { type: 'switch', to: 'small' } } }
  })
  const engine = new PolicyEngine({
    monitor, active, clock, log: silentLog, actor: 'test',
    decide: d => { decisions.push(d); if (d.action !== 'alert') active.set(d.model, d.to, clock.wallNow()) },
    canServe: () => true,
    lkgWindowMs: 60_000
  }, new Map([['m', policy]]))
  /** One request of `rows` rows answered in `ms`, on full, as Monitor.onPredictions records it. */
  const request = (rows: number, ms: number): void => {
    for (let r = 0; r < rows; r++) monitor.record(0, 0, clock.wallNow(), Int16Array.from([r % 2]), 0, 0.5, 0, ms, 1 / rows)
  }
  return { clock, monitor, decisions, engine, request }
}

t.test('one 1024-row request among 2,000 one-row ones does not breach the p99', async t => {
  const { clock, monitor, decisions, engine, request } = setup()
  for (let s = 0; s < 10; s++) { for (let i = 0; i < 200; i++) request(1, 5); clock.advance(1000) }
  request(1024, 285)
  const v = monitor.report('m')!.variants.full!
  t.equal(v.n, 2000 + 1024, 'every row is counted')
  t.equal(v.requests, 2001, 'the big request counts once')
  t.ok(v.latency_ms.p99! < 50, `p99 over requests ${v.latency_ms.p99!.toFixed(1)} ms`)
  for (let s = 0; s < 6; s++) { engine.evaluate('m'); clock.advance(1000) }
  t.same(decisions, [], 'no switch')
  t.equal(engine.status()[0]!.rules[0]!.outcome, 'pass')
})

t.test('requests that are slow in earnest still breach', async t => {
  const { clock, decisions, engine, request } = setup()
  // 2% of the requests over the threshold: the p99 is past it.
  for (let s = 0; s < 10; s++) { for (let i = 0; i < 196; i++) request(1, 5); for (let i = 0; i < 4; i++) request(2, 285); clock.advance(1000) }
  for (let s = 0; s < 6 && decisions.length === 0; s++) { engine.evaluate('m'); clock.advance(1000) }
  t.equal(decisions.length, 1)
  t.match(decisions[0], { action: 'switch', to: 'small' })
})
