// tsx loadtest/profile-gateway.ts — where the gateway's main thread spends its time under the
// bench's closed-loop load: runs `fairgate serve` with --cpu-prof, 64 connections of
// requests of PROFILE_ROWS rows (default 1) for PROFILE_SECONDS (default 10) on PROFILE_VARIANT (default full),
// stops it (SIGTERM writes the profile) and prints self time by function and by area.
//   PROFILE_DIR (default /tmp/fairgate-prof) keeps the .cpuprofile for Chrome DevTools.
//   PROFILE_ENV adds FAIRGATE_* variables to the gateway (a JSON object), e.g. Kafka on:
//   node scripts/kafka-broker.mjs run -- sh -c 'PROFILE_ENV="{\"FAIRGATE_KAFKA_BROKERS\":\"$KAFKA_BROKERS\"}" tsx loadtest/profile-gateway.ts'
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { closedLoop, evalRows, gatewayEnv, startGatewayProcess } from './lib/harness.js'

const SECONDS = Number(process.env.PROFILE_SECONDS ?? 10)
const VARIANT = process.env.PROFILE_VARIANT ?? 'full'
const DIR = process.env.PROFILE_DIR ?? '/tmp/fairgate-prof'
rmSync(DIR, { recursive: true, force: true })
mkdirSync(DIR, { recursive: true })

const ROWS = Number(process.env.PROFILE_ROWS ?? 1)
const rows = evalRows(2000)
const bodies = ROWS <= 1
  ? rows.map(r => JSON.stringify({ model: 'income', features: r.features, group: r.group, variant: VARIANT }))
  : rows.map((_r, i) => { const part = rows.slice(i, i + ROWS); return JSON.stringify({ model: 'income', instances: part.map(r => r.features), groups: part.map(r => r.group), variant: VARIANT }) }).slice(0, rows.length - ROWS)
const gw = await startGatewayProcess(gatewayEnv('PROFILE_ENV'), ['--cpu-prof', `--cpu-prof-dir=${DIR}`])
const warm = await closedLoop(gw.url, bodies, 64, 3) // warm-up (sampled too)
const res = await closedLoop(gw.url, bodies, 64, SECONDS)
await gw.stop()
console.log(`variant ${VARIANT}: ${res.rps.toFixed(0)} req/s, p99 ${res.p99} ms under the profiler`)

interface Node { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, children?: number[] }
interface Profile { nodes: Node[], samples: number[], timeDeltas: number[] }
const file = readdirSync(DIR).find(f => f.endsWith('.cpuprofile'))
if (file === undefined) throw new Error('no profile written')
const prof = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as Profile
const byId = new Map(prof.nodes.map(n => [n.id, n]))
const self = new Map<number, number>()
prof.samples.forEach((id, i) => { self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)) })
let total = 0
const requests = warm.total + res.total
for (const v of self.values()) total += v

function area (url: string, fn: string): string {
  if (fn === '(idle)') return 'idle'
  if (fn === '(garbage collector)') return 'GC'
  if (fn === '(program)') return 'native/program'
  if (url.includes('onnxruntime')) return 'onnxruntime-node (JS + native run)'
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
  const n = byId.get(id)!
  const { functionName, url, lineNumber } = n.callFrame
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
console.log('\nself time by function (top 30):')
show(fnTime, 30)
console.log(`\nprofile: ${join(DIR, file)}`)
