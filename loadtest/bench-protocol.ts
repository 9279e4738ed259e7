// OIP transports in one run, against one built gateway process: 64-row requests as JSON, as
// binary tensor data (Triton's extension) and over gRPC (raw_input_contents), in rows/s; and
// single-row requests over HTTP (JSON and binary) and gRPC, in req/s. Closed loops with the
// same concurrency per figure, modes alternated over repeats; medians and ranges. Request
// bodies are encoded once up front (gRPC too: the client's serializer is the identity) and the
// load runs in worker threads (loadtest/lib/protocol-load.mjs), so the figures measure the
// gateway rather than the load generator. Every request pins the distilled variant (the
// version path, gRPC's model_version): the policy's latency rule would otherwise switch
// variants mid-run and change the inference cost under one mode but not another.
//   npm run bench:protocol   (BENCH_SECONDS, BENCH_REPEATS, BENCH_CLIENT_THREADS)
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as protoLoader from '@grpc/proto-loader'
import { Worker } from 'node:worker_threads'
import { freePort, median, processCpuMs, startGatewayProcess } from './lib/harness.js'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3)
const W = 112
const encoded = (JSON.parse(readFileSync('models/income/golden.json', 'utf8')) as { encoded: number[][] }).encoded

function rows (n: number, offset: number): number[][] {
  return Array.from({ length: n }, (_, i) => encoded[(offset + i) % encoded.length]!)
}

interface HttpBody { body: Buffer, headers: Record<string, string> }

function jsonBody (n: number, offset: number): HttpBody {
  const body = Buffer.from(JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [n, W], data: rows(n, offset) }] }))
  return { body, headers: { 'content-type': 'application/json' } }
}

function binaryBody (n: number, offset: number): HttpBody {
  const f = new Float32Array(n * W)
  rows(n, offset).forEach((r, i) => { f.set(r, i * W) })
  // As tritonclient.http sends it: binary input, binary outputs, no Content-Type.
  const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [n, W], parameters: { binary_data_size: f.byteLength } }], parameters: { binary_data_output: true } }))
  return { body: Buffer.concat([header, Buffer.from(f.buffer)]), headers: { 'inference-header-content-length': String(header.length) } }
}

const def = protoLoader.loadSync(join('proto', 'grpc_predict_v2.proto'), { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true })
const inferMethod = (def['inference.GRPCInferenceService'] as Record<string, protoLoader.MethodDefinition<object, object>>).ModelInfer!

function grpcBody (n: number, offset: number): Buffer {
  const f = new Float32Array(n * W)
  rows(n, offset).forEach((r, i) => { f.set(r, i * W) })
  return inferMethod.requestSerialize({ model_name: 'income', model_version: 'distilled', inputs: [{ name: 'input', datatype: 'FP32', shape: [n, W] }], raw_input_contents: [Buffer.from(f.buffer)] })
}

interface Run { requests: number, errors: number, seconds: number }

const THREADS = Number(process.env.BENCH_CLIENT_THREADS ?? 2)
const LOAD_WORKER = new URL('./lib/protocol-load.mjs', import.meta.url)

/** `concurrency` calls in flight, split over THREADS load-generator threads. */
async function load (kind: 'http' | 'grpc', target: string, bodies: Array<{ body: Uint8Array, headers?: Record<string, string> }>, concurrency: number, seconds: number): Promise<Run> {
  const runs = await Promise.all(Array.from({ length: THREADS }, async () => await new Promise<Run>((resolve, reject) => {
    const w = new Worker(LOAD_WORKER, { workerData: { kind, target, bodies, concurrency: Math.ceil(concurrency / THREADS), seconds } })
    w.once('message', resolve)
    w.once('error', reject)
  })))
  return { requests: runs.reduce((a, r) => a + r.requests, 0), errors: runs.reduce((a, r) => a + r.errors, 0), seconds: Math.max(...runs.map(r => r.seconds)) }
}

type Mode = { name: string, rowsPerRequest: number, concurrency: number, run: (seconds: number) => Promise<Run> }

async function main (): Promise<void> {
  const grpcPort = await freePort()
  const gw = await startGatewayProcess({ FAIRGATE_GRPC_PORT: String(grpcPort) })
  const target = `127.0.0.1:${grpcPort}`
  const variety = 8 // distinct bodies per mode, cycled
  const json64 = Array.from({ length: variety }, (_, k) => jsonBody(64, k * 17))
  const bin64 = Array.from({ length: variety }, (_, k) => binaryBody(64, k * 17))
  const grpc64 = Array.from({ length: variety }, (_, k) => ({ body: grpcBody(64, k * 17) }))
  const json1 = Array.from({ length: 64 }, (_, k) => jsonBody(1, k))
  const bin1 = Array.from({ length: 64 }, (_, k) => binaryBody(1, k))
  const grpc1 = Array.from({ length: 64 }, (_, k) => ({ body: grpcBody(1, k) }))
  const C64 = 8
  const C1 = 32
  const modes: Mode[] = [
    { name: '64-row JSON', rowsPerRequest: 64, concurrency: C64, run: async s => await load('http', gw.url, json64, C64, s) },
    { name: '64-row binary', rowsPerRequest: 64, concurrency: C64, run: async s => await load('http', gw.url, bin64, C64, s) },
    { name: '64-row gRPC', rowsPerRequest: 64, concurrency: C64, run: async s => await load('grpc', target, grpc64, C64, s) },
    { name: '1-row HTTP JSON', rowsPerRequest: 1, concurrency: C1, run: async s => await load('http', gw.url, json1, C1, s) },
    { name: '1-row HTTP binary', rowsPerRequest: 1, concurrency: C1, run: async s => await load('http', gw.url, bin1, C1, s) },
    { name: '1-row gRPC', rowsPerRequest: 1, concurrency: C1, run: async s => await load('grpc', target, grpc1, C1, s) }
  ]
  try {
    for (const m of modes) await m.run(2) // warm-up: JIT, sessions, connections
    const rates = new Map<string, number[]>(modes.map(m => [m.name, []]))
    const errors = new Map<string, number>(modes.map(m => [m.name, 0]))
    // The gateway's own CPU per request (all its threads): what a mode costs the server,
    // whatever share of the cores the load generators and the rest of the machine take.
    const cpu = new Map<string, number[]>(modes.map(m => [m.name, []]))
    for (let r = 0; r < REPEATS; r++) {
      // Alternate the order so no mode always runs first or last in a repeat.
      const order = r % 2 === 0 ? modes : [...modes].reverse()
      for (const m of order) {
        const before = processCpuMs(gw.child.pid)
        const res = await m.run(SECONDS)
        const after = processCpuMs(gw.child.pid)
        rates.get(m.name)!.push(res.requests / res.seconds)
        if (before !== null && after !== null && res.requests > 0) cpu.get(m.name)!.push((after - before) * 1000 / res.requests)
        errors.set(m.name, errors.get(m.name)! + res.errors)
      }
    }
    const summary = modes.map(m => {
      const xs = rates.get(m.name)!
      const reqs = median(xs)
      const us = cpu.get(m.name)!
      return { mode: m.name, concurrency: m.concurrency, req_s: Math.round(reqs), rows_s: Math.round(reqs * m.rowsPerRequest), gw_cpu_us_per_req: us.length === 0 ? null : Math.round(median(us)), min_req_s: Math.round(Math.min(...xs)), max_req_s: Math.round(Math.max(...xs)), errors: errors.get(m.name)! }
    })
    const by = (n: string): number => summary.find(s => s.mode === n)!.rows_s
    const cpuOf = (n: string): number => summary.find(s => s.mode === n)!.gw_cpu_us_per_req ?? NaN
    const ratios = {
      json_over_binary_cpu_64: +(cpuOf('64-row JSON') / cpuOf('64-row binary')).toFixed(2),
      json_over_grpc_cpu_64: +(cpuOf('64-row JSON') / cpuOf('64-row gRPC')).toFixed(2),
      grpc_over_http_json_cpu_1: +(cpuOf('1-row gRPC') / cpuOf('1-row HTTP JSON')).toFixed(2),
      binary_over_json_64: +(by('64-row binary') / by('64-row JSON')).toFixed(2),
      grpc_over_json_64: +(by('64-row gRPC') / by('64-row JSON')).toFixed(2),
      grpc_over_http_json_1: +(by('1-row gRPC') / by('1-row HTTP JSON')).toFixed(2),
      grpc_over_http_binary_1: +(by('1-row gRPC') / by('1-row HTTP binary')).toFixed(2)
    }
    const out = { seconds: SECONDS, repeats: REPEATS, summary, ratios }
    console.table(summary)
    console.log(JSON.stringify(ratios))
    writeFileSync(join('loadtest', 'results', 'protocol.json'), JSON.stringify(out, null, 2) + '\n')
  } finally {
    await gw.stop()
  }
}

await main()
