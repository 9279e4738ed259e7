// A fairness switch confines serving to the variants whose manifest figures pass the breached
// rule: a later automatic switch outside them (the latency SLO's) is ignored; an operator's
// decision lifts the constraint.
import t from 'tap'
import type { DecisionEvent } from '../../src/events/index.js'
import { startGateway } from '../helpers/gateway.js'

const decision = (action: DecisionEvent['action'], from: string, to: string, rule: string): DecisionEvent =>
  ({ model: 'income', action, from, to, rule, evidence: {}, ts: Date.now(), actor: 'test' })

t.test('the shipped parity rule\'s switch holds against the latency router and the SLO switch', async t => {
  const { gw, app } = await startGateway({ models: { warmup_runs: 0 } })
  t.teardown(async () => { await app.close() })
  const policy = gw.policy!
  t.equal(policy.allowed('income'), undefined, 'no constraint at start')
  policy.apply(decision('switch', 'full', 'full-eo', 'sex-demographic-parity'), 'local')
  t.equal(gw.active.active('income'), 'full-eo')
  t.same([...policy.allowed('income')!].sort(), ['distilled-eo', 'full-eo'], 'only variants whose manifest DPD for sex is <= 0.10')
  policy.apply(decision('switch', 'full-eo', 'distilled', 'p99-under-50ms'), 'local')
  t.equal(gw.active.active('income'), 'full-eo', 'the latency SLO cannot switch to a variant failing the rule')
  policy.apply(decision('switch', 'full-eo', 'distilled-eo', 'p99-under-50ms'), 'local')
  t.equal(gw.active.active('income'), 'distilled-eo', 'but may switch within the allowed variants')
  policy.manualSwitch('income', 'full', 'operator')
  t.equal(gw.active.active('income'), 'full')
  t.equal(policy.allowed('income'), undefined, 'an operator\'s decision lifts the constraint')
})
