// The cost model's estimate is a quantile (by default the median) of recent runs: one slow run (a
// start-up hiccup, a busy neighbour) does not move it, a lasting change does within half the window
// (for the median). Times are injected.
import t from 'tap'
import { COST_SAMPLES, expectedMs, INLINE_QUANTILE, learn, newRunCost, seed, SMALL_RUN } from '../../src/models/run-cost.js'

t.test('one outlier moves neither part', async t => {
  const c = newRunCost()
  for (let i = 0; i < 6; i++) { learn(c, 1, 0.2); learn(c, 64, 0.2 + 63 * 0.02) }
  t.ok(Math.abs(expectedMs(c, 1) - 0.2) < 1e-3, `one row ${expectedMs(c, 1)}`)
  t.ok(Math.abs(expectedMs(c, 64) - 1.46) < 1e-3, `64 rows ${expectedMs(c, 64)}`)
  const { fixedMs, rowMs } = c
  learn(c, 1, 12)
  learn(c, 64, 50)
  // The median moves to a neighbouring sample at most (the first ones differ by a few µs).
  t.ok(Math.abs(c.fixedMs - fixedMs) < 1e-3, `a 12 ms one-row run is ignored (${c.fixedMs})`)
  t.ok(Math.abs(c.rowMs - rowMs) < 1e-4, `a 50 ms batch is ignored (${c.rowMs})`)
})

t.test('the estimate is the exact median of the samples, odd and even counts, in any arrival order', async t => {
  const c = newRunCost()
  // One-row runs with no per-row cost yet: each sample is the run's own time.
  const times = [5, 1, 4, 2, 3, 9, 0.5]
  const want = [5, 3, 4, 3, 3, 3.5, 3]
  times.forEach((ms, i) => { learn(c, 1, ms); t.equal(c.fixedMs, want[i], `after ${times.slice(0, i + 1).join(', ')}`) })
  // The ring wraps: after COST_SAMPLES more samples of 7 only 7s are left.
  for (let i = 0; i < COST_SAMPLES; i++) learn(c, 1, 7)
  t.equal(c.fixedMs, 7)
})

t.test('a lasting change takes over once it is most of the window, and old samples leave it', async t => {
  const c = newRunCost()
  seed(c, 0.1, 0.01)
  let n = 0
  while (c.fixedMs < 0.5 && n < 2 * COST_SAMPLES) { learn(c, 1, 0.5 + 0.01); n++ }
  t.equal(n, Math.ceil(COST_SAMPLES / 2), `the estimate moved after ${n} of ${COST_SAMPLES} samples`)
  t.ok(Math.abs(expectedMs(c, 1) - 0.51) < 1e-9)
})

t.test('batches of SMALL_RUN rows or fewer teach the fixed part, larger ones the per-row part', async t => {
  const c = newRunCost()
  learn(c, SMALL_RUN, 1)
  t.equal(c.fixedMs, 1)
  t.equal(c.rowMs, 0)
  learn(c, SMALL_RUN + 1, 1 + 5 * 0.1)
  t.ok(Math.abs(c.rowMs - 0.1) < 1e-9)
  t.equal(c.fixedRuns, 1)
  t.equal(c.sizedRuns, 1)
})

t.test('a lower-quartile cost follows the runs that were not preempted, a median the typical one', async t => {
  // Runs of 0.1 ms of which more than half were stretched by preemption to 0.5 ms or more.
  const times = [0.1, 0.55, 0.1, 0.6, 0.5, 0.1, 0.7, 0.52, 0.1, 0.5, 0.58, 0.1, 0.66, 0.5, 0.1]
  const q = newRunCost(INLINE_QUANTILE)
  const m = newRunCost()
  for (const ms of times) { learn(q, 1, ms); learn(m, 1, ms) }
  t.equal(q.fixedMs, 0.1, 'the lower quartile is the unpreempted run')
  t.equal(m.fixedMs, 0.5, 'the median is a preempted one')
  // Interpolated between order statistics: a quarter of the way over 4 sorted samples 1..4.
  const i = newRunCost(INLINE_QUANTILE)
  for (const ms of [4, 1, 3, 2]) learn(i, 1, ms)
  t.equal(i.fixedMs, 1.75)
  t.throws(() => newRunCost(1.5), /quantile/)
})

t.test('the cost remembers the largest batch it learned from, past which its estimate is extrapolated', async t => {
  const c = newRunCost(INLINE_QUANTILE)
  t.equal(c.maxRows, 0)
  learn(c, 1, 0.1)
  learn(c, 64, 0.1)
  learn(c, 8, 0.1)
  t.equal(c.maxRows, 64)
  // A per-row part of 0 (the 64-row run cost what one row did) would make any batch look cheap.
  t.equal(c.rowMs, 0)
  t.equal(expectedMs(c, 1_000_000), expectedMs(c, 1))
})
