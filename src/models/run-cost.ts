// What a batch of one variant costs to run: about fixedMs + rows × rowMs. The inference pool
// learns both parts as moving averages of its runs (time from post to answer, the thread hop
// included): batches of SMALL_RUN rows or fewer mostly show the fixed cost, larger ones the
// per-row cost. The inline path (a run on the HTTP thread, no hop) sets them once at warm-up.

export interface RunCost { rowMs: number, fixedMs: number, runs: number, sizedRuns: number, fixedRuns: number }

export const SMALL_RUN = 4

export function newRunCost (): RunCost { return { rowMs: 0, fixedMs: 0, runs: 0, sizedRuns: 0, fixedRuns: 0 } }

export function expectedMs (c: RunCost, rows: number): number { return c.fixedMs + rows * c.rowMs }

/** Feeds one run's time into the cost; EWMAs with α = 0.2 as in the batcher, the first observation of each part sets it. */
export function learn (c: RunCost, rows: number, ms: number): void {
  if (rows > SMALL_RUN) {
    const perRow = Math.max(0, ms - c.fixedMs) / rows
    c.rowMs = c.sizedRuns++ === 0 ? perRow : 0.8 * c.rowMs + 0.2 * perRow
  } else {
    const fixed = Math.max(0, ms - rows * c.rowMs)
    c.fixedMs = c.fixedRuns++ === 0 ? fixed : 0.8 * c.fixedMs + 0.2 * fixed
  }
}
