// An anytime-valid sequential test for a fairness gap: the rule acts only when a confidence
// sequence says the gap is past the threshold, and the chance that it EVER does so while the true
// gap stays at or below the threshold is at most alpha, however long the monitoring runs.
//
// Evidence comes in disjoint batches (closed monitor buckets, each row counted once). For one
// ordered pair of groups (a, b) a batch gives x = c_a·k_a/n_a − c_b·k_b/n_b − offset:
//   difference rules: c_a = c_b = 1, offset = threshold (breach: p_a − p_b > threshold);
//   demographic_parity_ratio: c_a = threshold, c_b = 1, offset = 0 (breach: p_b / p_a < threshold).
// Given the counts, x − E[x] is sub-Gaussian with variance proxy σ² = (c_a²/n_a + c_b²/n_b)/4
// (Hoeffding's lemma for each Bernoulli in [0, 1], whatever the per-row rates are). With
// inverse-variance weights w = 1 / (c_a²/n_a + c_b²/n_b), S = Σ w·x and V = Σ w²σ² = Σ w / 4.
// Robbins' normal mixture (Howard, Ramdas, McAuliffe & Sekhon 2021, eq. 14) over the centred sum
// is a nonnegative supermartingale; Ville's inequality bounds the chance it ever reaches 1/α by α,
// which is the event S ≥ B(V) = sqrt((V + ρ)(ln((V + ρ)/ρ) + 2 ln(1/α))). Under the null every
// batch has E[x] ≤ 0, so S is below the centred sum and crosses B with chance ≤ α too.
//
// A test started long ago carries its old evidence, so it would be slow to see a new drift.
// Tests therefore restart: test j (j = 1, 2, ...) starts at the j-th epoch and gets
// α_j = α / (j (j + 1)), which sums to α over all j — so the whole unbounded sequence of tests,
// over all compared pairs (each gets α_j / pairs), acts falsely with chance at most α. The
// last `kept` tests stay live; dropping a test can only lower the chance of acting.
// Pure TypeScript with no clock of its own: the caller passes time, so tests use a fake one.

export interface SequentialSettings {
  /** Chance of any false action over unbounded time (per rule and variant). */
  alpha: number
  /** A new test starts every epochMs of evidence time. */
  epochMs: number
  /** How many of the most recent tests stay live. */
  kept: number
  /** Rows per group at which the boundary is tightest (sets the mixture's ρ). */
  tunedRows: number
}

export const DEFAULT_SEQUENTIAL: SequentialSettings = { alpha: 0.05, epochMs: 60_000, kept: 16, tunedRows: 10_000 }

/** The mixture boundary at intrinsic time v (ρ: mixture precision, alpha: this test's share). */
export function mixtureBoundary (v: number, rho: number, alpha: number): number {
  return Math.sqrt((v + rho) * (Math.log((v + rho) / rho) + 2 * Math.log(1 / alpha)))
}

function boundarySquared (v: number, rho: number, logTerm: number): number {
  return (v + rho) * (Math.log((v + rho) / rho) + logTerm)
}

/** ρ that makes the boundary tightest near intrinsic time v* (Howard et al. 2021, eq. 15 area). */
export function mixtureRho (vStar: number, alpha: number): number {
  const l = 2 * Math.log(1 / alpha)
  return vStar / (l + Math.log(1 + l))
}

/** Test j's share of alpha: α / (j (j + 1)), summing to α over j = 1, 2, ... */
export function spentAlpha (alpha: number, j: number): number { return alpha / (j * (j + 1)) }

/** One group's counts in a batch: k successes of n. */
export interface Counts { k: number, n: number }

interface Live {
  /** 1-based index in the spending sequence. */
  j: number
  startedAt: number
  alpha: number
  rho: number
  /** 2 ln(1 / alpha). */
  logTerm: number
  /** Per ordered pair: Σ w·x, Σ w, and Σ w·r_a, Σ w·r_b (the weighted rates, for the estimate). */
  s: Float64Array
  w: Float64Array
  ra: Float64Array
  rb: Float64Array
  crossedAt: number
}

export interface PairEvidence {
  a: string
  b: string
  /** Weighted gap estimate since the test started (the rule's metric: difference or ratio margin). */
  estimate: number
  /** The statistic S, the boundary it must exceed, and the intrinsic time V. */
  statistic: number
  bound: number
  variance: number
  /** Confidence bound on the weighted gap: lower for differences, upper for the ratio. */
  limit: number
}

export interface SequentialStatus {
  outcome: 'breach' | 'no-evidence' | 'watching'
  alpha: number
  tests_started: number
  /**
   * The live test with the most evidence against the null (S − B largest). rows leaves out the
   * groups a report would hide (report_min, complementary suppression) and counts them in
   * suppressed; pair is null when it names one of them, since its rates would give that group's.
   */
  strongest: null | { test: number, started_at: string, alpha: number, rows: Record<string, number>, suppressed: number, pair: PairEvidence | null }
}

/** Which groups (by index) to leave out of a status, given each group's rows in the test. */
export type HideGroups = (rows: Float64Array) => ReadonlySet<number>

const HIDE_NONE: HideGroups = () => new Set()

/**
 * One rule's sequential evidence on one variant. groups are the attribute's group names;
 * `ratio` switches the statistic to the demographic-parity-ratio form.
 */
export class SequentialGap {
  private readonly live: Live[] = []
  private started = 0
  private nextStart = -Infinity
  private readonly pairs: Array<[number, number]> = []
  private readonly rows: Float64Array[] = []
  private crossed: { test: number, pair: number } | null = null
  private readonly ca: number
  private readonly offset: number

  constructor (
    readonly groups: readonly string[],
    readonly threshold: number,
    readonly ratio: boolean,
    readonly settings: SequentialSettings,
    /** Comparisons this test shares alpha with besides its pairs (equalized odds: TPR and FPR). */
    readonly families = 1
  ) {
    for (let a = 0; a < groups.length; a++) for (let b = 0; b < groups.length; b++) if (a !== b) this.pairs.push([a, b])
    this.ca = ratio ? threshold : 1
    this.offset = ratio ? 0 : threshold
  }

  get testsStarted (): number { return this.started }
  get breached (): boolean { return this.crossed !== null }

  /** Drops all evidence (after a decision moved the variant); the spending sequence continues. */
  reset (): void {
    this.live.length = 0
    this.rows.length = 0
    this.crossed = null
    this.nextStart = -Infinity
  }

  private startTest (now: number): void {
    const j = ++this.started
    const alpha = spentAlpha(this.settings.alpha, j) / (this.pairs.length * this.families)
    // v* for tunedRows per group: w = 1 / (c_a²/n + 1/n), V = w / 4.
    const vStar = this.settings.tunedRows / (this.ca * this.ca + 1) / 4
    this.live.push({ j, startedAt: now, alpha, rho: mixtureRho(vStar, alpha), logTerm: 2 * Math.log(1 / alpha), s: new Float64Array(this.pairs.length), w: new Float64Array(this.pairs.length), ra: new Float64Array(this.pairs.length), rb: new Float64Array(this.pairs.length), crossedAt: -1 })
    this.rows.push(new Float64Array(this.groups.length))
    if (this.live.length > this.settings.kept) { this.live.shift(); this.rows.shift() }
    this.nextStart = (Number.isFinite(this.nextStart) ? this.nextStart : now) + this.settings.epochMs
    if (this.nextStart <= now) this.nextStart = now + this.settings.epochMs
  }

  /** One disjoint batch of counts per group (same order as groups) at time now. */
  observe (now: number, counts: readonly Counts[]): boolean {
    // A crossing is final until reset: the evidence that acted stays on show.
    if (this.crossed !== null) return true
    if (now >= this.nextStart) this.startTest(now)
    for (let t = 0; t < this.live.length; t++) {
      const test = this.live[t]!
      const rows = this.rows[t]!
      for (let g = 0; g < counts.length; g++) rows[g]! += counts[g]!.n
      for (let p = 0; p < this.pairs.length; p++) {
        const [a, b] = this.pairs[p]!
        const ka = counts[a]!
        const kb = counts[b]!
        if (ka.n === 0 || kb.n === 0) continue
        const inv = this.ca * this.ca / ka.n + 1 / kb.n
        const w = 1 / inv
        const ra = ka.k / ka.n
        const rb = kb.k / kb.n
        const sp = test.s[p]! += w * (this.ca * ra - rb - this.offset)
        const wp = test.w[p]! += w
        test.ra[p]! += w * ra
        test.rb[p]! += w * rb
        // S ≤ 0 never crosses: skip the logarithm (most batches under the null).
        if (sp > 0 && sp * sp > boundarySquared(wp / 4, test.rho, test.logTerm)) {
          this.crossed = { test: t, pair: p }
          test.crossedAt = now
        }
      }
    }
    return this.crossed !== null
  }

  private evidence (test: Live, p: number): PairEvidence {
    const [a, b] = this.pairs[p]!
    const W = test.w[p]!
    const v = W / 4
    const bound = mixtureBoundary(v, test.rho, test.alpha)
    const s = test.s[p]!
    // In the rule's own terms, from the weighted rates R_a, R_b: the test holds
    // c_a R_a − R_b − offset > B / W, i.e. R_a − R_b > threshold + B / W for a difference and
    // R_b / R_a < threshold − B / (W R_a) for the ratio.
    const Ra = W > 0 ? test.ra[p]! / W : NaN
    const Rb = W > 0 ? test.rb[p]! / W : NaN
    const slack = W > 0 ? bound / W : Infinity
    const estimate = this.ratio ? (Ra > 0 ? Rb / Ra : NaN) : Ra - Rb
    const limit = this.ratio ? (Ra > 0 ? this.threshold - slack / Ra : NaN) : Ra - Rb - slack
    return { a: this.groups[a]!, b: this.groups[b]!, estimate, statistic: s, bound, variance: v, limit }
  }

  status (hide: HideGroups = HIDE_NONE): SequentialStatus {
    let best: { t: number, p: number, score: number } | null = null
    if (this.crossed !== null) best = { t: this.crossed.test, p: this.crossed.pair, score: Infinity }
    else {
      for (let t = 0; t < this.live.length; t++) {
        const test = this.live[t]!
        for (let p = 0; p < this.pairs.length; p++) {
          if (test.w[p]! === 0) continue
          const score = test.s[p]! - mixtureBoundary(test.w[p]! / 4, test.rho, test.alpha)
          if (best === null || score > best.score) best = { t, p, score }
        }
      }
    }
    const outcome = this.crossed !== null ? 'breach' : best === null ? 'no-evidence' : 'watching'
    if (best === null) return { outcome, alpha: this.settings.alpha, tests_started: this.started, strongest: null }
    const test = this.live[best.t]!
    const counted = this.rows[best.t]!
    const hidden = hide(counted)
    const rows: Record<string, number> = {}
    this.groups.forEach((g, i) => { if (!hidden.has(i)) rows[g] = counted[i]! })
    const [a, b] = this.pairs[best.p]!
    const pair = hidden.has(a) || hidden.has(b) ? null : this.evidence(test, best.p)
    return { outcome, alpha: this.settings.alpha, tests_started: this.started, strongest: { test: test.j, started_at: new Date(test.startedAt).toISOString(), alpha: test.alpha, rows, suppressed: hidden.size, pair } }
  }
}
