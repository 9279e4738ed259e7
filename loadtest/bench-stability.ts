// npm run bench:stability — does every start serve alike? N fresh starts of fairgate and of the
// hand-rolled baseline (loadtest/baseline/server.ts, one session.run per request), alternated
// (fairgate first in even rounds, the baseline first in odd ones), the same closed-loop load on
// each: 64 connections of single-row requests to `full`. Each start is warmed up, then measured
// in BENCH_WINDOWS consecutive windows, so a slow start that stays slow for the life of the
// process shows as slow in every window. The baseline's spread in the same run is the machine's
// own noise; fairgate's spread beyond it is fairgate's. Each start's line has its CPU per request
// (all threads, the HTTP thread's in brackets) and, for fairgate, the mean rows per batch over the
// measured windows (fairgate_batch_size), to tell a slower machine from a different batching.
//   BENCH_STARTS (default 6; or --starts N), BENCH_SECONDS per window (5), BENCH_WINDOWS (2),
//   BENCH_WARMUP_SECONDS (3), BENCH_CONNECTIONS (64), BENCH_VARIANT (full),
//   BENCH_GATEWAY_ENV (FAIRGATE_* variables, a JSON object),
//   BENCH_LOG_DIR (default /tmp/fairgate-stability): each fairgate start's info-level log
//   (its start-up timing decisions), start-<n>.log, to compare a fast and a slow start.
import { mkdirSync, readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { closedLoop, cpuPerRequestUs, evalRows, gatewayEnv, median, startGatewayProcess, threadCpuMs, type LoadResult, type Proc } from './lib/harness.js'
import { startBaselineProcess } from './lib/servers.js'
import { parseMetrics } from '../test/helpers/gateway.js'

const { values: args } = parseArgs({ options: { starts: { type: 'string' } } })
const num = (k: string, d: number): number => process.env[k] === undefined || process.env[k] === '' ? d : Number(process.env[k])
const starts = Number(args.starts ?? num('BENCH_STARTS', 6))
const seconds = num('BENCH_SECONDS', 5)
const windows = Math.max(1, num('BENCH_WINDOWS', 2))
const warmup = num('BENCH_WARMUP_SECONDS', 3)
const connections = num('BENCH_CONNECTIONS', 64)
const variant = process.env.BENCH_VARIANT ?? 'full'
const logDir = process.env.BENCH_LOG_DIR ?? '/tmp/fairgate-stability'
if (!Number.isInteger(starts) || starts < 1 || starts > 100) throw new Error('starts: an integer 1-100')
mkdirSync(logDir, { recursive: true })

type Server = 'fairgate' | 'baseline'
interface Run extends LoadResult { server: Server, start: number, windows: Array<{ rps: number, p99: number }>, cpuUs: number | null, mainUs: number | null, batchRows: number | null, decisions: string }

/** fairgate_batch_size's sum and count over every variant (null: not a fairgate, or no metrics). */
async function batchTotals (url: string): Promise<{ sum: number, count: number } | null> {
  try {
    let sum = 0
    let count = 0
    for (const [series, v] of parseMetrics(await (await fetch(`${url}/metrics`)).text())) {
      if (series.startsWith('fairgate_batch_size_sum')) sum += v
      else if (series.startsWith('fairgate_batch_size_count')) count += v
    }
    return { sum, count }
  } catch {
    return null
  }
}

const bodies = evalRows(2000).map(r => JSON.stringify({ model: 'income', features: r.features, group: r.group, variant }))
const env = gatewayEnv('BENCH_GATEWAY_ENV')

/** The start-up timing decisions a fairgate start logged (one short line). */
function decisionsOf (file: string): string {
  const parts: string[] = []
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue
    const o = JSON.parse(line) as Record<string, unknown>
    if (o.msg === 'inline decision') parts.push(`${String(o.variant)}:${o.inline === true ? 'inline' : 'threads'}(${String(o.one_row_ms)})`)
  }
  return parts.join(' ')
}

async function oneStart (server: Server, start: number): Promise<Run> {
  const log = join(logDir, `start-${start + 1}.log`)
  const p: Proc = server === 'fairgate' ? await startGatewayProcess({ ...env, FAIRGATE_LOG_LEVEL: 'info' }, [], log) : await startBaselineProcess('baseline')
  try {
    await closedLoop(p.url, bodies, connections, warmup)
    const b0 = server === 'fairgate' ? await batchTotals(p.url) : null
    const cpu0 = threadCpuMs(p.child.pid!)
    const ws: LoadResult[] = []
    for (let w = 0; w < windows; w++) ws.push(await closedLoop(p.url, bodies, connections, seconds))
    const total = ws.reduce((a, r) => a + r.total, 0)
    const cpu = cpuPerRequestUs(cpu0, threadCpuMs(p.child.pid!), total)
    const b1 = b0 === null ? null : await batchTotals(p.url)
    const rps = ws.reduce((a, r) => a + r.rps, 0) / ws.length
    const run: Run = {
      server,
      start,
      rps,
      total,
      p50: median(ws.map(r => r.p50)),
      p99: Math.max(...ws.map(r => r.p99)),
      non2xx: ws.reduce((a, r) => a + r.non2xx, 0),
      errors: ws.reduce((a, r) => a + r.errors, 0),
      windows: ws.map(r => ({ rps: r.rps, p99: r.p99 })),
      cpuUs: cpu === null ? null : Math.round(cpu.main + cpu.others),
      mainUs: cpu === null ? null : Math.round(cpu.main),
      batchRows: b0 === null || b1 === null || b1.count === b0.count ? null : (b1.sum - b0.sum) / (b1.count - b0.count),
      decisions: server === 'fairgate' ? decisionsOf(log) : ''
    }
    console.log(`start ${String(start + 1).padStart(2)} ${server.padEnd(8)} ${rps.toFixed(0).padStart(6)} req/s  p99 ${String(run.p99).padStart(4)} ms  windows ${run.windows.map(x => `${x.rps.toFixed(0)}/${x.p99}ms`).join(' ')}  cpu/req ${run.cpuUs ?? '-'} µs (main ${run.mainUs ?? '-'})${run.batchRows === null ? '' : `  rows/batch ${run.batchRows.toFixed(1)}`}  non2xx ${run.non2xx}  load ${loadavg()[0]!.toFixed(2)}${run.decisions === '' ? '' : `  ${run.decisions}`}`)
    return run
  } finally {
    await p.stop()
  }
}

console.log(`stability: ${starts} fresh starts of each server, ${connections} connections single-row to ${variant}, ${warmup} s warm-up + ${windows} × ${seconds} s; load average ${loadavg().map(x => x.toFixed(2)).join(' ')}`)
const runs: Run[] = []
for (let i = 0; i < starts; i++) {
  const order: Server[] = i % 2 === 0 ? ['fairgate', 'baseline'] : ['baseline', 'fairgate']
  for (const s of order) runs.push(await oneStart(s, i))
}
console.log(`\nload average at the end ${loadavg().map(x => x.toFixed(2)).join(' ')}`)
const f2 = (x: number): string => x.toFixed(2)
for (const s of ['fairgate', 'baseline'] as const) {
  const mine = runs.filter(r => r.server === s)
  const rps = mine.map(r => r.rps)
  const p99 = mine.map(r => r.p99)
  const med = median(rps)
  const medP99 = median(p99)
  console.log(`${s.padEnd(8)} req/s median ${med.toFixed(0)} [${Math.min(...rps).toFixed(0)}–${Math.max(...rps).toFixed(0)}]  max/min ${f2(Math.max(...rps) / Math.min(...rps))}  min/median ${f2(Math.min(...rps) / med)}  p99 median ${medP99} ms [${Math.min(...p99)}–${Math.max(...p99)}]  max p99/median p99 ${f2(Math.max(...p99) / medP99)}`)
}
const fg = runs.filter(r => r.server === 'fairgate')
const ratios = fg.map(r => r.rps / (runs.find(b => b.server === 'baseline' && b.start === r.start)?.rps ?? NaN))
console.log(`fairgate / baseline per start: median ${f2(median(ratios))} [${f2(Math.min(...ratios))}–${f2(Math.max(...ratios))}]`)
const medF = median(fg.map(r => r.rps))
const medP = median(fg.map(r => r.p99))
const ok = fg.every(r => r.rps >= 0.85 * medF && r.p99 <= 1.5 * medP)
console.log(`acceptance (no fairgate start below 0.85× its median, none with p99 above 1.5× the median p99): ${ok ? 'met' : 'not met'}`)
