// OIP transports in one run, against one built gateway process: 64-row requests as JSON, as
// binary tensor data (Triton's extension) and over gRPC (raw_input_contents), in rows/s; and
// single-row requests over HTTP (JSON and binary) and gRPC, in req/s. Closed loops with the
// same concurrency per figure, modes alternated over repeats; medians and ranges. Request
// bodies are encoded once up front (gRPC too: the client's serializer is the identity) and the
// load runs in worker threads (loadtest/lib/protocol-load.mjs), so the figures measure the
// gateway rather than the load generator. Every request pins the distilled variant (the
// version path, gRPC's model_version): the policy's latency rule would otherwise switch
// variants mid-run and change the inference cost under one mode but not another.
//   npm run bench:protocol   (BENCH_SECONDS, BENCH_REPEATS, BENCH_CLIENT_THREADS, BENCH_C64 (64-row calls in flight, 16); BENCH_MODES="64-row JSON,64-row binary"
//   runs only those modes and writes protocol-partial.json instead; BENCH_GATEWAY_ENV, a JSON object of
//   FAIRGATE_* variables for the gateway, as in bench:routing)
import { writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { freePort, gatewayEnv, median, startGatewayProcess, threadCpuMs } from './lib/harness.js'
import { binaryBody, grpcBody, jsonBody } from './lib/protocol-bodies.js'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3)
const PATH = '/v2/models/income/versions/distilled/infer'

interface Run { requests: number, errors: number, seconds: number }

const THREADS = Number(process.env.BENCH_CLIENT_THREADS ?? 2)
const LOAD_WORKER = new URL('./lib/protocol-load.mjs', import.meta.url)

/** `concurrency` calls in flight, split over THREADS load-generator threads. */
async function load (kind: 'http' | 'grpc', target: string, bodies: Array<{ body: Uint8Array, headers?: Record<string, string> }>, concurrency: number, seconds: number): Promise<Run> {
  const runs = await Promise.all(Array.from({ length: THREADS }, async () => await new Promise<Run>((resolve, reject) => {
    const w = new Worker(LOAD_WORKER, { workerData: { kind, target, path: PATH, bodies, concurrency: Math.ceil(concurrency / THREADS), seconds } })
    w.once('message', resolve)
    w.once('error', reject)
  })))
  return { requests: runs.reduce((a, r) => a + r.requests, 0), errors: runs.reduce((a, r) => a + r.errors, 0), seconds: Math.max(...runs.map(r => r.seconds)) }
}

type Mode = { name: string, rowsPerRequest: number, concurrency: number, run: (seconds: number) => Promise<Run> }

async function main (): Promise<void> {
  const loadStart = loadavg().map(x => +x.toFixed(2))
  const grpcPort = await freePort()
  const gw = await startGatewayProcess({ FAIRGATE_GRPC_PORT: String(grpcPort), ...gatewayEnv('BENCH_GATEWAY_ENV') })
  const target = `127.0.0.1:${grpcPort}`
  const variety = 8 // distinct bodies per mode, cycled
  const json64 = Array.from({ length: variety }, (_, k) => jsonBody(64, k * 17))
  const bin64 = Array.from({ length: variety }, (_, k) => binaryBody(64, k * 17))
  const grpc64 = Array.from({ length: variety }, (_, k) => ({ body: grpcBody(64, k * 17, 'distilled') }))
  const json1 = Array.from({ length: 64 }, (_, k) => jsonBody(1, k))
  const bin1 = Array.from({ length: 64 }, (_, k) => binaryBody(1, k))
  const grpc1 = Array.from({ length: 64 }, (_, k) => ({ body: grpcBody(1, k, 'distilled') }))
  // 16 in flight keeps the HTTP thread busy in every 64-row mode: at 8, binary left it ~14% idle
  // (profile-protocol.ts) and the figure measured the closed loop's round trips, not capacity.
  const C64 = Number(process.env.BENCH_C64 ?? 16)
  const C1 = 32
  const modes: Mode[] = [
    { name: '64-row JSON', rowsPerRequest: 64, concurrency: C64, run: async s => await load('http', gw.url, json64, C64, s) },
    { name: '64-row binary', rowsPerRequest: 64, concurrency: C64, run: async s => await load('http', gw.url, bin64, C64, s) },
    { name: '64-row gRPC', rowsPerRequest: 64, concurrency: C64, run: async s => await load('grpc', target, grpc64, C64, s) },
    { name: '1-row HTTP JSON', rowsPerRequest: 1, concurrency: C1, run: async s => await load('http', gw.url, json1, C1, s) },
    { name: '1-row HTTP binary', rowsPerRequest: 1, concurrency: C1, run: async s => await load('http', gw.url, bin1, C1, s) },
    { name: '1-row gRPC', rowsPerRequest: 1, concurrency: C1, run: async s => await load('grpc', target, grpc1, C1, s) }
  ]
  const only = process.env.BENCH_MODES
  const chosen = only === undefined || only === '' ? modes : modes.filter(m => only.split(',').map(x => x.trim()).includes(m.name))
  if (chosen.length === 0) throw new Error(`BENCH_MODES: none of ${JSON.stringify(only)} is a mode (${modes.map(m => m.name).join(', ')})`)
  try {
    for (const m of chosen) await m.run(2) // warm-up: JIT, sessions, connections
    const rates = new Map<string, number[]>(chosen.map(m => [m.name, []]))
    const errors = new Map<string, number>(chosen.map(m => [m.name, 0]))
    // The gateway's own CPU per request (all its threads): what a mode costs the server,
    // whatever share of the cores the load generators and the rest of the machine take. And
    // the load generators' (this process, all threads), to show they are not the limit.
    const cpu = new Map<string, number[]>(chosen.map(m => [m.name, []]))
    // The HTTP (main) thread's alone: it parses, answers and, for a cheap variant, runs the
    // model; the others are GC helpers and the inference pool, which a busy machine can bring
    // in (the inline gate sends runs to the pool when this thread is slow), whatever the protocol.
    const mainCpu = new Map<string, number[]>(chosen.map(m => [m.name, []]))
    const clientCpu = new Map<string, number[]>(chosen.map(m => [m.name, []]))
    for (let r = 0; r < REPEATS; r++) {
      // Alternate the order so no mode always runs first or last in a repeat.
      const order = r % 2 === 0 ? chosen : [...chosen].reverse()
      for (const m of order) {
        const before = threadCpuMs(gw.child.pid!)
        const client = process.cpuUsage()
        const res = await m.run(SECONDS)
        const used = process.cpuUsage(client)
        const after = threadCpuMs(gw.child.pid!)
        rates.get(m.name)!.push(res.requests / res.seconds)
        if (before !== null && after !== null && res.requests > 0) {
          cpu.get(m.name)!.push((after.main + after.others - before.main - before.others) * 1000 / res.requests)
          mainCpu.get(m.name)!.push((after.main - before.main) * 1000 / res.requests)
        }
        if (res.requests > 0) clientCpu.get(m.name)!.push((used.user + used.system) / res.requests)
        errors.set(m.name, errors.get(m.name)! + res.errors)
      }
    }
    const summary = chosen.map(m => {
      const xs = rates.get(m.name)!
      const reqs = median(xs)
      const us = cpu.get(m.name)!
      const ms = mainCpu.get(m.name)!
      const cs = clientCpu.get(m.name)!
      return {
        mode: m.name,
        concurrency: m.concurrency,
        req_s: Math.round(reqs),
        rows_s: Math.round(reqs * m.rowsPerRequest),
        min_req_s: Math.round(Math.min(...xs)),
        max_req_s: Math.round(Math.max(...xs)),
        gw_cpu_us_per_req: us.length === 0 ? null : Math.round(median(us)),
        gw_main_cpu_us_per_req: ms.length === 0 ? null : Math.round(median(ms)),
        client_cpu_us_per_req: cs.length === 0 ? null : Math.round(median(cs)),
        errors: errors.get(m.name)!
      }
    })
    // A ratio is taken within each repeat (both modes seconds apart), then its median and range.
    const ratio = (of: Map<string, number[]>, a: string, b: string): { median: number, min: number, max: number, per_repeat: number[] } | null => {
      const xs = of.get(a)
      const ys = of.get(b)
      if (xs === undefined || ys === undefined || xs.length === 0 || xs.length !== ys.length) return null
      const round = (x: number): number => +x.toFixed(2)
      const rs = xs.map((x, i) => x / ys[i]!)
      return { median: round(median(rs)), min: round(Math.min(...rs)), max: round(Math.max(...rs)), per_repeat: rs.map(round) }
    }
    const ratios = {
      binary_over_json_rows_64: ratio(rates, '64-row binary', '64-row JSON'),
      grpc_over_json_rows_64: ratio(rates, '64-row gRPC', '64-row JSON'),
      grpc_over_http_json_req_1: ratio(rates, '1-row gRPC', '1-row HTTP JSON'),
      grpc_over_http_binary_req_1: ratio(rates, '1-row gRPC', '1-row HTTP binary'),
      json_over_binary_gw_cpu_64: ratio(cpu, '64-row JSON', '64-row binary'),
      json_over_binary_gw_main_cpu_64: ratio(mainCpu, '64-row JSON', '64-row binary'),
      json_over_grpc_gw_cpu_64: ratio(cpu, '64-row JSON', '64-row gRPC'),
      grpc_over_http_json_gw_cpu_1: ratio(cpu, '1-row gRPC', '1-row HTTP JSON')
    }
    // The machine's load while it ran (other work on the cores changes every figure).
    const out = { seconds: SECONDS, repeats: REPEATS, env: gatewayEnv('BENCH_GATEWAY_ENV'), load_average_start: loadStart, load_average: loadavg().map(x => +x.toFixed(2)), summary, ratios }
    console.table(summary)
    console.log(JSON.stringify(ratios, null, 1))
    writeFileSync(join('loadtest', 'results', only === undefined || only === '' ? 'protocol.json' : 'protocol-partial.json'), JSON.stringify(out, null, 2) + '\n')
  } finally {
    await gw.stop()
  }
}

await main()
