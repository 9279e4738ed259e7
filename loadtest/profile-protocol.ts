// tsx loadtest/profile-protocol.ts — where the gateway spends its time on OIP infer requests:
// runs `fairgate serve` with --cpu-prof under closed-loop load of PROFILE_ROWS-row (default 64)
// requests in PROFILE_MODE (json | binary | grpc, default binary), pinned to PROFILE_VARIANT
// (default distilled), for PROFILE_SECONDS (default 10), with bench:protocol's load generator.
// Prints the gateway's CPU per request by thread, and the main thread's self time by area and
// function. PROFILE_DIR (default /tmp/fairgate-prof) keeps the .cpuprofile for Chrome DevTools.
import { mkdirSync, rmSync } from 'node:fs'
import { Worker } from 'node:worker_threads'
import { freePort, gatewayEnv, startGatewayProcess, threadCpuMs } from './lib/harness.js'
import { monotonicUs, printProfile } from './lib/cpu-profile.js'
import { binaryBody, grpcBody, jsonBody } from './lib/protocol-bodies.js'

const SECONDS = Number(process.env.PROFILE_SECONDS ?? 10)
const MODE = process.env.PROFILE_MODE ?? 'binary'
const ROWS = Number(process.env.PROFILE_ROWS ?? 64)
const VARIANT = process.env.PROFILE_VARIANT ?? 'distilled'
const CONCURRENCY = Number(process.env.PROFILE_CONCURRENCY ?? 8)
const DIR = process.env.PROFILE_DIR ?? '/tmp/fairgate-prof'
if (!['json', 'binary', 'grpc'].includes(MODE)) throw new Error('PROFILE_MODE: json, binary or grpc')
rmSync(DIR, { recursive: true, force: true })
mkdirSync(DIR, { recursive: true })

const bodies = Array.from({ length: 8 }, (_, k) => MODE === 'json' ? jsonBody(ROWS, k * 17) : MODE === 'binary' ? binaryBody(ROWS, k * 17) : { body: grpcBody(ROWS, k * 17, VARIANT), headers: {} })
const grpcPort = await freePort()
const gw = await startGatewayProcess({ FAIRGATE_GRPC_PORT: String(grpcPort), ...gatewayEnv('PROFILE_ENV') }, ['--cpu-prof', `--cpu-prof-dir=${DIR}`])
const load = async (seconds: number): Promise<{ requests: number, errors: number, seconds: number }> => await new Promise((resolve, reject) => {
  const w = new Worker(new URL('./lib/protocol-load.mjs', import.meta.url), {
    workerData: { kind: MODE === 'grpc' ? 'grpc' : 'http', target: MODE === 'grpc' ? `127.0.0.1:${grpcPort}` : gw.url, path: `/v2/models/income/versions/${VARIANT}/infer`, bodies, concurrency: CONCURRENCY, seconds }
  })
  w.once('message', resolve)
  w.once('error', reject)
})
await load(3) // warm-up: JIT, buffers, the policy's first evaluations; not counted
const before = threadCpuMs(gw.child.pid!)
const fromUs = monotonicUs()
const res = await load(SECONDS)
const toUs = monotonicUs()
const after = threadCpuMs(gw.child.pid!)
await gw.stop()
console.log(`${MODE}, ${ROWS} rows, ${VARIANT}: ${(res.requests / res.seconds).toFixed(0)} req/s under the profiler, ${res.errors} errors`)
if (before !== null && after !== null) {
  console.log(`gateway CPU per request: main thread ${((after.main - before.main) * 1000 / res.requests).toFixed(0)} µs, other threads ${((after.others - before.others) * 1000 / res.requests).toFixed(0)} µs`)
}

// Only the measured seconds' samples, over the requests of those seconds.
printProfile(DIR, res.requests, Number(process.env.PROFILE_TOP ?? 40), { fromUs, toUs })
