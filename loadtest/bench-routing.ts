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
  const codes: Record<number, number> = {}
  const r = await openLoop({
    url: gw.url,
    path: '/v1/predict',
    rate: RATE,
    seconds: SECONDS,
    connections: 64,
    request: () => ({ body }),
    onResponse: (_i, _tag, status, text) => {
      codes[status] = (codes[status] ?? 0) + 1
      if (status === 200) { const v = (JSON.parse(text) as Array<{ variant: string }>)[0]!.variant; variants[v] = (variants[v] ?? 0) + 1 }
    },
    headers: { 'content-type': 'application/json' }
  })
  await gw.stop()
  console.log(`${mode.padEnd(15)} offered ${RATE}/s x ${ROWS} rows: p50 ${r.p50.toFixed(1)} ms  p99 ${r.p99.toFixed(1)} ms  status ${JSON.stringify(codes)}  variants ${JSON.stringify(variants)}`)
}
