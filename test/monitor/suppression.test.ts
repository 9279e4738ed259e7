// Issue 14, defect 6: report_min was bypassed by subtraction. The report shows the variant's
// total n and selection rate, so total − Σ shown groups gave a hidden group's exact n and
// positives. Suppression is now complementary (src/monitor/suppression.ts): what subtraction
// yields, on the report or on /metrics, is always an aggregate of ≥ report_min rows.
import t from 'tap'
import { validateConfig } from '../../src/config/index.js'
import { Monitor, type FairnessReport } from '../../src/monitor/index.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { evalRows, parseMetrics, startGateway } from '../helpers/gateway.js'

const REPORT_MIN = 5

/** Rows the report hides in a set of cells: what `known − Σ shown` gives. 0 or ≥ REPORT_MIN. */
function hiddenBySubtraction (known: number, shown: Record<string, { n: number }>, cells: string[]): number {
  return known - cells.reduce((a, c) => a + (shown[c]?.n ?? 0), 0)
}

t.test('one small group: the smallest other is hidden with it', async t => {
  const clock = new FakeClock()
  const cfg = validateConfig({ monitor: { window_ms: 10_000, bucket_ms: 1000, min_samples: 1, report_min: REPORT_MIN, min_labelled: 1, refresh_ms: 0 } }).monitor
  const manifest = { groups: { race: ['A', 'B', 'C', 'D'] }, threshold: 0.5 } as any
  const m = new Monitor([{ name: 'm', manifest, variants: ['v'] }], cfg, clock)
  const sizes = [50, 40, 30, 3]
  sizes.forEach((n, g) => { for (let i = 0; i < n; i++) m.record(0, 0, clock.wallNow(), Int16Array.from([g]), 0, 0.9, i % 3 === 0 ? 1 : 0, 1) })
  const v = m.report('m')!.variants.v!
  const a = v.attributes.race!
  t.same(Object.keys(a.groups), ['A', 'B'], 'D (3 rows) and C, the smallest other, are hidden')
  t.equal(a.suppressed, 2)
  const hidden = hiddenBySubtraction(v.n, a.groups, ['A', 'B', 'C', 'D'])
  t.equal(hidden, 33, 'subtraction gives C and D together, never D alone')
  const positives = Math.round(v.selection_rate! * v.n) - Object.values(a.groups).reduce((s, g) => s + Math.round(g.selection_rate * g.n), 0)
  t.equal(positives, 10 + 1, 'and their positives together')
})

t.test('no small group: nothing is hidden', async t => {
  const clock = new FakeClock()
  const cfg = validateConfig({ monitor: { window_ms: 10_000, bucket_ms: 1000, min_samples: 1, report_min: REPORT_MIN, min_labelled: 1, refresh_ms: 0 } }).monitor
  const m = new Monitor([{ name: 'm', manifest: { groups: { race: ['A', 'B', 'C'] }, threshold: 0.5 } as any, variants: ['v'] }], cfg, clock)
  ;[20, 5, 0].forEach((n, g) => { for (let i = 0; i < n; i++) m.record(0, 0, clock.wallNow(), Int16Array.from([g]), 0, 0.9, 1, 1) })
  const a = m.report('m')!.variants.v!.attributes.race!
  t.same(Object.keys(a.groups), ['A', 'B'], 'B has exactly report_min rows; C is absent, not suppressed')
  t.equal(a.suppressed, 0)
})

t.test('an intersection: every slice hides ≥ report_min rows or none', async t => {
  const clock = new FakeClock()
  const cfg = validateConfig({ monitor: { window_ms: 10_000, bucket_ms: 1000, min_samples: 1, report_min: REPORT_MIN, min_labelled: 1, refresh_ms: 0, intersections: [['sex', 'race']] } }).monitor
  const manifest = { groups: { sex: ['F', 'M'], race: ['A', 'B'] }, threshold: 0.5 } as any
  const m = new Monitor([{ name: 'm', manifest, variants: ['v'] }], cfg, clock)
  const cells: Array<[number, number, number]> = [[0, 0, 40], [0, 1, 2], [1, 0, 30], [1, 1, 31]]
  for (const [s, r, n] of cells) for (let i = 0; i < n; i++) m.record(0, 0, clock.wallNow(), Int16Array.from([s, r]), 0, 0.9, 1, 1)
  const v = m.report('m')!.variants.v!
  const sex = v.attributes.sex!.groups
  const race = v.attributes.race!.groups
  const x = v.attributes['sex×race']!.groups
  t.notOk('F×B' in x, 'the 2-row cell is hidden')
  const checks: Array<[string, number | undefined, string[]]> = [
    ['the whole intersection', v.n, ['F×A', 'F×B', 'M×A', 'M×B']],
    ['slice sex=F', sex.F?.n, ['F×A', 'F×B']],
    ['slice sex=M', sex.M?.n, ['M×A', 'M×B']],
    ['slice race=A', race.A?.n, ['F×A', 'M×A']],
    ['slice race=B', race.B?.n, ['F×B', 'M×B']]
  ]
  for (const [what, known, of] of checks) {
    if (known === undefined) continue
    const hidden = hiddenBySubtraction(known, x, of)
    t.ok(hidden === 0 || hidden >= REPORT_MIN, `${what}: subtraction yields ${hidden} rows (0 or ≥ ${REPORT_MIN})`)
  }
})

t.test('end to end: neither /v1/fairness nor /metrics gives a small group away', async t => {
  const { app } = await startGateway({ monitor: { refresh_ms: 0, report_min: REPORT_MIN } })
  t.teardown(() => app.close())
  const rows = evalRows()
  // 40 White, 30 Black, 3 Other, all Male: Other alone is below report_min.
  const plan: Array<[string, number]> = [['White', 40], ['Black', 30], ['Other', 3]]
  let k = 0
  for (const [race, n] of plan) {
    for (let i = 0; i < n; i++) {
      const r = await app.inject({ method: 'POST', url: '/v1/predict', payload: { model: 'income', features: rows[k++]!.features, group: { sex: 'Male', race } } })
      t.equal(r.statusCode, 200)
    }
  }
  const report = (await app.inject({ method: 'GET', url: '/v1/fairness?model=income' })).json() as { models: FairnessReport[] }
  const v = report.models[0]!.variants.full!
  t.equal(v.n, 73)
  const raceGroups = v.attributes.race!.groups
  t.notOk('Other' in raceGroups, 'Other is not reported')
  const fromReport = hiddenBySubtraction(v.n, raceGroups, Object.keys(raceGroups))
  t.ok(fromReport >= REPORT_MIN, `/v1/fairness: total − Σ race groups = ${fromReport} rows, not Other's 3`)
  const m = parseMetrics((await app.inject({ method: 'GET', url: '/metrics' })).body)
  let sex = 0
  let race = 0
  for (const [series, value] of m) {
    if (!series.startsWith('fairgate_group_samples{')) continue
    t.ok(value >= REPORT_MIN, `${series} = ${value}: no series below report_min`)
    if (series.includes('attribute="sex"')) sex += value
    if (series.includes('attribute="race"')) race += value
  }
  t.equal(sex, 73, 'every row has a sex label, all Male: shown')
  t.ok(sex - race >= REPORT_MIN, `/metrics: Σ sex − Σ race = ${sex - race} rows, not Other's 3`)
})
