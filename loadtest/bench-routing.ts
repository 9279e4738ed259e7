// npm run bench:routing — latency budgets beyond the full variant's capacity. An open-loop
// arrival rate of 64-row requests with latency_budget_ms 20 (more rows per second than `full`
// alone can score; latency from the scheduled send time), first pinned to full, then routed
// adaptively, on the same gateway build in one run. BENCH_RATE overrides the rate.
import { evalRows, startGatewayProcess } from './lib/harness.js'
import { openLoop } from './lib/open-loop.js'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8)
const RATE = Number(process.env.BENCH_RATE ?? 800)
const ROWS = Number(process.env.BENCH_ROWS ?? 64)
const instances = evalRows(ROWS).map(r => r.features)

const MODES = (process.env.BENCH_MODES ?? 'pinned to full,adaptive').split(',')
for (const mode of MODES) {
  const gw = await startGatewayProcess({})
  const pin = mode.startsWith('pinned to ') ? mode.slice('pinned to '.length) : null
  const body = JSON.stringify({ model: 'income', instances, latency_budget_ms: 20, ...(pin !== null ? { variant: pin } : {}) })
  const variants: Record<string, number> = {}
  const perVariant: Record<string, { client: number[], server: number[] }> = {}
  const codes: Record<number, number> = {}
  const r = await openLoop({
    url: gw.url,
    path: '/v1/predict',
    rate: RATE,
    seconds: SECONDS,
    connections: 64,
    request: () => ({ body }),
    onResponse: (_i, _tag, status, text, latencyMs) => {
      codes[status] = (codes[status] ?? 0) + 1
      if (status === 200) {
        const a = (JSON.parse(text) as Array<{ variant: string, latency_ms: number }>)[0]!
        variants[a.variant] = (variants[a.variant] ?? 0) + 1
        const pv = perVariant[a.variant] ??= { client: [], server: [] }
        pv.client.push(latencyMs)
        pv.server.push(a.latency_ms)
      }
    },
    headers: { 'content-type': 'application/json' }
  })
  await gw.stop()
  const pct = (xs: number[], q: number): string => { const s = Float64Array.from(xs).sort(); return (s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? NaN).toFixed(1) }
  for (const [v, x] of Object.entries(perVariant)) console.log(`  ${v.padEnd(10)} n ${x.client.length}: from send p50 ${pct(x.client, 0.5)} p99 ${pct(x.client, 0.99)} ms; in the gateway p50 ${pct(x.server, 0.5)} p99 ${pct(x.server, 0.99)} ms`)
  console.log(`${mode.padEnd(15)} offered ${RATE}/s x ${ROWS} rows: p50 ${r.p50.toFixed(1)} ms  p99 ${r.p99.toFixed(1)} ms  status ${JSON.stringify(codes)}  variants ${JSON.stringify(variants)}  (client send lag p99 ${r.sendLagP99.toFixed(1)} ms)`)
}
