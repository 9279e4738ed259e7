// Shard summaries with a fake clock: the merge of partition monitors' summaries reports exactly
// what one monitor over all the events reports; a missing or stale partition makes the report
// incomplete (naming it) instead of wrong; a rebuilt partition's partial first bucket does not
// replace the whole one the previous owner published.
import t from 'tap'
import { validateConfig } from '../../src/config/index.js'
import { decodeSummary, encodeSummaries, Monitor, MonitorFeed, SummaryMerge, type FairnessReport } from '../../src/monitor/index.js'
import { FakeClock } from '../helpers/fake-clock.js'

const cfg = validateConfig({ monitor: { window_ms: 60_000, bucket_ms: 5_000, feedback_ttl_ms: 120_000, min_samples: 1, report_min: 1, min_labelled: 1, refresh_ms: 0, intersections: [['sex', 'race']] } }).monitor
const manifest = { groups: { sex: ['Female', 'Male'], race: ['A', 'B', 'C'] }, threshold: 0.5 } as any
const models = [{ name: 'm', manifest, variants: ['v1', 'v2'] }]
const P = 3

function rng (seed: number): () => number {
  let s = seed
  return () => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return s / 2 ** 32 }
}

/** A single monitor and P partition monitors fed the same events (partition = id mod P). */
function fleet (clock: FakeClock) {
  const single = new Monitor(models, cfg, clock)
  const singleFeed = new MonitorFeed(single, 10_000, cfg.feedback_ttl_ms, () => clock.wallNow())
  const parts = Array.from({ length: P }, () => { const m = new Monitor(models, cfg, clock); return { m, feed: new MonitorFeed(m, 10_000, cfg.feedback_ttl_ms, () => clock.wallNow()) } })
  const rand = rng(7)
  let next = 0
  const feedSome = (n: number): void => {
    for (let i = 0; i < n; i++) {
      const id = next++
      // Scores on a 1/1024 grid and rows of 1, 2 or 4: every float sum is exact in any order.
      const score = Math.floor(rand() * 1024) / 1024
      const ev: any = { id: `p${id}`, model: 'm', variant: rand() < 0.5 ? 'v1' : 'v2', ts: clock.wallNow(), groups: { sex: rand() < 0.4 ? 'Female' : 'Male', race: ['A', 'B', 'C'][Math.floor(rand() * 3)] }, score, decision: score >= 0.5 ? 1 : 0, latency_ms: 1 + rand() * 50, request_rows: [1, 2, 4][Math.floor(rand() * 3)] }
      singleFeed.onPrediction(ev)
      parts[id % P]!.feed.onPrediction(ev)
      if (rand() < 0.5) {
        const fb = { prediction_id: `p${id}`, label: (rand() < 0.5 ? 1 : 0) as 0 | 1, ts: clock.wallNow() }
        singleFeed.onFeedback(fb)
        parts[id % P]!.feed.onFeedback(fb)
      }
      clock.advance(7)
    }
  }
  return { single, parts, feedSome }
}

const strip = (r: FairnessReport | undefined): unknown => { const { generated_at: _g, ...rest } = r!; return rest }

function publish (parts: Array<{ m: Monitor }>, merge: SummaryMerge, clock: FakeClock, all = false, only?: number[]): number {
  let records = 0
  parts.forEach((p, partition) => {
    if (only !== undefined && !only.includes(partition)) return
    const r = encodeSummaries(p.m, { partition, owner: `o${partition}`, since: 0, at: clock.wallNow(), caughtUp: true, partitions: P }, all)
    for (const rec of r.records) { merge.apply(rec.value); records++ }
  })
  return records
}

t.test('the merged summaries of partition monitors report what one monitor over every event reports', async t => {
  const clock = new FakeClock()
  const { single, parts, feedSome } = fleet(clock)
  const merged = new Monitor(models, cfg, clock)
  const merge = new SummaryMerge(merged, clock, 15_000)
  for (let round = 0; round < 20; round++) {
    feedSome(500) // 3.5 s of events per round
    publish(parts, merge, clock)
  }
  const r = merged.report('m')!
  t.ok(r.variants.v1!.n > 1000, `counts to compare (${r.variants.v1!.n} rows of v1)`)
  t.ok(r.variants.v1!.attributes.sex!.groups.Female!.labelled > 100, 'and labels')
  t.same(strip(r), strip(single.report('m')), 'every count, rate, gap and interval equal')
  t.equal(r.incomplete, undefined, 'every partition fresh: not incomplete')
  // Nothing changed: only the metas go out again.
  t.equal(publish(parts, merge, clock), P, 'a publish with nothing new sends one meta per partition')
  // After the window has moved on, old buckets leave both the same way.
  clock.advance(40_000)
  feedSome(100)
  publish(parts, merge, clock)
  t.same(strip(merged.report('m')), strip(single.report('m')), 'still equal after buckets left the window')
})

t.test('a missing or stale partition makes the report incomplete, naming it', async t => {
  const clock = new FakeClock()
  const { parts, feedSome } = fleet(clock)
  const merged = new Monitor(models, cfg, clock)
  const merge = new SummaryMerge(merged, clock, 15_000)
  merge.expect(P)
  t.same(merged.report('m')!.incomplete, { partitions: [0, 1, 2] }, 'no summary yet: every partition missing')
  feedSome(300)
  publish(parts, merge, clock, false, [0, 2])
  t.same(merged.report('m')!.incomplete, { partitions: [1] }, 'partition 1 never published')
  publish(parts, merge, clock, false, [1])
  t.equal(merged.report('m')!.incomplete, undefined, 'all three in')
  clock.advance(10_000)
  publish(parts, merge, clock, false, [0, 1])
  clock.advance(5_001)
  t.same(merged.report('m')!.incomplete, { partitions: [2] }, 'partition 2 silent for more than summary_stale_ms')
  const notReady = encodeSummaries(parts[2]!.m, { partition: 2, owner: 'new', since: clock.wallNow() - 60_000, at: clock.wallNow(), caughtUp: false, partitions: P }, false)
  for (const rec of notReady.records) merge.apply(rec.value)
  t.same(merged.report('m')!.incomplete, { partitions: [2] }, 'a new owner still rebuilding is not complete either')
})

t.test('a rebuilt partition does not replace a whole bucket with its tail', async t => {
  const clock = new FakeClock()
  const merged = new Monitor(models, cfg, clock)
  const merge = new SummaryMerge(merged, clock, 15_000)
  const before = clock.wallNow()
  const old = new Monitor(models, cfg, clock)
  const ids = Int16Array.from([0, 1])
  // Old owner: 10 rows in the current bucket.
  for (let i = 0; i < 10; i++) old.record(0, 0, clock.wallNow(), ids, 0, 0.75, 1, 2)
  for (const r of encodeSummaries(old, { partition: 0, owner: 'a', since: before - 60_000, at: clock.wallNow(), caughtUp: true, partitions: 1 }, false).records) merge.apply(r.value)
  t.equal(merged.report('m')!.variants.v1!.n, 10)
  // New owner rebuilt from inside that bucket: it has 4 of the rows.
  const fresh = new Monitor(models, cfg, clock)
  for (let i = 0; i < 4; i++) fresh.record(0, 0, clock.wallNow(), ids, 0, 0.75, 1, 2)
  const bucketStart = Math.floor(clock.wallNow() / cfg.bucket_ms) * cfg.bucket_ms
  for (const r of encodeSummaries(fresh, { partition: 0, owner: 'b', since: bucketStart + 1, at: clock.wallNow(), caughtUp: true, partitions: 1 }, true).records) merge.apply(r.value)
  t.equal(merged.report('m')!.variants.v1!.n, 10, 'the old owner\'s whole bucket is kept')
  // The next bucket the new owner has from its start: it counts.
  clock.advance(cfg.bucket_ms)
  for (let i = 0; i < 3; i++) fresh.record(0, 0, clock.wallNow(), ids, 0, 0.75, 1, 2)
  for (const r of encodeSummaries(fresh, { partition: 0, owner: 'b', since: bucketStart + 1, at: clock.wallNow(), caughtUp: true, partitions: 1 }, false).records) merge.apply(r.value)
  t.equal(merged.report('m')!.variants.v1!.n, 13)
})

t.test('malformed records and other layouts are refused and counted', async t => {
  const clock = new FakeClock()
  const merged = new Monitor(models, cfg, clock)
  const merge = new SummaryMerge(merged, clock, 15_000)
  merge.apply(Buffer.from('nonsense'))
  merge.apply(Buffer.alloc(2))
  const other = new Monitor([{ name: 'm', manifest: { groups: { sex: ['Female', 'Male'] }, threshold: 0.5 } as any, variants: ['v1'] }], cfg, clock)
  other.record(0, 0, clock.wallNow(), Int16Array.from([0]), 0, 0.5, 1, 1)
  const recs = encodeSummaries(other, { partition: 0, owner: 'x', since: 0, at: clock.wallNow(), caughtUp: true, partitions: 1 }, false).records
  for (const r of recs) merge.apply(r.value)
  t.equal(merge.rejected, 2 + recs.length, 'two malformed, and every record of a layout with other cells')
  t.equal(merged.report('m')!.variants.v1!.n, 0)
  // A truncated body is refused, not read as zeros.
  const good = new Monitor(models, cfg, clock)
  good.record(0, 0, clock.wallNow(), Int16Array.from([0, 1]), 0, 0.5, 1, 1)
  const rec = encodeSummaries(good, { partition: 0, owner: 'y', since: 0, at: clock.wallNow(), caughtUp: true, partitions: 1 }, false).records[0]!
  t.throws(() => decodeSummary(rec.value.subarray(0, rec.value.length - 3)))
  t.notMatch(rec.value.toString('latin1'), /Female|Male/, 'no group label in a summary record')
})
