// Reads the main thread's .cpuprofile that `--cpu-prof` wrote into dir and prints its self time
// by area (fairgate folder, package, node: module, GC, idle) and by function, per request.
// Shared by the profile-* scripts, which differ only in the load they put on the gateway.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

interface Node { id: number, callFrame: { functionName: string, url: string, lineNumber: number } }
interface Profile { nodes: Node[], startTime: number, samples: number[], timeDeltas: number[] }

/** A span of time in µs of the monotonic clock (process.hrtime's, which V8's profile timestamps use on Linux). */
export interface Span { fromUs: number, toUs: number }

/** Now on that clock, in µs: mark a span's ends with it. */
export function monotonicUs (): number { return Number(process.hrtime.bigint() / 1000n) }

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

/**
 * Prints the profile's self time by area and its topFunctions functions, in µs per request.
 * With `span`, only the samples taken in it count (the measured seconds, not start-up and
 * warm-up), and `requests` should be those of that span.
 */
export function printProfile (dir: string, requests: number, topFunctions: number, span?: Span): void {
  const file = readdirSync(dir).find(f => f.endsWith('.cpuprofile'))
  if (file === undefined) throw new Error('no profile written')
  const prof = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile
  const byId = new Map(prof.nodes.map(n => [n.id, n]))
  const self = new Map<number, number>()
  let at = prof.startTime
  prof.samples.forEach((id, i) => {
    const dt = prof.timeDeltas[i] ?? 0
    at += dt
    if (span !== undefined && (at < span.fromUs || at > span.toUs)) return
    self.set(id, (self.get(id) ?? 0) + dt)
  })
  let total = 0
  for (const v of self.values()) total += v
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
  console.log(`\nmain thread: ${(total / 1e6).toFixed(1)} s sampled, ${(100 * busy / total).toFixed(0)}% busy, ${(busy / requests).toFixed(1)} µs busy per request (${span === undefined ? 'start-up and warm-up included' : 'the measured seconds only'})`)
  console.log('\nself time by area:')
  show(areaTime, 20)
  console.log(`\nself time by function (top ${topFunctions}):`)
  show(fnTime, topFunctions)
  console.log(`\nprofile: ${join(dir, file)}`)
}
