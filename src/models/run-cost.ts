// What a batch of one variant costs to run: about fixedMs + rows × rowMs. Both parts are the
// median of the last COST_SAMPLES observations of that part (batches of SMALL_RUN rows or fewer
// mostly show the fixed cost, larger ones the per-row cost), so one slow run on a shared machine
// moves neither, while a lasting change (load, a cold start) takes over within half the window.
// The pool learns from every run it serves (time from post to answer, the thread hop included),
// the inline path from every run on the HTTP thread; warm-up only seeds the samples.

export const SMALL_RUN = 4
/** Observations per part kept for the median: ~a hundred ms of serving, several warm-up runs. */
export const COST_SAMPLES = 15

export interface RunCost {
  rowMs: number
  fixedMs: number
  runs: number
  sizedRuns: number
  fixedRuns: number
  /** Rings of the last COST_SAMPLES observations of each part, and a buffer to sort them in. */
  readonly fixedSamples: Float64Array
  readonly rowSamples: Float64Array
  readonly scratch: Float64Array
}

export function newRunCost (): RunCost {
  return { rowMs: 0, fixedMs: 0, runs: 0, sizedRuns: 0, fixedRuns: 0, fixedSamples: new Float64Array(COST_SAMPLES), rowSamples: new Float64Array(COST_SAMPLES), scratch: new Float64Array(COST_SAMPLES) }
}

export function expectedMs (c: RunCost, rows: number): number { return c.fixedMs + rows * c.rowMs }

/**
 * Median of the first n (≤ COST_SAMPLES) entries of ring. Insertion sort in scratch: n is at most
 * 15, and it runs after every batch, so it makes no typed-array views (subarray allocates one).
 */
function medianOf (ring: Float64Array, n: number, scratch: Float64Array): number {
  for (let i = 0; i < n; i++) {
    const x = ring[i]!
    let j = i - 1
    while (j >= 0 && scratch[j]! > x) { scratch[j + 1] = scratch[j]!; j-- }
    scratch[j + 1] = x
  }
  return n % 2 === 1 ? scratch[n >> 1]! : (scratch[(n >> 1) - 1]! + scratch[n >> 1]!) / 2
}

/** Feeds one run's time into the cost: the part it shows gets a new sample and its median. */
export function learn (c: RunCost, rows: number, ms: number): void {
  if (rows > SMALL_RUN) {
    c.rowSamples[c.sizedRuns % COST_SAMPLES] = Math.max(0, ms - c.fixedMs) / rows
    c.sizedRuns++
    c.rowMs = medianOf(c.rowSamples, Math.min(c.sizedRuns, COST_SAMPLES), c.scratch)
  } else {
    c.fixedSamples[c.fixedRuns % COST_SAMPLES] = Math.max(0, ms - rows * c.rowMs)
    c.fixedRuns++
    c.fixedMs = medianOf(c.fixedSamples, Math.min(c.fixedRuns, COST_SAMPLES), c.scratch)
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
