// How often the policy engine acts when it should not, and how fast it acts when it should:
// 30 simulated days at 100 labelled predictions/s (two groups, 50/s each) whose true
// demographic-parity gap is 0.01 below the rule's threshold, then a step to threshold + 0.05.
// Fake time, no HTTP, no Monitor rows: each 5 s bucket draws its per-group counts (Poisson
// arrivals, binomial selections; normal approximations with continuity correction — 259M rows
// per seed would not fit the 2-minute budget). Both engines see the same draws:
//   today's: the per-window rule — evaluateFairness's test (Newcombe at the policy's confidence;
//            re-implemented without allocations, checked against it on each seed's first
//            20,000 evaluations) on the last 5 minutes every 5 s, acting after 3 consecutive breaches, inconclusive keeping
//            the streak, 60 s cooldown;
//   sequential: SequentialGap (the shipped default settings) fed each closed bucket once.
// After an action each engine resets its evidence as the engine does (applied()), and the
// simulation goes on with the same truth. Seeds run in two child processes (the machine's cores).
// Usage: npm run sim:alarms [-- --seeds 20 --days 30 --threads 2]
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { newcombe } from '../src/monitor/index.js'
import { evaluateFairness, policySchema, SequentialGap, sequentialSettingsOf } from '../src/policy/index.js'
import type { VariantReport } from '../src/monitor/index.js'

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : dflt
}
const SEEDS = arg('seeds', 20)
const DAYS = arg('days', 30)
const RATE = 100 // labelled predictions per second, both groups
const BUCKET_MS = 5_000
const WINDOW_BUCKETS = 60 // 5 minutes
const THRESHOLD = 0.1
const BASE_RATE = 0.35
const STEP = 0.05
const MAX_WAIT_MS = 6 * 3_600_000

const policy = policySchema.parse({
  model: 'm', variants: ['full', 'small'],
  fairness: [{ name: 'dp', metric: 'demographic_parity_difference', attribute: 'g', threshold: THRESHOLD, action: { type: 'rollback' } }]
})
const rule = policy.fairness[0]!

/** mulberry32: a small seeded generator, so a seed is one reproducible run. */
function rng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function normal (u: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u())
}

function binomial (u: () => number, n: number, p: number): number {
  if (n <= 0) return 0
  const k = Math.round(n * p + Math.sqrt(n * p * (1 - p)) * normal(u))
  return k < 0 ? 0 : k > n ? n : k
}

function poisson (u: () => number, mean: number): number {
  const k = Math.round(mean + Math.sqrt(mean) * normal(u))
  return k < 0 ? 0 : k
}

/** Today's engine: sliding 5-minute sums, evaluateFairness, hysteresis 3, cooldown. */
class WindowEngine {
  private readonly ring = new Float64Array(WINDOW_BUCKETS * 4)
  private at = 0
  private readonly sum = new Float64Array(4)
  private streak = 0
  private lastActionAt = -Infinity
  private readonly z = 1.959963984540054 // zFor(1 − 0.95, 1 comparison)
  private readonly report = {
    attributes: { g: { groups: { a: { n: 0, selection_rate: 0 }, b: { n: 0, selection_rate: 0 } } } }
  }

  bucket (ka: number, na: number, kb: number, nb: number): void {
    const o = this.at * 4
    for (let i = 0; i < 4; i++) this.sum[i]! -= this.ring[o + i]!
    this.ring[o] = ka; this.ring[o + 1] = na; this.ring[o + 2] = kb; this.ring[o + 3] = nb
    for (let i = 0; i < 4; i++) this.sum[i]! += this.ring[o + i]!
    this.at = (this.at + 1) % WINDOW_BUCKETS
  }

  private checked = 0

  /** gapResult's rule for two groups, without its allocations (checked against it below). */
  private outcome (): 'pass' | 'breach' | 'inconclusive' {
    const [ka, na, kb, nb] = this.sum as unknown as [number, number, number, number]
    if (na < rule.min_samples || nb < rule.min_samples) return 'inconclusive'
    const aHigh = ka / na >= kb / nb
    const ci = aHigh ? newcombe(ka, na, kb, nb, this.z) : newcombe(kb, nb, ka, na, this.z)
    const value = Math.abs(ka / na - kb / nb)
    return ci[0] > rule.threshold ? 'breach' : value <= rule.threshold ? 'pass' : 'inconclusive'
  }

  evaluate (now: number): boolean {
    const outcome = this.outcome()
    // The first evaluations of every seed also go through the engine's own evaluateFairness.
    if (this.checked < 20_000) {
      this.checked++
      const g = this.report.attributes.g.groups
      g.a.n = this.sum[1]!; g.a.selection_rate = this.sum[1]! > 0 ? this.sum[0]! / this.sum[1]! : 0
      g.b.n = this.sum[3]!; g.b.selection_rate = this.sum[3]! > 0 ? this.sum[2]! / this.sum[3]! : 0
      const r = evaluateFairness(rule, this.report as unknown as VariantReport, this.z)
      if (r.outcome !== outcome) throw new Error(`the simulation's window rule disagrees with evaluateFairness: ${outcome} vs ${r.outcome}`)
    }
    this.streak = outcome === 'breach' ? this.streak + 1 : outcome === 'pass' ? 0 : this.streak
    if (this.streak < policy.hysteresis || now - this.lastActionAt < policy.cooldown_ms) return false
    this.lastActionAt = now
    this.streak = 0
    return true
  }
}

class SequentialEngine {
  private readonly gap = new SequentialGap(['a', 'b'], THRESHOLD, false, sequentialSettingsOf(policy))
  private lastActionAt = -Infinity
  private readonly counts = [{ k: 0, n: 0 }, { k: 0, n: 0 }]

  bucket (now: number, ka: number, na: number, kb: number, nb: number): void {
    this.counts[0]!.k = ka; this.counts[0]!.n = na; this.counts[1]!.k = kb; this.counts[1]!.n = nb
    this.gap.observe(now, this.counts)
  }

  evaluate (now: number): boolean {
    if (!this.gap.breached || now - this.lastActionAt < policy.cooldown_ms) return false
    this.lastActionAt = now
    this.gap.reset()
    return true
  }
}

interface SeedResult { falseWindow: number, falseSequential: number, waitWindow: number, waitSequential: number }

function runSeed (seed: number): SeedResult {
  const u = rng(seed * 2654435761)
  const win = new WindowEngine()
  const seq = new SequentialEngine()
  const nullEnd = DAYS * 86_400_000
  const stepAt = nullEnd + Math.floor(u() * 60_000)
  const res: SeedResult = { falseWindow: 0, falseSequential: 0, waitWindow: NaN, waitSequential: NaN }
  const perGroup = RATE / 2 * BUCKET_MS / 1000
  for (let now = BUCKET_MS; ; now += BUCKET_MS) {
    // Rows of the bucket that just closed; the step applies to buckets after stepAt.
    const gap = now - BUCKET_MS >= stepAt ? THRESHOLD + STEP : THRESHOLD - 0.01
    const na = poisson(u, perGroup)
    const nb = poisson(u, perGroup)
    const ka = binomial(u, na, BASE_RATE + gap / 2)
    const kb = binomial(u, nb, BASE_RATE - gap / 2)
    win.bucket(ka, na, kb, nb)
    seq.bucket(now, ka, na, kb, nb)
    const w = win.evaluate(now)
    const s = seq.evaluate(now)
    if (now <= stepAt) {
      if (w) res.falseWindow++
      if (s) res.falseSequential++
      continue
    }
    if (w && Number.isNaN(res.waitWindow)) res.waitWindow = now - stepAt
    if (s && Number.isNaN(res.waitSequential)) res.waitSequential = now - stepAt
    if ((!Number.isNaN(res.waitWindow) && !Number.isNaN(res.waitSequential)) || now - stepAt > MAX_WAIT_MS) break
  }
  return res
}

function quantile (xs: number[], q: number): number {
  const s = xs.filter(x => !Number.isNaN(x)).sort((a, b) => a - b)
  if (s.length === 0) return NaN
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!
}

const only = process.argv.indexOf('--run-seeds')
if (only > 0) {
  for (const seed of process.argv[only + 1]!.split(',').map(Number)) process.send!({ seed, r: runSeed(seed) })
} else await main()

async function main (): Promise<void> {
const started = performance.now()
const threads = Math.max(1, Math.min(SEEDS, arg('threads', 2)))
const bySeed = new Map<number, SeedResult>()
await Promise.all(Array.from({ length: threads }, async (_, w) => {
  const seeds: number[] = []
  for (let seed = 1 + w; seed <= SEEDS; seed += threads) seeds.push(seed)
  const worker = fork(fileURLToPath(import.meta.url), [...process.argv.slice(2), '--run-seeds', seeds.join(',')])
  worker.on('message', ({ seed, r }: { seed: number, r: SeedResult }) => {
    bySeed.set(seed, r)
    console.log(`seed ${seed}: false actions today=${r.falseWindow} sequential=${r.falseSequential}; time to act after the step today=${(r.waitWindow / 1000).toFixed(0)} s sequential=${(r.waitSequential / 1000).toFixed(0)} s`)
  })
  await new Promise<void>((resolve, reject) => { worker.on('error', reject); worker.on('exit', code => { code === 0 ? resolve() : reject(new Error(`worker exited with ${code}`)) }) })
}))
const results = [...bySeed.entries()].sort((a, b) => a[0] - b[0]).map(e => e[1])
const sum = (f: (r: SeedResult) => number): number => results.reduce((a, r) => a + f(r), 0)
const seedsWith = (f: (r: SeedResult) => number): number => results.filter(r => f(r) > 0).length
const fmt = (ms: number): string => `${(ms / 1000).toFixed(0)} s`
const out = {
  seeds: SEEDS,
  days: DAYS,
  rate_per_s: RATE,
  threshold: THRESHOLD,
  null_gap: +(THRESHOLD - 0.01).toFixed(4),
  step_gap: +(THRESHOLD + STEP).toFixed(4),
  alpha: policy.sequential.alpha,
  today: { false_actions: sum(r => r.falseWindow), seeds_with_a_false_action: seedsWith(r => r.falseWindow), time_to_act_median_s: quantile(results.map(r => r.waitWindow), 0.5) / 1000, time_to_act_p95_s: quantile(results.map(r => r.waitWindow), 0.95) / 1000 },
  sequential: { false_actions: sum(r => r.falseSequential), seeds_with_a_false_action: seedsWith(r => r.falseSequential), time_to_act_median_s: quantile(results.map(r => r.waitSequential), 0.5) / 1000, time_to_act_p95_s: quantile(results.map(r => r.waitSequential), 0.95) / 1000 },
  wall_s: (performance.now() - started) / 1000
}
console.log(`\n${SEEDS} seeds x ${DAYS} days at ${RATE}/s, true gap ${out.null_gap} (threshold ${THRESHOLD}):`)
console.log(`  today's engine:  ${out.today.false_actions} automatic actions (${out.today.seeds_with_a_false_action} of ${SEEDS} seeds with one); after the step to ${out.step_gap}: median ${fmt(out.today.time_to_act_median_s * 1000)}, p95 ${fmt(out.today.time_to_act_p95_s * 1000)}`)
console.log(`  sequential:      ${out.sequential.false_actions} automatic actions (${out.sequential.seeds_with_a_false_action} of ${SEEDS} seeds with one; bound: alpha = ${out.alpha} per seed); after the step: median ${fmt(out.sequential.time_to_act_median_s * 1000)}, p95 ${fmt(out.sequential.time_to_act_p95_s * 1000)}`)
console.log(`  wall time ${out.wall_s.toFixed(1)} s`)
console.log(JSON.stringify(out))
}
