// npm run bench:peers — fairgate against a server users pick instead: MLServer with its adaptive
// batching, serving the same models/income/full.onnx through a small custom runtime
// (loadtest/peers/mlserver/runtime.py; its venv from loadtest/peers/mlserver/setup.sh). Both get
// the same Open Inference Protocol v2 request (examples/oip-infer.json: one encoded row, FP32
// [1, 112], without its latency budget) to POST /v2/models/income/infer, fairgate pinned to `full` by the path
// (/versions/full/); the hand-rolled baseline (one session.run per request) runs in the same
// repeat on its POST /v1/predict, the machine's yardstick. Each repeat starts every server fresh,
// in rotating order; figures are the median of the per-repeat ratios against the baseline.
//   BENCH_REPEATS (3), BENCH_SECONDS (8), BENCH_WARMUP_SECONDS (3), BENCH_CONNECTIONS (64),
//   MLSERVER_VENV (loadtest/peers/mlserver/.venv), MLSERVER_MAX_BATCH_SIZE (64),
//   MLSERVER_MAX_BATCH_TIME (0.002 s), MLSERVER_WORKERS (1 inference process).
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { resolve } from 'node:path'
import { closedLoop, evalRows, freePort, median, readyProcess, startGatewayProcess, threadCpuMs, type LoadResult, type Proc } from './lib/harness.js'
import { startBaselineProcess } from './lib/servers.js'

const num = (k: string, d: number): number => process.env[k] === undefined || process.env[k] === '' ? d : Number(process.env[k])
const repeats = num('BENCH_REPEATS', 3)
const seconds = num('BENCH_SECONDS', 8)
const warmup = num('BENCH_WARMUP_SECONDS', 3)
const connections = num('BENCH_CONNECTIONS', 64)
const venv = resolve(process.env.MLSERVER_VENV ?? 'loadtest/peers/mlserver/.venv')

type Server = 'fairgate' | 'mlserver' | 'baseline'
// The example's latency budget is dropped: MLServer has none, and fairgate would refuse (504)
// what cannot meet it on a loaded machine instead of serving it late.
const example = JSON.parse(readFileSync('examples/oip-infer.json', 'utf8')) as { parameters?: Record<string, unknown> }
delete example.parameters?.latency_budget_ms
const oip = JSON.stringify(example)
const predict = evalRows(2000).map(r => JSON.stringify({ model: 'income', features: r.features, group: r.group, variant: 'full' }))
const load: Record<Server, { bodies: string[], path: string }> = {
  fairgate: { bodies: [oip], path: '/v2/models/income/versions/full/infer' },
  mlserver: { bodies: [oip], path: '/v2/models/income/infer' },
  baseline: { bodies: predict, path: '/v1/predict' }
}

async function startMlserver (): Promise<Proc> {
  const [http, grpc, metrics] = [await freePort(), await freePort(), await freePort()]
  const child = spawn(`${venv}/bin/mlserver`, ['start', '.'], {
    cwd: 'loadtest/peers/mlserver',
    env: {
      ...process.env,
      MLSERVER_HTTP_PORT: String(http),
      MLSERVER_GRPC_PORT: String(grpc),
      MLSERVER_METRICS_PORT: String(metrics),
      MLSERVER_PARALLEL_WORKERS: process.env.MLSERVER_WORKERS ?? '1',
      MLSERVER_MODEL_MAX_BATCH_SIZE: process.env.MLSERVER_MAX_BATCH_SIZE ?? '64',
      MLSERVER_MODEL_MAX_BATCH_TIME: process.env.MLSERVER_MAX_BATCH_TIME ?? '0.002'
    },
    stdio: ['ignore', 'ignore', 'ignore']
  })
  const p = await readyProcess(child, `http://127.0.0.1:${http}`, 'mlserver')
  // Ready means the server; the model loads in its worker a little later.
  for (let i = 0; i < 600; i++) {
    try { if ((await fetch(`${p.url}/v2/models/income/ready`)).status === 200) return p } catch {}
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  await p.stop()
  throw new Error('mlserver: model income not ready in 60 s')
}

/** CPU of the server and its children (MLServer's inference worker is a child process). */
function treeCpuMs (pid: number): number {
  let ms = 0
  const t = threadCpuMs(pid)
  if (t !== null) ms += t.main + t.others
  try {
    for (const c of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) ms += treeCpuMs(Number(c))
  } catch {}
  return ms
}

interface Run extends LoadResult { server: Server, repeat: number, cpuUs: number }
const runs: Run[] = []
const start = async (s: Server): Promise<Proc> => s === 'fairgate' ? await startGatewayProcess({}) : s === 'mlserver' ? await startMlserver() : await startBaselineProcess('baseline')

console.log(`peers: ${repeats} repeats, ${connections} connections single-row to full, ${warmup} s warm-up + ${seconds} s; load average ${loadavg().map(x => x.toFixed(2)).join(' ')}`)
const servers: Server[] = ['fairgate', 'mlserver', 'baseline']
for (let rep = 0; rep < repeats; rep++) {
  const order = servers.map((_, i) => servers[(i + rep) % servers.length]!)
  for (const s of order) {
    const p = await start(s)
    try {
      await closedLoop(p.url, load[s].bodies, connections, warmup, load[s].path)
      const cpu0 = treeCpuMs(p.child.pid!)
      const r = await closedLoop(p.url, load[s].bodies, connections, seconds, load[s].path)
      const cpuUs = r.total > 0 ? Math.round((treeCpuMs(p.child.pid!) - cpu0) * 1000 / r.total) : 0
      runs.push({ ...r, server: s, repeat: rep, cpuUs })
      console.log(`rep ${rep + 1} ${s.padEnd(8)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  non2xx ${r.non2xx}  errors ${r.errors}  cpu/req ${cpuUs} µs  load ${loadavg()[0]!.toFixed(2)}`)
    } finally {
      await p.stop()
    }
  }
}
const f2 = (x: number): string => x.toFixed(2)
console.log(`\nload average at the end ${loadavg().map(x => x.toFixed(2)).join(' ')}`)
for (const s of servers) {
  const mine = runs.filter(r => r.server === s)
  const ratios = mine.map(r => r.rps / runs.find(b => b.server === 'baseline' && b.repeat === r.repeat)!.rps)
  console.log(`${s.padEnd(8)} req/s median ${median(mine.map(r => r.rps)).toFixed(0)} [${Math.min(...mine.map(r => r.rps)).toFixed(0)}–${Math.max(...mine.map(r => r.rps)).toFixed(0)}]  p99 median ${median(mine.map(r => r.p99))} ms  cpu/req median ${median(mine.map(r => r.cpuUs))} µs  ×baseline ${f2(median(ratios))} [${f2(Math.min(...ratios))}–${f2(Math.max(...ratios))}]`)
}
const fg = runs.filter(r => r.server === 'fairgate')
const ml = runs.filter(r => r.server === 'mlserver')
const vs = fg.map(r => r.rps / ml.find(m => m.repeat === r.repeat)!.rps)
console.log(`fairgate / mlserver per repeat: median ${f2(median(vs))} [${f2(Math.min(...vs))}–${f2(Math.max(...vs))}]`)
