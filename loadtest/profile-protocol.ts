// tsx loadtest/profile-protocol.ts — where the gateway spends its time on OIP infer requests:
// runs `fairgate serve` with --cpu-prof under closed-loop load of PROFILE_ROWS-row (default 64)
// requests in PROFILE_MODE (json | binary | grpc, default binary), pinned to PROFILE_VARIANT
// (default distilled), for PROFILE_SECONDS (default 10), with bench:protocol's load generator.
// Prints the gateway's CPU per request by thread, and the main thread's self time by area and
// function. PROFILE_DIR (default /tmp/fairgate-prof) keeps the .cpuprofile for Chrome DevTools.
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { freePort, gatewayEnv, startGatewayProcess, threadCpuMs } from './lib/harness.js'
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
const warm = await load(3)
const before = threadCpuMs(gw.child.pid!)
const res = await load(SECONDS)
const after = threadCpuMs(gw.child.pid!)
await gw.stop()
const requests = warm.requests + res.requests
console.log(`${MODE}, ${ROWS} rows, ${VARIANT}: ${(res.requests / res.seconds).toFixed(0)} req/s under the profiler, ${res.errors} errors`)
if (before !== null && after !== null) {
  console.log(`gateway CPU per request: main thread ${((after.main - before.main) * 1000 / res.requests).toFixed(0)} µs, other threads ${((after.others - before.others) * 1000 / res.requests).toFixed(0)} µs`)
}

interface Node { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, children?: number[] }
interface Profile { nodes: Node[], samples: number[], timeDeltas: number[] }
const file = readdirSync(DIR).find(f => f.endsWith('.cpuprofile'))
if (file === undefined) throw new Error('no profile written')
const prof = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as Profile
const byId = new Map(prof.nodes.map(n => [n.id, n]))
const self = new Map<number, number>()
prof.samples.forEach((id, i) => { self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)) })
let total = 0
for (const v of self.values()) total += v

function area (url: string, fn: string): string {
  if (fn === '(idle)') return 'idle'
  if (fn === '(garbage collector)') return 'GC'
  if (fn === '(program)') return 'native/program'
  if (url.includes('onnxruntime')) return 'onnxruntime-node'
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (m !== null) return m[1]!
  const d = /\/dist\/(.+?)\.js/.exec(url)
  if (d !== null) return `fairgate ${d[1]!.split('/')[0]}`
  if (url.startsWith('node:')) return url.split('/')[0]!.replace(/:.*/, ':') + url.slice(5).split('/')[0]
  return url === '' ? `(native) ${fn}` : url
}

const fnTime = new Map<string, number>()
const areaTime = new Map<string, number>()
for (const [id, t] of self) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame
  const key = `${functionName || '(anonymous)'}  ${url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${lineNumber + 1}`
  fnTime.set(key, (fnTime.get(key) ?? 0) + t)
  const a = area(url, functionName)
  areaTime.set(a, (areaTime.get(a) ?? 0) + t)
}
const busy = total - (areaTime.get('idle') ?? 0)
const show = (m: Map<string, number>, n: number): void => {
  for (const [k, t] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`${(100 * t / total).toFixed(1).padStart(5)}%  ${(t / requests).toFixed(1).padStart(6)} µs/req  ${k}`)
}
console.log(`\nmain thread: ${(total / 1e6).toFixed(1)} s sampled, ${(100 * busy / total).toFixed(0)}% busy, ${(busy / requests).toFixed(1)} µs busy per request (warm-up included)`)
console.log('\nself time by area:')
show(areaTime, 20)
console.log('\nself time by function (top 40):')
show(fnTime, 40)
console.log(`\nprofile: ${join(DIR, file)}`)
