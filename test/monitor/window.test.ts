// Window semantics with an injected clock: events leave the window exactly when they should.
import t from 'tap'
import { validateConfig } from '../../src/config/index.js'
import { Monitor, GroupLayout, SlidingWindow, WindowSums } from '../../src/monitor/index.js'
import { FakeClock } from '../helpers/fake-clock.js'

const layout = new GroupLayout({ sex: ['Female', 'Male'], race: ['A', 'B', 'C'] }, [['sex', 'race']])
const edges = Float64Array.from([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])

t.test('layout: intersections get derived cells', async t => {
  t.same(layout.attributes.map(a => a.name), ['sex', 'race', 'sex×race'])
  t.equal(layout.cells, 2 + 3 + 6)
  t.same(layout.attributes[2]!.values.slice(0, 4), ['Female×A', 'Female×B', 'Female×C', 'Male×A'])
  const out = new Int32Array(3)
  layout.cellsOf(Int16Array.from([1, 2]), 0, out)
  t.same([...out], [1, 2 + 2, 5 + 3 * 1 + 2])
  layout.cellsOf(Int16Array.from([1, -1]), 0, out)
  t.same([...out], [1, -1, -1], 'an unlabelled component leaves the intersection unlabelled')
})

t.test('an event leaves the window when floor(now/bucket) − floor(ts/bucket) reaches B', async t => {
  const w = new SlidingWindow(layout, 1000, 5000, edges) // B = 5 buckets of 1 s
  const sums = new WindowSums(layout.cells, 10)
  const ids = Int16Array.from([0, 1])
  w.add(10_500, 10_500, ids, 0, 0.7, 1, 3) // bucket 10
  w.add(12_000, 12_000, ids, 0, 0.2, 0, 3) // bucket 12
  t.equal(w.sum(14_999, 5000, sums).total, 2, 'bucket 10 is in the window until 14.999 s')
  t.equal(w.sum(15_000, 5000, sums).total, 1, 'and out at 15.000 s')
  t.equal(w.sum(16_999, 5000, sums).total, 1)
  t.equal(w.sum(17_000, 5000, sums).total, 0)
  t.equal(w.sum(12_500, 1000, sums).total, 1, 'a shorter window sums fewer buckets')
  t.equal(w.sum(12_500, 3000, sums).n[0], 2, 'per-cell counts follow')
})

t.test('a bucket slot is reused, not grown; late events and labels are counted', async t => {
  const w = new SlidingWindow(layout, 1000, 3000, edges)
  const sums = new WindowSums(layout.cells, 10)
  const ids = Int16Array.from([1, 0])
  for (let s = 0; s < 100; s++) w.add(s * 1000, s * 1000, ids, 0, 0.9, 1, 1)
  t.equal(w.buckets.length, 3)
  t.equal(w.sum(99_000, 3000, sums).total, 3)
  w.add(95_000, 99_000, ids, 0, 0.9, 1, 1)
  t.equal(w.late, 1, 'an event older than the window is not counted, but noted')
  w.addLabel(98_000, 99_000, ids, 0, 0.9, 1, 1)
  w.addLabel(90_000, 99_000, ids, 0, 0.9, 1, 1)
  t.equal(w.lateLabels, 1)
  const s = w.sum(99_000, 3000, sums)
  t.equal(s.tp[1], 1, 'the label counts in its prediction\'s bucket')
  t.equal(w.sum(101_000, 3000, sums).tp[1], 0, 'and leaves with it')
})

t.test('the monitor report follows the fake clock', async t => {
  const clock = new FakeClock()
  const cfg = validateConfig({ monitor: { window_ms: 10_000, bucket_ms: 1000, min_samples: 2, report_min: 1, min_labelled: 1, refresh_ms: 0 } }).monitor
  const manifest = { groups: { sex: ['Female', 'Male'] }, threshold: 0.5 } as any
  const m = new Monitor([{ name: 'm', manifest, variants: ['v'] }], cfg, clock)
  const t0 = clock.wallNow()
  const F = Int16Array.from([0])
  const M = Int16Array.from([1])
  for (let i = 0; i < 4; i++) m.record(0, 0, t0, F, 0, 0.9, 1, 2)
  for (let i = 0; i < 4; i++) m.record(0, 0, t0, M, 0, i < 1 ? 0.9 : 0.1, i < 1 ? 1 : 0, 2)
  let r = m.report('m')!.variants.v!
  t.equal(r.attributes.sex!.gaps.demographic_parity_difference, 0.75)
  t.equal(r.attributes.sex!.gaps.demographic_parity_ratio, 0.25)
  t.same(r.attributes.sex!.gaps.selection_rate_extremes, ['Female', 'Male'])
  clock.advance(9_999 - (t0 % 1000))
  t.equal(m.report('m')!.variants.v!.n, 8, 'still inside the window')
  clock.advance(1)
  r = m.report('m')!.variants.v!
  t.equal(r.n, 0, 'gone exactly 10 buckets later')
  t.same(r.attributes.sex!.groups, {})
  t.equal(r.attributes.sex!.gaps.demographic_parity_difference, null, 'no groups, no gap')
})

t.test('small groups: insufficient below min_samples, suppressed below report_min', async t => {
  const clock = new FakeClock()
  const cfg = validateConfig({ monitor: { window_ms: 10_000, bucket_ms: 1000, min_samples: 10, report_min: 3, min_labelled: 1, refresh_ms: 0 } }).monitor
  const manifest = { groups: { race: ['A', 'B', 'C', 'D', 'E'] }, threshold: 0.5 } as any
  const m = new Monitor([{ name: 'm', manifest, variants: ['v'] }], cfg, clock)
  // A, B ok; C insufficient; D and E suppressed (3 rows together: no complementary group needed,
  // test/monitor/suppression.test.ts has that case)
  const sizes = [50, 40, 5, 2, 1]
  sizes.forEach((n, g) => { for (let i = 0; i < n; i++) m.record(0, 0, clock.wallNow(), Int16Array.from([g]), 0, 0.9, g === 2 ? 1 : i % 2, 1) })
  const a = m.report('m')!.variants.v!.attributes.race!
  t.same(Object.keys(a.groups), ['A', 'B', 'C'], 'D and E are not reported at all')
  t.equal(a.suppressed, 2)
  t.equal(a.groups.C!.status, 'insufficient')
  t.equal(a.groups.A!.status, 'ok')
  t.equal(a.gaps.demographic_parity_difference, 0, 'C (rate 1.0) is left out of the gap: A and B are both 0.5')
})
