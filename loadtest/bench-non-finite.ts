// npm run bench:non-finite — the Inf/NaN check every binary FP32 tensor passes before it may join
// a batch (src/oip/non-finite.ts): the plain-JS loop against the WebAssembly SIMD one (its copy
// into the module's page included), on one 64-row request of the bundled model (7,168 words) and
// on a tensor larger than one window. Median and range of BENCH_REPEATS (default 7) timings.
import { nonFiniteJs, nonFiniteSimd } from '../src/oip/non-finite.js'

const REPEATS = Number(process.env.BENCH_REPEATS ?? 7)

function tensor (words: number): Int32Array {
  const f = new Float32Array(words)
  for (let i = 0; i < words; i++) f[i] = ((i * 2654435761) % 1000) / 7 - 50
  return new Int32Array(f.buffer)
}

/** Microseconds per call, over enough calls to take about 200 ms. */
function time (check: (bits: Int32Array) => boolean, bits: Int32Array): number {
  let calls = 0
  let found = 0
  const t0 = process.hrtime.bigint()
  let elapsed = 0
  while (elapsed < 200e6) {
    for (let i = 0; i < 100; i++) if (check(bits)) found++
    calls += 100
    elapsed = Number(process.hrtime.bigint() - t0)
  }
  if (found !== 0) throw new Error('a finite tensor was reported non-finite')
  return elapsed / calls / 1000
}

function summary (xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b)
  return `${s[s.length >> 1]!.toFixed(2)} µs (${s[0]!.toFixed(2)}–${s[s.length - 1]!.toFixed(2)})`
}

for (const [label, words] of [['64-row request', 64 * 112], ['40,000 words (3 windows)', 40_000]] as const) {
  const bits = tensor(words)
  const js: number[] = []
  const wasm: number[] = []
  for (let r = 0; r < REPEATS; r++) {
    js.push(time(nonFiniteJs, bits))
    if (nonFiniteSimd !== null) wasm.push(time(nonFiniteSimd, bits))
  }
  const ratio = wasm.length === 0 ? 'no WebAssembly SIMD here' : `JS / SIMD ${(median(js) / median(wasm)).toFixed(2)}×`
  console.log(`${label}: JS ${summary(js)}, SIMD ${wasm.length === 0 ? '-' : summary(wasm)}; ${ratio}`)
}

function median (xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[xs.length >> 1]!
}
