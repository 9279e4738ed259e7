// OIP transports in one run, against one built gateway process: 64-row requests as JSON, as
// binary tensor data (Triton's extension) and over gRPC (raw_input_contents), in rows/s; and
// single-row requests over HTTP (JSON and binary) and gRPC, in req/s. Closed loops with the
// same concurrency per figure, modes alternated over repeats; medians and ranges. Request
// bodies are encoded once up front (gRPC too: the client's serializer is the identity), so the
// figures measure the gateway, not the load generator's encoder.
//   npm run build && node --import tsx loadtest/bench-protocol.ts   (BENCH_SECONDS, BENCH_REPEATS)
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import { Pool } from 'undici'
import { freePort, median, startGatewayProcess } from './lib/harness.js'

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
  return inferMethod.requestSerialize({ model_name: 'income', inputs: [{ name: 'input', datatype: 'FP32', shape: [n, W] }], raw_input_contents: [Buffer.from(f.buffer)] })
}

interface Run { requests: number, errors: number, seconds: number }

async function loopHttp (pool: Pool, bodies: HttpBody[], concurrency: number, seconds: number): Promise<Run> {
  const end = Date.now() + seconds * 1000
  let requests = 0
  let errors = 0
  let i = 0
  const worker = async (): Promise<void> => {
    while (Date.now() < end) {
      const b = bodies[i++ % bodies.length]!
      const res = await pool.request({ path: '/v2/models/income/infer', method: 'POST', body: b.body, headers: b.headers })
      await res.body.arrayBuffer()
      if (res.statusCode === 200) requests++
      else errors++
    }
  }
  const t0 = Date.now()
  await Promise.all(Array.from({ length: concurrency }, worker))
  return { requests, errors, seconds: (Date.now() - t0) / 1000 }
}

async function loopGrpc (client: grpc.Client, bodies: Buffer[], concurrency: number, seconds: number): Promise<Run> {
  const end = Date.now() + seconds * 1000
  let requests = 0
  let errors = 0
  let i = 0
  const one = (b: Buffer): Promise<boolean> => new Promise(resolve => {
    client.makeUnaryRequest('/inference.GRPCInferenceService/ModelInfer', (x: Buffer) => x, (x: Buffer) => x, b, (err) => { resolve(err === null) })
  })
  const worker = async (): Promise<void> => {
    while (Date.now() < end) {
      if (await one(bodies[i++ % bodies.length]!)) requests++
      else errors++
    }
  }
  const t0 = Date.now()
  await Promise.all(Array.from({ length: concurrency }, worker))
  return { requests, errors, seconds: (Date.now() - t0) / 1000 }
}

type Mode = { name: string, rowsPerRequest: number, concurrency: number, run: (seconds: number) => Promise<Run> }

async function main (): Promise<void> {
  const grpcPort = await freePort()
  const gw = await startGatewayProcess({ FAIRGATE_GRPC_PORT: String(grpcPort) })
  const pool = new Pool(gw.url, { connections: 64, pipelining: 1 })
  const client = new grpc.Client(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure())
  const variety = 8 // distinct bodies per mode, cycled
  const json64 = Array.from({ length: variety }, (_, k) => jsonBody(64, k * 17))
  const bin64 = Array.from({ length: variety }, (_, k) => binaryBody(64, k * 17))
  const grpc64 = Array.from({ length: variety }, (_, k) => grpcBody(64, k * 17))
  const json1 = Array.from({ length: 64 }, (_, k) => jsonBody(1, k))
  const bin1 = Array.from({ length: 64 }, (_, k) => binaryBody(1, k))
  const grpc1 = Array.from({ length: 64 }, (_, k) => grpcBody(1, k))
  const C64 = 8
  const C1 = 32
  const modes: Mode[] = [
    { name: '64-row JSON', rowsPerRequest: 64, concurrency: C64, run: async s => await loopHttp(pool, json64, C64, s) },
    { name: '64-row binary', rowsPerRequest: 64, concurrency: C64, run: async s => await loopHttp(pool, bin64, C64, s) },
    { name: '64-row gRPC', rowsPerRequest: 64, concurrency: C64, run: async s => await loopGrpc(client, grpc64, C64, s) },
    { name: '1-row HTTP JSON', rowsPerRequest: 1, concurrency: C1, run: async s => await loopHttp(pool, json1, C1, s) },
    { name: '1-row HTTP binary', rowsPerRequest: 1, concurrency: C1, run: async s => await loopHttp(pool, bin1, C1, s) },
    { name: '1-row gRPC', rowsPerRequest: 1, concurrency: C1, run: async s => await loopGrpc(client, grpc1, C1, s) }
  ]
  try {
    for (const m of modes) await m.run(2) // warm-up: JIT, sessions, connections
    const rates = new Map<string, number[]>(modes.map(m => [m.name, []]))
    const errors = new Map<string, number>(modes.map(m => [m.name, 0]))
    for (let r = 0; r < REPEATS; r++) {
      // Alternate the order so no mode always runs first or last in a repeat.
      const order = r % 2 === 0 ? modes : [...modes].reverse()
      for (const m of order) {
        const res = await m.run(SECONDS)
        rates.get(m.name)!.push(res.requests / res.seconds)
        errors.set(m.name, errors.get(m.name)! + res.errors)
      }
    }
    const summary = modes.map(m => {
      const xs = rates.get(m.name)!
      const reqs = median(xs)
      return { mode: m.name, concurrency: m.concurrency, req_s: Math.round(reqs), rows_s: Math.round(reqs * m.rowsPerRequest), min_req_s: Math.round(Math.min(...xs)), max_req_s: Math.round(Math.max(...xs)), errors: errors.get(m.name)! }
    })
    const by = (n: string): number => summary.find(s => s.mode === n)!.rows_s
    const ratios = {
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
    client.close()
    await pool.close()
    await gw.stop()
  }
}

await main()
