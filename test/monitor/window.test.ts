// Window semantics with an injected clock: events leave the window exactly when they should, and
// labels count by when they arrived, for the feedback TTL.
import t from 'tap'
import { validateConfig } from '../../src/config/index.js'
import { Monitor, MonitorFeed, GroupLayout, SlidingWindow, WindowSums, closedCounts } from '../../src/monitor/index.js'
import { closedSince } from '../../src/monitor/window.js'
import { newcombe, wilson, zFor } from '../../src/monitor/stats.js'
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

t.test('addRows counts a request of 64 rows exactly as 64 single adds', async t => {
  const one = new SlidingWindow(layout, 1000, 5000, edges)
  const many = new SlidingWindow(layout, 1000, 5000, edges)
  const rows = 64
  const scores = Float32Array.from({ length: rows }, (_, r) => ((r * 37) % 100) / 100)
  scores[5] = NaN // a model's NaN is counted apart, in both
  const thresholds = Float64Array.from({ length: rows }, (_, r) => r % 3 === 0 ? 0.3 : 0.5)
  const requests: Array<{ ts: number, ids: Int16Array, latency: number }> = [
    { ts: 10_200, ids: Int16Array.from([0, 1]), latency: 3.7 },
    { ts: 10_900, ids: Int16Array.from([1, -1]), latency: 0.004 }, // no race: its cells stay empty
    { ts: 12_100, ids: Int16Array.from([1, 2]), latency: 250 },
    { ts: 4_000, ids: Int16Array.from([0, 0]), latency: 1 } // out of the window at 12.5 s: late
  ]
  for (const q of requests) {
    for (let r = 0; r < rows; r++) {
      const s = scores[r]!
      one.add(q.ts, 12_500, q.ids, 0, s, s >= thresholds[r]! ? 1 : 0, q.latency, 1 / rows)
    }
    many.addRows(q.ts, 12_500, q.ids, 0, scores, thresholds, rows, q.latency)
  }
  t.same([many.late, many.nonFinite], [one.late, one.nonFinite], 'late and non-finite rows')
  for (let k = 0; k < one.buckets.length; k++) {
    const a = one.buckets[k]!
    const b = many.buckets[k]!
    t.same([b.epoch, b.total, b.totalPositive, b.requests, b.dirty], [a.epoch, a.total, a.totalPositive, a.requests, a.dirty], `bucket slot ${k}`)
    t.same([...b.n], [...a.n]); t.same([...b.pos], [...a.pos])
    t.same([...b.scoreHist], [...a.scoreHist]); t.same([...b.latHist], [...a.latHist]); t.same([...b.latAll], [...a.latAll])
  }
})

t.test('a bucket slot is reused, not grown; late events and labels are counted', async t => {
  const w = new SlidingWindow(layout, 1000, 3000, edges, 10_000) // labels count for 10 s
  const sums = new WindowSums(layout.cells, 10)
  const ids = Int16Array.from([1, 0])
  for (let s = 0; s < 100; s++) w.add(s * 1000, s * 1000, ids, 0, 0.9, 1, 1)
  t.equal(w.buckets.length, 3)
  t.equal(w.labelBuckets.length, 10)
  t.equal(w.sum(99_000, 3000, sums).total, 3)
  w.add(95_000, 99_000, ids, 0, 0.9, 1, 1)
  t.equal(w.late, 1, 'an event older than the window is not counted, but noted')
  w.addLabel(99_000, 99_000, ids, 0, 0.9, 1, 1)
  w.addLabel(89_000, 99_000, ids, 0, 0.9, 1, 1)
  t.equal(w.lateLabels, 1, 'a label that arrived before the label window is noted, not counted')
  const s = w.sum(99_000, 3000, sums)
  t.equal(s.labels.tp[1], 1, 'the label counts from its arrival')
  t.equal(w.sum(102_000, 3000, sums).total, 0, 'the predictions have left the window')
  t.equal(w.sum(108_999, 3000, sums).labels.tp[1], 1, 'the label stays for the label window')
  t.equal(w.sum(109_000, 3000, sums).labels.tp[1], 0, 'and leaves it 10 s after it arrived')
})

t.test('labels count by arrival for the feedback TTL, however late they come', async t => {
  const clock = new FakeClock()
  // 5-minute prediction window, labels accepted (and counted) for an hour.
  const cfg = validateConfig({ monitor: { window_ms: 300_000, bucket_ms: 5_000, feedback_ttl_ms: 3_600_000, min_samples: 1, report_min: 1, min_labelled: 1, refresh_ms: 0 } }).monitor
  const manifest = { groups: { sex: ['Female', 'Male'] }, threshold: 0.5 } as any
  const m = new Monitor([{ name: 'm', manifest, variants: ['v'] }], cfg, clock)
  const feed = new MonitorFeed(m, 1000, cfg.feedback_ttl_ms, () => clock.wallNow())
  const t0 = clock.wallNow()
  const ev = (id: string, sex: string, decision: number): any => ({ id, model: 'm', variant: 'v', ts: clock.wallNow(), groups: { sex }, score: decision === 1 ? 0.9 : 0.1, decision, latency_ms: 1 })
  // Women: 4 predicted positive, men: 4 predicted negative; all are true positives.
  for (let i = 0; i < 4; i++) { feed.onPrediction(ev(`f${i}`, 'Female', 1)); feed.onPrediction(ev(`m${i}`, 'Male', 0)) }
  // Quick labels for one of each, the rest 40 minutes later: long after the predictions left the window.
  feed.onFeedback({ prediction_id: 'f0', label: 1, ts: clock.wallNow() })
  feed.onFeedback({ prediction_id: 'm0', label: 1, ts: clock.wallNow() })
  clock.advance(40 * 60_000)
  for (let i = 1; i < 4; i++) {
    feed.onFeedback({ prediction_id: `f${i}`, label: 1, ts: clock.wallNow() })
    feed.onFeedback({ prediction_id: `m${i}`, label: 1, ts: clock.wallNow() })
  }
  let r = m.report('m')!.variants.v!
  t.equal(r.n, 0, 'the predictions are out of the 5-minute window')
  t.equal(r.late_labels, 0, 'no label is late')
  // Groups show while they have rows in the window: fresh unlabelled predictions make them show.
  let k = 0
  const fresh = (): void => { for (let i = 0; i < 2; i++) { feed.onPrediction(ev(`g${k}`, 'Female', 1)); feed.onPrediction(ev(`n${k++}`, 'Male', 1)) } }
  fresh()
  r = m.report('m')!.variants.v!
  t.match(r.attributes.sex!.groups.Female, { positives: 4, tpr: 1 }, 'Female: all four labels count, the three late ones too')
  t.match(r.attributes.sex!.groups.Male, { positives: 4, tpr: 0 }, 'Male: all four')
  t.equal(r.attributes.sex!.gaps.equal_opportunity_difference, 1, 'the TPR gap of the late labels is seen')
  // An hour after the quick labels arrived they leave; the late ones stay until an hour after theirs.
  clock.advance(20 * 60_000 + 5_000 - (t0 % 5_000))
  fresh()
  t.match(m.report('m')!.variants.v!.attributes.sex!.groups.Female, { positives: 3 }, 'the quick label left an hour after it arrived')
  clock.advance(40 * 60_000)
  fresh()
  t.match(m.report('m')!.variants.v!.attributes.sex!.groups.Female, { labelled: 0, tpr: null }, 'and the late ones an hour after theirs')
})

t.test('closed reads count each label once, also with label buckets longer than buckets', async t => {
  // 1 s buckets, labels for 2 h: 7200 s / 720 = 10 s label buckets.
  const w = new SlidingWindow(layout, 1000, 5000, edges, 7_200_000)
  t.equal(w.labelBucketMs, 10_000)
  t.equal(w.labelBuckets.length, 720, 'the label ring is bounded')
  const ids = Int16Array.from([0, 0])
  const out = closedCounts(layout.cells)
  let after = -1
  let seen = 0
  for (let s = 0; s < 60; s++) {
    const now = 1_000_000 + s * 1000
    w.addLabel(now, now, ids, 0, 0.8, 1, 1) // one label a second
    closedSince(w, after, now + 500, out)
    after = out.last
    seen += out.tp[0]!
  }
  closedSince(w, after, 1_000_000 + 80_000, out)
  seen += out.tp[0]!
  t.equal(seen, 60, 'every label read exactly once')
})

t.test('TPR and FPR carry Wilson intervals, their gaps Newcombe intervals of the extreme groups', async t => {
  const clock = new FakeClock()
  const cfg = validateConfig({ monitor: { window_ms: 10_000, bucket_ms: 1000, min_samples: 2, report_min: 1, min_labelled: 1, refresh_ms: 0 } }).monitor
  const manifest = { groups: { sex: ['Female', 'Male'] }, threshold: 0.5 } as any
  const m = new Monitor([{ name: 'm', manifest, variants: ['v'] }], cfg, clock)
  const t0 = clock.wallNow()
  // Female: 3 of 4 positives found, 1 of 5 negatives flagged; Male: 1 of 4 and 2 of 5.
  const rows: Array<[number, number, number]> = [] // group, decision, label
  const add = (g: number, d: number, y: number, times: number): void => { for (let i = 0; i < times; i++) rows.push([g, d, y]) }
  add(0, 1, 1, 3); add(0, 0, 1, 1); add(0, 1, 0, 1); add(0, 0, 0, 4)
  add(1, 1, 1, 1); add(1, 0, 1, 3); add(1, 1, 0, 2); add(1, 0, 0, 3)
  for (const [g, d, y] of rows) {
    const groups = Int16Array.from([g])
    m.record(0, 0, t0, groups, 0, d === 1 ? 0.9 : 0.1, d, 1)
    m.recordLabel({ model: 0, variant: 0, decision: d, score: d === 1 ? 0.9 : 0.1, ts: t0, groups }, y)
  }
  const z = zFor(1 - cfg.confidence)
  const a = m.report('m')!.variants.v!.attributes.sex!
  t.same(a.groups.Female!.tpr_ci, wilson(3, 4, z), 'Female TPR: 3 of 4')
  t.same(a.groups.Female!.fpr_ci, wilson(1, 5, z), 'Female FPR: 1 of 5')
  t.same(a.groups.Male!.tpr_ci, wilson(1, 4, z))
  t.same(a.groups.Male!.fpr_ci, wilson(2, 5, z))
  t.equal(a.gaps.equal_opportunity_difference, 0.5)
  t.same(a.gaps.equal_opportunity_difference_ci, newcombe(3, 4, 1, 4, z), 'highest TPR minus lowest')
  t.same(a.gaps.false_positive_rate_difference_ci, newcombe(2, 5, 1, 5, z), 'highest FPR (Male) minus lowest')
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
