// Acceptance of the latency router, end to end: the built gateway as a child process on the real
// models, an open-loop arrival rate of 64-row requests with a 20 ms budget that is more rows per
// second than `full` can score. Pinned to full, the queue grows and most answers miss the budget
// (or are refused with 504 when it expired in the queue); routed adaptively, requests move off it.
// Only behaviour is asserted here (which variants serve); how many answers meet the budget and
// the p99s are measured by loadtest/bench-routing.ts (npm run bench:routing), not by a test.
import t from 'tap'
import { openLoop } from '../../loadtest/lib/open-loop.js'
import { evalRows } from '../helpers/gateway.js'
import { serveCli } from '../helpers/process.js'

// 38,400 rows/s, more than `full` scores on two threads here: at 250/s (16,000 rows/s) a fast
// stretch of the machine let pinned `full` keep 99.6% of its answers within the budget, and the
// router then had no reason to move any; at 600/s pinned `full` kept 2.5%.
const RATE = 600
const ROWS = 64
const SECONDS = 4
const BUDGET = 20
const instances = evalRows().slice(0, ROWS).map(r => r.features)

async function run (pin: string | null): Promise<{ withinBudget: number, p50: number, n: number, variants: Record<string, number> }> {
  const gw = await serveCli({ FAIRGATE_LOG_LEVEL: 'error' }, 60_000)
  try {
    const body = JSON.stringify({ model: 'income', instances, latency_budget_ms: BUDGET, ...(pin !== null ? { variant: pin } : {}) })
    // Warm the router's and the pool's estimates with two seconds of light traffic (JIT, cold caches).
    await openLoop({ url: gw.url, rate: 20, seconds: 2, connections: 8, request: () => ({ body }) })
    let within = 0
    const variants: Record<string, number> = {}
    const r = await openLoop({
      url: gw.url,
      rate: RATE,
      seconds: SECONDS,
      connections: 64,
      drainMs: 5000,
      request: () => ({ body }),
      onResponse: (_i, _tag, status, text, ms) => {
        if (status !== 200) return
        if (ms <= BUDGET) within++
        const v = (JSON.parse(text) as Array<{ variant: string }>)[0]!.variant
        variants[v] = (variants[v] ?? 0) + 1
      }
    })
    return { withinBudget: within / r.sent, p50: r.p50, n: r.sent, variants }
  } finally {
    gw.child.kill('SIGTERM')
    await gw.exited
  }
}

t.test('beyond full\'s capacity, adaptive routing serves some requests from faster variants', async t => {
  const pinned = await run('full')
  const adaptive = await run(null)
  t.comment(`pinned to full: ${(100 * pinned.withinBudget).toFixed(1)}% within ${BUDGET} ms, p50 ${pinned.p50.toFixed(1)} ms`)
  t.comment(`adaptive: ${(100 * adaptive.withinBudget).toFixed(1)}% within ${BUDGET} ms, p50 ${adaptive.p50.toFixed(1)} ms, variants ${JSON.stringify(adaptive.variants)}`)
  t.same(Object.keys(pinned.variants), ['full'], 'pinned to full, only full serves')
  t.ok((adaptive.variants.distilled ?? 0) + (adaptive.variants.int8 ?? 0) > 0, 'adaptive routing moves requests off full when it cannot keep the budget')
})
