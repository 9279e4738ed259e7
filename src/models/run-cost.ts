// What a batch of one variant costs to run: about fixedMs + rows × rowMs. Both parts are a
// quantile of the last COST_SAMPLES observations of that part (batches of SMALL_RUN rows or fewer
// mostly show the fixed cost, larger ones the per-row cost), so one slow run on a shared machine
// moves neither, while a lasting change (load, a cold start) takes over within part of the window.
// The pool's costs are medians: they predict a batch's latency (post to answer, waits included).
// The HTTP thread's inline costs are the lower quartile (INLINE_QUANTILE): a wall-clock run there
// is only ever lengthened by the thread being preempted, which on two cores shared with a load
// generator, a broker or the inference threads happens to most runs of a few hundred µs; the
// median then grew with the machine's load, the inline test failed, batches moved to the threads
// (a hop that costs the process several times the run: 300 µs of CPU per 64-row distilled batch
// against 35 inline) and the extra CPU made the machine busier still. The lower quartile follows
// what the run costs this thread's CPU, which is what the inline limit bounds.
// The pool learns from every run it serves (time from post to answer, the thread hop included),
// the inline path from every run on the HTTP thread; warm-up only seeds the samples.

export const SMALL_RUN = 4
/** Observations per part kept for the quantile: ~a hundred ms of serving, several warm-up runs. */
export const COST_SAMPLES = 15
/** The quantile of the inline (HTTP-thread) costs; the pool's are medians (0.5). */
export const INLINE_QUANTILE = 0.25

export interface RunCost {
  /** Which quantile of the samples each part is (0.5: the median). */
  readonly quantile: number
  rowMs: number
  fixedMs: number
  /**
   * The largest batch any learned run had. Past it the estimate is an extrapolation of a per-row
   * part that may be 0 (a lower quartile of tiny, noisy per-row times often is), so a caller that
   * bounds a run by the estimate must not trust it there.
   */
  maxRows: number
  runs: number
  sizedRuns: number
  fixedRuns: number
  /** Rings of the last COST_SAMPLES observations of each part, and a buffer to sort them in. */
  readonly fixedSamples: Float64Array
  readonly rowSamples: Float64Array
  readonly scratch: Float64Array
}

export function newRunCost (quantile = 0.5): RunCost {
  if (!(quantile >= 0 && quantile <= 1)) throw new Error('newRunCost: quantile must be in [0, 1]')
  return { quantile, rowMs: 0, fixedMs: 0, maxRows: 0, runs: 0, sizedRuns: 0, fixedRuns: 0, fixedSamples: new Float64Array(COST_SAMPLES), rowSamples: new Float64Array(COST_SAMPLES), scratch: new Float64Array(COST_SAMPLES) }
}

export function expectedMs (c: RunCost, rows: number): number { return c.fixedMs + rows * c.rowMs }

/**
 * Quantile q of the first n (≤ COST_SAMPLES) entries of ring, interpolated between the two order
 * statistics around q × (n − 1) (for q = 0.5, the median). Insertion sort in scratch: n is at most
 * 15, and it runs after every batch, so it makes no typed-array views (subarray allocates one).
 */
function quantileOf (ring: Float64Array, n: number, scratch: Float64Array, q: number): number {
  for (let i = 0; i < n; i++) {
    const x = ring[i]!
    let j = i - 1
    while (j >= 0 && scratch[j]! > x) { scratch[j + 1] = scratch[j]!; j-- }
    scratch[j + 1] = x
  }
  const at = q * (n - 1)
  const lo = Math.floor(at)
  const frac = at - lo
  return frac === 0 ? scratch[lo]! : scratch[lo]! + (scratch[lo + 1]! - scratch[lo]!) * frac
}

/** Feeds one run's time into the cost: the part it shows gets a new sample and its quantile. */
export function learn (c: RunCost, rows: number, ms: number): void {
  if (rows > c.maxRows) c.maxRows = rows
  if (rows > SMALL_RUN) {
    c.rowSamples[c.sizedRuns % COST_SAMPLES] = Math.max(0, ms - c.fixedMs) / rows
    c.sizedRuns++
    c.rowMs = quantileOf(c.rowSamples, Math.min(c.sizedRuns, COST_SAMPLES), c.scratch, c.quantile)
  } else {
    c.fixedSamples[c.fixedRuns % COST_SAMPLES] = Math.max(0, ms - rows * c.rowMs)
    c.fixedRuns++
    c.fixedMs = quantileOf(c.fixedSamples, Math.min(c.fixedRuns, COST_SAMPLES), c.scratch, c.quantile)
  }
}

/** Sets both parts as if every sample had shown them (tests, and the pool's prime). */
export function seed (c: RunCost, fixedMs: number, rowMs: number): void {
  c.fixedSamples.fill(fixedMs)
  c.rowSamples.fill(rowMs)
  c.fixedMs = fixedMs
  c.rowMs = rowMs
  c.fixedRuns = Math.max(c.fixedRuns, COST_SAMPLES)
  c.sizedRuns = Math.max(c.sizedRuns, COST_SAMPLES)
}
