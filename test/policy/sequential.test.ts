// The sequential gap test alone: the boundary, the alpha spending, its false-action rate at the
// threshold over many seeded runs, and that it acts on a real gap and stays quiet without one.
import t from 'tap'
import { newcombe } from '../../src/monitor/index.js'
import { mixtureBoundary, SequentialGap, spentAlpha, type Counts } from '../../src/policy/index.js'

function rng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = a
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

/** Exact binomial draw (n small): the test must not lean on the simulation's approximation. */
function binomial (u: () => number, n: number, p: number): number {
  let k = 0
  for (let i = 0; i < n; i++) if (u() < p) k++
  return k
}

const settings = { alpha: 0.05, epochMs: 10, kept: 4, tunedRows: 500 }

t.test('the boundary is the normal-mixture one and the spending sums to alpha', async t => {
  const v = 100
  const rho = 5
  t.equal(mixtureBoundary(v, rho, 0.05), Math.sqrt(105 * (Math.log(105 / 5) + 2 * Math.log(20))))
  let sum = 0
  for (let j = 1; j <= 100_000; j++) sum += spentAlpha(0.05, j)
  t.ok(sum < 0.05 && sum > 0.05 * (1 - 1e-4), `Σ α/(j(j+1)) = ${sum}`)
})

t.test('at the threshold, the chance of ever acting stays within alpha', async t => {
  // 400 runs of 300 batches with the true gap exactly at the threshold (the worst null) and a
  // generous alpha, so a wrong boundary (e.g. a per-look z) would show as many more crossings.
  const alpha = 0.2
  const runs = 400
  let crossed = 0
  let perLook = 0
  for (let r = 0; r < runs; r++) {
    const u = rng(1000 + r)
    const gap = new SequentialGap(['a', 'b'], 0.1, false, { ...settings, alpha })
    const c: Counts[] = [{ k: 0, n: 40 }, { k: 0, n: 40 }]
    let acted = false
    let looked = false
    for (let i = 0; i < 300; i++) {
      c[0]!.k = binomial(u, 40, 0.45); c[1]!.k = binomial(u, 40, 0.35)
      if (!acted && gap.observe(i, c)) { crossed++; acted = true }
      // The per-look alternative: a fresh 80% interval on each batch alone.
      if (!looked && newcombe(c[0]!.k, 40, c[1]!.k, 40, 1.2816)[0] > 0.1) { perLook++; looked = true }
    }
  }
  // Binomial(400, 0.2) exceeds 100 with chance < 0.5%: a failure here is the test's fault.
  t.ok(crossed <= 100, `${crossed} of ${runs} runs acted (alpha ${alpha})`)
  t.ok(perLook > 300, `re-testing each batch at the same level acted in ${perLook} runs: the test tells them apart`)
})

t.test('a real gap is found; a small one past the threshold stays inconclusive', async t => {
  const u = rng(7)
  const big = new SequentialGap(['a', 'b'], 0.1, false, settings)
  const small = new SequentialGap(['a', 'b'], 0.1, false, settings)
  const c: Counts[] = [{ k: 0, n: 100 }, { k: 0, n: 100 }]
  const d: Counts[] = [{ k: 0, n: 20 }, { k: 0, n: 20 }]
  let at = -1
  for (let i = 0; i < 200; i++) {
    c[0]!.k = binomial(u, 100, 0.3); c[1]!.k = binomial(u, 100, 0.6) // b − a = 0.3
    if (big.observe(i, c) && at < 0) at = i
    d[0]!.k = binomial(u, 20, 0.4); d[1]!.k = binomial(u, 20, 0.52) // 0.12 on 20 rows a batch
    small.observe(i, d)
  }
  t.ok(at >= 0 && at < 50, `acted after ${at + 1} batches`)
  const st = big.status()
  t.equal(st.outcome, 'breach')
  const p = st.strongest!.pair!
  t.same([p.a, p.b], ['b', 'a'], 'the pair names the higher group first')
  t.ok(p.statistic > p.bound, 'the statistic is past its bound')
  t.ok(p.limit > 0.1, 'the lower confidence bound of the gap is past the threshold')
  t.equal(small.breached, false)
  t.equal(small.status().outcome, 'watching')
  t.ok(small.status().strongest!.pair!.limit < 0.1)
})

t.test('the ratio form acts when min/max is significantly below the threshold', async t => {
  const u = rng(9)
  const gap = new SequentialGap(['a', 'b'], 0.8, true, settings)
  const c: Counts[] = [{ k: 0, n: 200 }, { k: 0, n: 200 }]
  let acted = false
  for (let i = 0; i < 100 && !acted; i++) {
    c[0]!.k = binomial(u, 200, 0.5); c[1]!.k = binomial(u, 200, 0.25) // ratio 0.5
    acted = gap.observe(i, c)
  }
  t.ok(acted)
  const p = gap.status().strongest!.pair!
  t.ok(p.limit < 0.8, `upper bound of the ratio ${p.limit} is below the threshold`)
  t.ok(Math.abs(p.estimate - 0.5) < 0.1, `estimate ${p.estimate}`)
})

t.test('reset drops the evidence but the spending goes on', async t => {
  const gap = new SequentialGap(['a', 'b'], 0.1, false, settings)
  const c: Counts[] = [{ k: 10, n: 100 }, { k: 90, n: 100 }]
  for (let i = 0; i < 40 && !gap.observe(i * 10, c); i++);
  t.equal(gap.breached, true)
  const started = gap.testsStarted
  gap.reset()
  t.equal(gap.breached, false)
  t.equal(gap.status().outcome, 'no-evidence')
  gap.observe(1000, [{ k: 50, n: 100 }, { k: 50, n: 100 }])
  t.equal(gap.testsStarted, started + 1, 'the next test takes the next share of alpha')
  t.ok(gap.status().strongest!.alpha < spentAlpha(0.05, started) / 2)
})

t.test('status leaves out the groups it is told to hide, and a pair naming one', async t => {
  const gap = new SequentialGap(['a', 'b', 'c'], 0.1, false, settings)
  for (let s = 0; s < 5; s++) gap.observe(s * 1000, [{ k: 10, n: 100 }, { k: 60, n: 100 }, { k: 3, n: 3 }])
  const all = gap.status()
  t.same(Object.keys(all.strongest!.rows), ['a', 'b', 'c'])
  t.equal(all.strongest!.suppressed, 0)
  const hidden = gap.status(() => new Set([2]))
  t.same(Object.keys(hidden.strongest!.rows), ['a', 'b'], 'the hidden group has no rows entry')
  t.equal(hidden.strongest!.suppressed, 1)
  const pairHidden = all.strongest!.pair!.a === 'c' || all.strongest!.pair!.b === 'c'
  t.equal(hidden.strongest!.pair === null, pairHidden, 'the pair is dropped exactly when it names the hidden group')
  const noA = gap.status(() => new Set([0, 2]))
  t.equal(noA.strongest!.pair, null, 'every pair left names a hidden group')
  t.notOk(/"c"|"a"/.test(JSON.stringify(noA)), 'neither name appears')
})
