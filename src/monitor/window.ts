// A sliding time window of fixed buckets for one (model, variant). Each bucket holds, per cell
// (attribute × group), typed-array counters: rows, positive decisions, a score histogram on the
// baseline's bin edges and a log-spaced latency histogram. Confusion counts from joined labels
// live in a second ring of their own (see below). An update touches a constant number of
// counters; buckets are reused in rings, so memory does not grow with traffic.
//
// Semantics: bucket k holds events with floor(ts / bucketMs) = k. At time now the window is the
// current bucket and the B − 1 before it (B = windowMs / bucketMs): an event leaves the window
// when floor(now / bucketMs) − floor(ts / bucketMs) reaches B.
//
// Labels are keyed by when the label ARRIVED, in a window sized by the feedback TTL (default 1 h),
// not by their prediction's bucket: feedback may come up to the TTL after its prediction, and a
// label counted only while its prediction is in the 5-minute window would leave TPR and FPR
// measuring only the predictions labelled within minutes (issue 17). Label bucket j holds labels
// that arrived in floor(t / labelBucketMs) = j; labelBucketMs is a whole number of bucketMs, so
// the sequential tests' closed-bucket reads (closedSince) line up with the prediction buckets.
import type { GroupLayout } from './layout.js'

/** Latency bins: 0.01 ms × 1.25^i, 80 bins reach ~ 0.01 ms × 5.7e7 ≈ 9.5 min. */
export const LAT_BINS = 80
const LAT_BASE_MS = 0.01
const LAT_GROWTH = 1.25
const LOG_GROWTH = Math.log(LAT_GROWTH)

export function latencyBin (ms: number): number {
  if (!(ms > LAT_BASE_MS)) return 0
  const b = Math.floor(Math.log(ms / LAT_BASE_MS) / LOG_GROWTH)
  return b >= LAT_BINS ? LAT_BINS - 1 : b
}

/** Upper edge (ms) of latency bin b. */
export function latencyEdge (b: number): number { return LAT_BASE_MS * LAT_GROWTH ** (b + 1) }

/**
 * A request's share as whole units: lcm(1..16), so the share of a request of up to 16 rows is
 * exact (larger ones round by less than 1e-6 of a request per row).
 */
export const SHARE_UNIT = 720_720

/** At most this many label buckets: a long TTL gets longer label buckets, not more of them. */
export const MAX_LABEL_BUCKETS = 720

/** Confusion counts of joined labels, per cell. */
export class Confusion {
  readonly tp: Uint32Array
  readonly fp: Uint32Array
  readonly tn: Uint32Array
  readonly fn: Uint32Array
  /** Sum of scores of labelled rows (calibration: mean score vs observed rate). */
  readonly labelledScore: Float64Array

  constructor (cells: number) {
    this.tp = new Uint32Array(cells)
    this.fp = new Uint32Array(cells)
    this.tn = new Uint32Array(cells)
    this.fn = new Uint32Array(cells)
    this.labelledScore = new Float64Array(cells)
  }

  clear (): void {
    this.tp.fill(0); this.fp.fill(0); this.tn.fill(0); this.fn.fill(0); this.labelledScore.fill(0)
  }

  add (o: Confusion): void {
    addInto(this.tp, o.tp); addInto(this.fp, o.fp); addInto(this.tn, o.tn); addInto(this.fn, o.fn); addInto(this.labelledScore, o.labelledScore)
  }
}

/** The labels that arrived in one label bucket. */
export class LabelBucket extends Confusion {
  epoch = -1
  /** Changed since a shard last published it (summary.ts). */
  dirty = false

  reset (epoch: number): void {
    this.epoch = epoch
    this.clear()
  }
}

export class Bucket {
  epoch = -1
  /** Changed since a shard last published it (summary.ts). */
  dirty = false
  total = 0
  totalPositive = 0
  /**
   * Requests, in SHARE_UNITs: each row adds its share, 1 / (rows of its request), so a request
   * counts once. Whole units so that sums are exact in any order: a shard merge adds the same
   * shares in another order than a single monitor and must not round a request differently.
   */
  requests = 0
  readonly n: Uint32Array
  readonly pos: Uint32Array
  readonly scoreHist: Uint32Array
  readonly latHist: Uint32Array
  /**
   * Latency of every request (the latency SLO), in SHARE_UNITs: each row adds its share of its request, so one
   * 1024-row request weighs what a one-row request does, not 1024 of them (issue 14, defect 4).
   */
  readonly latAll: Float64Array

  constructor (cells: number, scoreBins: number) {
    this.n = new Uint32Array(cells)
    this.pos = new Uint32Array(cells)
    this.scoreHist = new Uint32Array(cells * scoreBins)
    this.latHist = new Uint32Array(cells * LAT_BINS)
    this.latAll = new Float64Array(LAT_BINS)
  }

  reset (epoch: number): void {
    this.epoch = epoch
    this.total = 0
    this.totalPositive = 0
    this.requests = 0
    this.n.fill(0); this.pos.fill(0)
    this.scoreHist.fill(0); this.latHist.fill(0); this.latAll.fill(0)
  }
}

/** Sums of a window's buckets, and in `labels` of its label window. */
export class WindowSums extends Bucket {
  readonly labels: Confusion

  constructor (cells: number, scoreBins: number) {
    super(cells, scoreBins)
    this.labels = new Confusion(cells)
  }

  override reset (epoch: number): void {
    super.reset(epoch)
    this.labels.clear()
  }
}

/** Label bucket length for a TTL: a whole number of buckets, at most MAX_LABEL_BUCKETS of them. */
export function labelBucketMsFor (bucketMs: number, ttlMs: number): number {
  return bucketMs * Math.max(1, Math.ceil(ttlMs / (bucketMs * MAX_LABEL_BUCKETS)))
}

export class SlidingWindow {
  readonly buckets: Bucket[]
  readonly count: number
  readonly labelBuckets: LabelBucket[]
  readonly labelBucketMs: number
  /** Events older than the window when they arrived; labels that arrived before the label window. */
  late = 0
  lateLabels = 0
  /**
   * Predictions and labels whose score was not a finite number (a model can emit NaN): counted
   * here and left out, so one of them cannot turn a whole window's calibration into NaN.
   */
  nonFinite = 0
  private readonly cellScratch: Int32Array
  /** addRows' score histogram of one request. */
  private readonly binScratch: Uint32Array

  constructor (
    readonly layout: GroupLayout,
    readonly bucketMs: number,
    windowMs: number,
    /** Inner score-bin edges (the baseline's edges without the first and last). */
    readonly binEdges: Float64Array,
    /** How long a label counts after it arrived (the feedback TTL); at least the window. */
    labelWindowMs = windowMs
  ) {
    this.count = Math.max(1, Math.round(windowMs / bucketMs))
    const bins = binEdges.length + 1
    this.buckets = Array.from({ length: this.count }, () => new Bucket(layout.cells, bins))
    const labelMs = Math.max(labelWindowMs, windowMs)
    this.labelBucketMs = labelBucketMsFor(bucketMs, labelMs)
    this.labelBuckets = Array.from({ length: Math.max(1, Math.ceil(labelMs / this.labelBucketMs)) }, () => new LabelBucket(layout.cells))
    this.cellScratch = new Int32Array(layout.attributes.length)
    this.binScratch = new Uint32Array(bins)
  }

  get scoreBins (): number { return this.binEdges.length + 1 }

  /**
   * The slot of prediction bucket k, reset to k when it held an older one; null when k is older
   * than the slot's bucket (out of the ring). The merge of shard summaries writes through it.
   */
  slot (k: number): Bucket | null {
    const b = this.buckets[k % this.count]!
    if (b.epoch > k) return null
    if (b.epoch !== k) b.reset(k)
    return b
  }

  /** The same for label bucket j. */
  labelSlot (j: number): LabelBucket | null {
    const b = this.labelBuckets[j % this.labelBuckets.length]!
    if (b.epoch > j) return null
    if (b.epoch !== j) b.reset(j)
    return b
  }

  /** The bucket for time ts, or null when ts is already out of the window at time now. */
  private bucketFor (ts: number, now: number): Bucket | null {
    const kNow = Math.floor(now / this.bucketMs)
    let k = Math.floor(ts / this.bucketMs)
    if (k > kNow) k = kNow // a clock ahead of ours: count it now rather than in the future
    if (kNow - k >= this.count) return null
    const b = this.buckets[k % this.count]!
    if (b.epoch !== k) {
      if (b.epoch > k) return null // the slot already moved on to a newer bucket
      b.reset(k)
    }
    return b
  }

  /** The label bucket for a label that arrived at arrivedAt, or null when it is already out of the label window. */
  private labelBucketFor (arrivedAt: number, now: number): LabelBucket | null {
    const count = this.labelBuckets.length
    const jNow = Math.floor(now / this.labelBucketMs)
    let j = Math.floor(arrivedAt / this.labelBucketMs)
    if (j > jNow) j = jNow
    if (jNow - j >= count) return null
    const b = this.labelBuckets[j % count]!
    if (b.epoch !== j) {
      if (b.epoch > j) return null
      b.reset(j)
    }
    return b
  }

  private scoreBin (score: number): number {
    // Few edges (10 bins): a linear scan beats a binary search here. Bins are [e_i, e_i+1),
    // the last one closed, as numpy.histogram counts them.
    const e = this.binEdges
    let i = 0
    while (i < e.length && score >= e[i]!) i++
    return i
  }

  /**
   * One prediction. groupIds holds the model's base attribute ids at `at`; requestShare is
   * 1 / (rows of the row's request), 1 when unknown (events of older gateways).
   */
  add (ts: number, now: number, groupIds: ArrayLike<number>, at: number, score: number, decision: number, latencyMs: number, requestShare = 1): void {
    if (!Number.isFinite(score)) { this.nonFinite++; return }
    const b = this.bucketFor(ts, now)
    if (b === null) { this.late++; return }
    b.total++
    b.dirty = true
    b.totalPositive += decision
    const cells = this.cellScratch
    this.layout.cellsOf(groupIds, at, cells)
    const sb = this.scoreBin(score)
    const lb = latencyBin(latencyMs)
    const share = Math.round(requestShare * SHARE_UNIT)
    b.latAll[lb]! += share
    b.requests += share
    const bins = this.scoreBins
    for (let a = 0; a < cells.length; a++) {
      const c = cells[a]!
      if (c < 0) continue
      b.n[c]!++
      b.pos[c]! += decision
      b.scoreHist[c * bins + sb]!++
      b.latHist[c * LAT_BINS + lb]!++
    }
  }

  /**
   * The rows of one request that share one group set (groupIds at `at`) and one latency: what
   * `rows` calls of add() with requestShare 1 / rows would count, in one call — the cells, the
   * latency bin and the share are found once, and each cell's counters take the request's sums
   * instead of a per-row update. Decision r is scores[r] >= thresholds[r]. Exact: every counter
   * is an integer (the shares whole SHARE_UNITs), so adding the sums equals adding row by row.
   */
  addRows (ts: number, now: number, groupIds: ArrayLike<number>, at: number, scores: ArrayLike<number>, thresholds: ArrayLike<number>, rows: number, latencyMs: number): void {
    const bins = this.scoreBins
    const hist = this.binScratch
    hist.fill(0)
    let counted = 0
    let positive = 0
    for (let r = 0; r < rows; r++) {
      const score = scores[r]!
      if (!Number.isFinite(score)) { this.nonFinite++; continue }
      counted++
      if (score >= thresholds[r]!) positive++
      hist[this.scoreBin(score)]!++
    }
    if (counted === 0) return
    const b = this.bucketFor(ts, now)
    if (b === null) { this.late += counted; return }
    b.total += counted
    b.dirty = true
    b.totalPositive += positive
    const cells = this.cellScratch
    this.layout.cellsOf(groupIds, at, cells)
    const lb = latencyBin(latencyMs)
    // The same rounding as add() with requestShare 1 / rows.
    const shares = counted * Math.round((1 / rows) * SHARE_UNIT)
    b.latAll[lb]! += shares
    b.requests += shares
    for (let a = 0; a < cells.length; a++) {
      const c = cells[a]!
      if (c < 0) continue
      b.n[c]! += counted
      b.pos[c]! += positive
      const base = c * bins
      for (let i = 0; i < bins; i++) b.scoreHist[base + i]! += hist[i]!
      b.latHist[c * LAT_BINS + lb]! += counted
    }
  }

  /**
   * A label joined to its prediction, counted by when the label arrived (arrivedAt), whenever
   * the prediction was made: the caller has already refused labels older than the TTL.
   */
  addLabel (arrivedAt: number, now: number, groupIds: ArrayLike<number>, at: number, score: number, decision: number, label: number): void {
    if (!Number.isFinite(score)) { this.nonFinite++; return }
    const b = this.labelBucketFor(arrivedAt, now)
    if (b === null) { this.lateLabels++; return }
    b.dirty = true
    const cells = this.cellScratch
    this.layout.cellsOf(groupIds, at, cells)
    for (let a = 0; a < cells.length; a++) {
      const c = cells[a]!
      if (c < 0) continue
      if (label === 1) { if (decision === 1) b.tp[c]!++; else b.fn[c]!++ } else { if (decision === 1) b.fp[c]!++; else b.tn[c]!++ }
      b.labelledScore[c]! += score
    }
  }

  /**
   * Adds up the buckets inside the last `windowMs` (≤ the configured window) at time now, and
   * the labels of the whole label window: a shorter prediction window would otherwise count
   * only the labels that came quickly again.
   */
  sum (now: number, windowMs: number, out: WindowSums): WindowSums {
    const kNow = Math.floor(now / this.bucketMs)
    const span = Math.min(this.count, Math.max(1, Math.round(windowMs / this.bucketMs)))
    out.reset(kNow)
    for (const b of this.buckets) {
      if (b.epoch < 0 || b.epoch > kNow || kNow - b.epoch >= span) continue
      addBucket(out, b)
    }
    const jNow = Math.floor(now / this.labelBucketMs)
    const labelSpan = this.labelBuckets.length
    for (const b of this.labelBuckets) {
      if (b.epoch < 0 || b.epoch > jNow || jNow - b.epoch >= labelSpan) continue
      out.labels.add(b)
    }
    return out
  }
}

/** Per-cell counts of closed buckets, for tests that must see each row once. */
export interface ClosedCounts {
  n: Float64Array
  pos: Float64Array
  tp: Float64Array
  fn: Float64Array
  fp: Float64Array
  tn: Float64Array
  /** The newest bucket included (pass it back as `after` next time). */
  last: number
}

/**
 * Adds the buckets k with after < k < floor(now / bucketMs) — closed ones, so no row lands in
 * a bucket after it was read — into out (zeroed first), and the labels of the label buckets that
 * closed in that time (a label bucket of r buckets covers buckets j·r … j·r + r − 1; it is read
 * once its last one is closed and not before: each label is read once). Rows of buckets that
 * left the ring before they were read are not counted.
 */
export function closedSince (w: SlidingWindow, after: number, now: number, out: ClosedCounts): ClosedCounts {
  const kNow = Math.floor(now / w.bucketMs)
  out.n.fill(0); out.pos.fill(0); out.tp.fill(0); out.fn.fill(0); out.fp.fill(0); out.tn.fill(0)
  out.last = Math.max(after, kNow - 1)
  for (const b of w.buckets) {
    if (b.epoch <= after || b.epoch >= kNow) continue
    addInto(out.n, b.n); addInto(out.pos, b.pos)
  }
  const r = Math.round(w.labelBucketMs / w.bucketMs)
  for (const b of w.labelBuckets) {
    if (b.epoch < 0) continue
    const lastBucket = b.epoch * r + r - 1
    if (lastBucket <= after || lastBucket >= kNow) continue
    addInto(out.tp, b.tp); addInto(out.fn, b.fn); addInto(out.fp, b.fp); addInto(out.tn, b.tn)
  }
  return out
}

export function closedCounts (cells: number): ClosedCounts {
  return { n: new Float64Array(cells), pos: new Float64Array(cells), tp: new Float64Array(cells), fn: new Float64Array(cells), fp: new Float64Array(cells), tn: new Float64Array(cells), last: -1 }
}

/** Adds bucket b's counters into out (window sums, and the merge of shard summaries). */
export function addBucket (out: Bucket, b: Bucket): void {
  out.total += b.total
  out.totalPositive += b.totalPositive
  out.requests += b.requests
  addInto(out.n, b.n); addInto(out.pos, b.pos)
  addInto(out.scoreHist, b.scoreHist); addInto(out.latHist, b.latHist); addInto(out.latAll, b.latAll)
}

export function addInto (dst: Uint32Array | Float64Array, src: Uint32Array | Float64Array): void {
  for (let i = 0; i < dst.length; i++) dst[i]! += src[i]!
}
