// npm run bench:monitor — cost of one monitor update (a prediction row into the sliding window:
// every attribute's cell, score and latency histograms) on one core, and memory as the number
// of events grows: the window is a fixed ring of buckets, so the heap must stay flat.
import { systemClock } from '../src/clock.js'
import { validateConfig } from '../src/config/index.js'
import { Monitor } from '../src/monitor/index.js'
import { readManifest } from '../src/models/index.js'

const manifest = readManifest('models/income/model.yaml')
const cfg = validateConfig({ monitor: { intersections: [['sex', 'race']] } }).monitor
const monitor = new Monitor([{ name: 'income', manifest, variants: manifest.variants.map(v => v.name) }], cfg, systemClock)

// Pre-made rows (group ids, scores) so the loop measures the monitor, not the generator.
const N = 4096
const groups = new Int16Array(N * 2)
const scores = new Float64Array(N)
for (let i = 0; i < N; i++) {
  groups[i * 2] = i % 2
  groups[i * 2 + 1] = (i * 7) % 5
  scores[i] = ((i * 2654435761) % 1000) / 1000
}

function run (updates: number): number {
  const now = Date.now()
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < updates; i++) {
    const j = i & (N - 1)
    const s = scores[j]!
    monitor.record(0, i % 3, now, groups, j * 2, s, s >= 0.5 ? 1 : 0, 1 + (j & 31))
  }
  return updates / (Number(process.hrtime.bigint() - t0) / 1e9)
}

run(1_000_000) // warm-up (JIT)
const rates: number[] = []
const heap: Array<[number, number]> = []
let total = 1_000_000
for (let r = 0; r < 5; r++) {
  rates.push(run(5_000_000))
  total += 5_000_000
  globalThis.gc?.()
  heap.push([total, process.memoryUsage().heapUsed])
}
rates.sort((a, b) => a - b)
console.log(`monitor updates: median ${(rates[2]! / 1e6).toFixed(2)} M/s (runs: ${rates.map(x => (x / 1e6).toFixed(2)).join(', ')}) — 3 attributes per row (sex, race, sex×race)`)
for (const [n, h] of heap) console.log(`after ${(n / 1e6).toFixed(0).padStart(3)} M updates: heap ${(h / 1048576).toFixed(1)} MiB`)
const growth = (heap[heap.length - 1]![1] - heap[0]![1]) / 1048576
console.log(`heap change from ${(heap[0]![0] / 1e6).toFixed(0)} M to ${(heap[heap.length - 1]![0] / 1e6).toFixed(0)} M updates: ${growth.toFixed(2)} MiB`)
const report = monitor.report('income')!
console.log(`report check: ${report.variants.full!.n} rows in window for full`)
