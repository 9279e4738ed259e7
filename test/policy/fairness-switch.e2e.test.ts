// End to end with the shipped policy (policies/income.yaml) on a real gateway process: eval.jsonl
// replayed with group labels at ~500 requests/s. The parity rule breaches on full, the gateway
// switches to the mitigated variant within 3 evaluation intervals of min_samples, the gap it
// serves after the switch is within the rule, and under a 20 ms budget the router sends nothing
// to a variant that fails the rule.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { openLoop } from '../../loadtest/lib/open-loop.js'
import { allowedVariants, type Policy } from '../../src/policy/index.js'
import { readManifest } from '../../src/models/index.js'
import { evalRows, INCOME_DIR, ROOT } from '../helpers/gateway.js'
import { serveCli } from '../helpers/process.js'

const rows = evalRows()
const policy = parse(readFileSync(join(ROOT, 'policies', 'income.yaml'), 'utf8')) as Policy
const rule = policy.fairness.find(r => r.metric === 'demographic_parity_difference' && r.attribute === 'sex')!
const manifest = readManifest(join(INCOME_DIR, 'model.yaml'))
const RATE = 500

interface Fairness { models: Array<{ variants: Record<string, { attributes: Record<string, { groups: Record<string, { n: number }>, gaps: { demographic_parity_difference: number | null } }> }> }>, policies: Array<{ evaluations: number, active: string }> }

t.test('shipped policy: full breaches parity, the gateway switches to a mitigated variant, the gap closes', async t => {
  t.equal(rule.action.type, 'switch', 'the shipped parity rule switches')
  const target = (rule.action as { to: string }).to
  const allowed = allowedVariants(rule, target, manifest.variants.map(v => ({ name: v.name, groups: v.metrics?.groups })))
  t.notOk(allowed.has('full'), 'full fails the rule by its manifest figures')
  const gw = await serveCli({ FAIRGATE_LOG_LEVEL: 'error' }, 60_000)
  t.teardown(async () => { gw.child.kill('SIGTERM'); await gw.exited })
  const get = async <T>(path: string): Promise<T> => await (await fetch(gw.url + path)).json() as T
  let next = 0
  const replay = async (seconds: number, budget = 0, seen?: Record<string, number>, perRequest = 1): Promise<void> => {
    await openLoop({
      url: gw.url,
      rate: perRequest === 1 ? RATE : RATE / 2,
      seconds,
      connections: 32,
      drainMs: 5000,
      request: () => {
        const budgetField = budget > 0 ? { latency_budget_ms: budget } : {}
        if (perRequest === 1) {
          const r = rows[next++ % rows.length]!
          return { body: JSON.stringify({ model: 'income', features: r.features, group: r.group, ...budgetField }) }
        }
        const batch = Array.from({ length: perRequest }, () => rows[next++ % rows.length]!)
        return { body: JSON.stringify({ model: 'income', instances: batch.map(r => r.features), groups: batch.map(r => r.group), ...budgetField }) }
      },
      onResponse: (_i, _tag, status, text) => {
        if (seen === undefined || status !== 200) return
        const out = JSON.parse(text) as { variant: string } | Array<{ variant: string }>
        for (const o of Array.isArray(out) ? out : [out]) seen[o.variant] = (seen[o.variant] ?? 0) + 1
      }
    })
  }

  // Phase 1: full serves until the rule has min_samples per group, then breaches.
  let evalsAtMinSamples = -1
  let evalsAtSwitch = -1
  for (let s = 0; s < 120 && evalsAtSwitch < 0; s++) {
    await replay(1)
    const f = await get<Fairness>('/v1/fairness?model=income')
    const groups = f.models[0]!.variants.full?.attributes.sex?.groups ?? {}
    const enough = Object.values(groups).length >= 2 && Object.values(groups).every(g => g.n >= rule.min_samples)
    if (enough && evalsAtMinSamples < 0) evalsAtMinSamples = f.policies[0]!.evaluations
    const d = await get<{ decisions: Array<{ action: string, from: string, to: string, rule: string }> }>('/v1/decisions')
    if (d.decisions.length > 0) {
      evalsAtSwitch = f.policies[0]!.evaluations
      t.same(d.decisions.map(x => [x.action, x.from, x.to, x.rule]), [['switch', 'full', target, rule.name]], 'one switch by the parity rule, off full')
    }
  }
  t.ok(evalsAtMinSamples >= 0, `min_samples reached (at evaluation ${evalsAtMinSamples})`)
  t.ok(evalsAtSwitch >= 0, `switched (by evaluation ${evalsAtSwitch})`)
  t.ok(evalsAtSwitch - evalsAtMinSamples <= 3, `within 3 evaluation intervals of min_samples (${evalsAtSwitch - evalsAtMinSamples})`)

  // Phase 2: the mitigated variant's own window: its served gap is within the rule. full-eo's DPD
  // on adult.test is 0.082, so the window must be large enough that sampling noise does not carry a
  // gap that is within the rule past it: over consecutive eval.jsonl rows, 400 rows per group
  // exceed 0.10 in 10% of start positions, 1,200 per group in none (about 7 s at 500/s).
  let after: number | null = null
  for (let s = 0; s < 60; s++) {
    await replay(1)
    const f = await get<Fairness>('/v1/fairness?model=income')
    const a = f.models[0]!.variants[target]?.attributes.sex
    if (a !== undefined && Object.values(a.groups).every(g => g.n >= 6 * rule.min_samples)) { after = a.gaps.demographic_parity_difference; break }
  }
  t.ok(after !== null && after <= rule.threshold, `DPD for sex served by ${target} after the switch: ${after?.toFixed(4)} <= ${rule.threshold}`)

  // Phase 3: a 20 ms budget routes only among the variants that satisfy the breached rule, first
  // at the replay's rate, then with 64-row requests at 250/s (16,000 rows/s, past full's capacity).
  for (const perRequest of [1, 64]) {
    const seen: Record<string, number> = {}
    await replay(3, 20, seen, perRequest)
    t.ok(Object.values(seen).reduce((a, b) => a + b, 0) > 0, `${perRequest}-row requests answered under the budget, rows per variant: ${JSON.stringify(seen)}`)
    for (const v of Object.keys(seen)) t.ok(allowed.has(v), `${v} satisfies the rule`)
  }
  const metrics = await (await fetch(gw.url + '/metrics')).text()
  t.comment(metrics.split('\n').filter(l => l.startsWith('fairgate_fairness_budget_missed_total')).join('; ') || 'no budget missed')
})
