// npm run bench:routing — latency budgets beyond the full variant's capacity. An open-loop
// arrival rate of 64-row requests with latency_budget_ms 20 — more rows per second than `full`
// alone can score (250/s × 64 = 16,000 rows/s; full takes ~110 µs per row in a 32-row batch, models/income/latency.json, and
// with every request pinned to it both inference threads run it, next to the HTTP thread on 2
// cores: 10–25% of the answers are 504s in the runs in docs/benchmarks.md) — pinned to full, then routed
// adaptively, then pinned to distilled (the floor: the fastest variant alone), each on a fresh
// gateway after a 2 s light warm-up; latency from the scheduled send time, so a refused (504) or
// late answer counts in full. Modes alternate inside each repeat; the summary is the median p99
// per mode. BENCH_RATE, BENCH_ROWS, BENCH_SECONDS, BENCH_REPEATS, BENCH_MODES override, and
// BENCH_GATEWAY_ENV adds FAIRGATE_* variables to the gateway (a JSON object).
import { evalRows, gatewayEnv, median, startGatewayProcess } from './lib/harness.js'
import { openLoop } from './lib/open-loop.js'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8)
const RATE = Number(process.env.BENCH_RATE ?? 250)
const ROWS = Number(process.env.BENCH_ROWS ?? 64)
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3)
const BUDGET = 20
const extraEnv = gatewayEnv('BENCH_GATEWAY_ENV')
const instances = evalRows(ROWS).map(r => r.features)
const MODES = (process.env.BENCH_MODES ?? 'pinned to full,adaptive,pinned to distilled').split(',')
const headers = { 'content-type': 'application/json' }

const pct = (xs: number[], q: number): string => { const s = Float64Array.from(xs).sort(); return (s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? NaN).toFixed(1) }
const p99s: Record<string, number[]> = {}
const within: Record<string, number[]> = {}

for (let rep = 1; rep <= REPEATS; rep++) {
  for (const mode of MODES) {
    const gw = await startGatewayProcess(extraEnv)
    const pin = mode.startsWith('pinned to ') ? mode.slice('pinned to '.length) : null
    const body = JSON.stringify({ model: 'income', instances, latency_budget_ms: BUDGET, ...(pin !== null ? { variant: pin } : {}) })
    // Warm-up at a light rate: the first requests pay for JIT compilation and cold caches.
    await openLoop({ url: gw.url, path: '/v1/predict', rate: 20, seconds: 2, connections: 8, request: () => ({ body }), headers })
    const variants: Record<string, number> = {}
    const perVariant: Record<string, { client: number[], server: number[] }> = {}
    const codes: Record<number, number> = {}
    let ok = 0
    const r = await openLoop({
      url: gw.url,
      path: '/v1/predict',
      rate: RATE,
      seconds: SECONDS,
      connections: 64,
      request: () => ({ body }),
      onResponse: (_i, _tag, status, text, latencyMs) => {
        codes[status] = (codes[status] ?? 0) + 1
        if (status !== 200) return
        if (latencyMs <= BUDGET) ok++
        const a = (JSON.parse(text) as Array<{ variant: string, latency_ms: number }>)[0]!
        variants[a.variant] = (variants[a.variant] ?? 0) + 1
        const pv = perVariant[a.variant] ??= { client: [], server: [] }
        pv.client.push(latencyMs)
        pv.server.push(a.latency_ms)
      },
      headers
    })
    await gw.stop()
    ;(p99s[mode] ??= []).push(r.p99)
    ;(within[mode] ??= []).push(100 * ok / r.sent)
    console.log(`run ${rep} ${mode.padEnd(20)} offered ${RATE}/s x ${ROWS} rows: p50 ${r.p50.toFixed(1)} ms  p99 ${r.p99.toFixed(1)} ms  within ${BUDGET} ms ${(100 * ok / r.sent).toFixed(1)}%  status ${JSON.stringify(codes)}  variants ${JSON.stringify(variants)}  (client send lag p99 ${r.sendLagP99.toFixed(1)} ms)`)
    for (const [v, x] of Object.entries(perVariant)) console.log(`    ${v.padEnd(10)} n ${x.client.length}: from send p50 ${pct(x.client, 0.5)} p99 ${pct(x.client, 0.99)} ms; in the gateway (latency_ms) p50 ${pct(x.server, 0.5)} p99 ${pct(x.server, 0.99)} ms`)
  }
}
console.log(`\n${RATE}/s x ${ROWS} rows, ${BUDGET} ms budget, ${SECONDS} s x ${REPEATS}: median p99 (and share answered 200 within the budget)`)
for (const mode of MODES) console.log(`  ${mode.padEnd(20)} p99 ${median(p99s[mode]!).toFixed(1)} ms (runs ${p99s[mode]!.map(x => x.toFixed(1)).join(', ')}); within budget ${median(within[mode]!).toFixed(1)}%`)
