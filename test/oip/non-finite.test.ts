// The Inf/NaN test on raw FP32 words: the WebAssembly module against the JS loop and a decoded
// reference, on tensors of every tail length, values at every position, and past one window;
// and the embedded module bytes against src/oip/non-finite.wat compiled afresh.
import { readFileSync } from 'node:fs'
import t from 'tap'
import wabt from 'wabt'
import { firstNonFinite, nonFinite, nonFiniteJs, nonFiniteSimd } from '../../src/oip/non-finite.js'

const reference = (bits: Int32Array): boolean => new Float32Array(bits.buffer, bits.byteOffset, bits.length).some(x => !Number.isFinite(x))
const checks = [['js', nonFiniteJs], ['simd', nonFiniteSimd]] as const

t.test('this runtime (Node 20) has WebAssembly SIMD, so the module is what runs', async t => {
  t.not(nonFiniteSimd, null)
  t.equal(nonFinite, nonFiniteSimd)
})

t.test('every length 0..40 and every position: Inf, -Inf, NaN, a NaN with payload and sign; finite extremes are finite', async t => {
  const bad = [Infinity, -Infinity, NaN]
  const extremes = [3.4028234663852886e38, -3.4028234663852886e38, 1.4e-45, -0, 0]
  for (const [name, check] of checks) {
    if (check === null) continue
    for (let n = 0; n <= 40; n++) {
      const f = new Float32Array(n).map((_, i) => extremes[i % extremes.length]!)
      const bits = new Int32Array(f.buffer)
      t.equal(check(bits), false, `${name}: ${n} finite words`)
      for (let at = 0; at < n; at++) {
        for (const x of bad) {
          f[at] = x
          t.equal(check(bits), true, `${name}: ${x} at ${at} of ${n}`)
          t.equal(firstNonFinite(bits), at)
        }
        bits[at] = 0xffc00001 | 0 // a negative NaN with a payload
        t.equal(check(bits), true, `${name}: payload NaN at ${at} of ${n}`)
        f[at] = 1
      }
    }
  }
})

t.test('a view at an offset into a larger buffer reads only its own words', async t => {
  const all = new Float32Array(64).fill(1)
  all[3] = NaN
  all[60] = Infinity
  for (const [name, check] of checks) {
    if (check === null) continue
    t.equal(check(new Int32Array(all.buffer, 4 * 4, 50)), false, `${name}: the bad words are outside the view`)
    t.equal(check(new Int32Array(all.buffer, 4 * 4, 57)), true, `${name}: the view reaches one`)
  }
})

t.test('past one 64 KiB window: 3.5 windows, a bad word in each window, and random tensors against the reference', async t => {
  const n = 16_384 * 3 + 8_192
  const f = new Float32Array(n).fill(0.5)
  const bits = new Int32Array(f.buffer)
  for (const [name, check] of checks) {
    if (check === null) continue
    t.equal(check(bits), false, `${name}: all finite`)
    for (const at of [0, 16_383, 16_384, 40_000, n - 1]) {
      f[at] = NaN
      t.equal(check(bits), true, `${name}: NaN at ${at}`)
      f[at] = 0.5
    }
  }
  let seed = 7
  const rand = (): number => { seed = (seed * 1103515245 + 12345) >>> 0; return seed }
  for (let k = 0; k < 200; k++) {
    const words = new Int32Array(1 + (rand() % 3000))
    // Random bits: about one word in 256 has all exponent bits set.
    for (let i = 0; i < words.length; i++) words[i] = rand() | 0
    const want = reference(words)
    t.equal(nonFiniteJs(words), want)
    if (nonFiniteSimd !== null) t.equal(nonFiniteSimd(words), want)
  }
})

t.test('the embedded module is src/oip/non-finite.wat compiled', async t => {
  const w = await wabt()
  const text = readFileSync(new URL('../../src/oip/non-finite.wat', import.meta.url), 'utf8')
  const bytes = Buffer.from(w.parseWat('non-finite.wat', text, { simd: true }).toBinary({}).buffer)
  const source = readFileSync(new URL('../../src/oip/non-finite.ts', import.meta.url), 'utf8')
  const embedded = /const MODULE = '([A-Za-z0-9+/=]+)'/.exec(source)?.[1]
  t.equal(embedded, bytes.toString('base64'))
})
