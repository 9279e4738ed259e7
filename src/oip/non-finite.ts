// Whether a raw FP32 tensor holds an Inf or a NaN, tested on the words' bits (the host is
// little-endian, as the tensor bytes are) without decoding a float. Every binary request's
// tensor goes through this, on the HTTP thread, before it may join a batch: on a 64-row request
// (7,168 words) it was the largest single item of the binary path's own work. WebAssembly SIMD
// tests four words per instruction; the tensor is copied into the module's one 64 KiB page a
// window at a time (a memcpy), and the whole costs about a third of the best plain-JS loop
// (`npm run bench:non-finite` times both). Without WebAssembly SIMD the JS loop runs.

// src/oip/non-finite.wat, compiled (its test recompiles the text and compares the bytes).
const MODULE = 'AGFzbQEAAAABBgFgAX8BfwMCAQAFAwEAAQcWAgZtZW1vcnkCAAlub25maW5pdGUAAAqDAQGAAQMBfwJ7AX/9DAAAgH8AAIB/AACAfwAAgH8hAyAAQXBxIQQCQANAIAEgBE8NASACIAH9AAQAIAP9TiAD/Tf9UCECIAFBEGohAQwACwsCQANAIAEgAE8NASABKAIAQYCAgPwHcUGAgID8B0YEQEEBDwsgAUEEaiEBDAALCyAC/VML'

/** Words per window: the module's memory is one 64 KiB page. */
const WINDOW = 16_384

interface Simd { words: Int32Array, nonfinite: (bytes: number) => number }

// The part of the WebAssembly global used here (this project's TypeScript libs declare none).
interface Wasm {
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object) => { exports: { memory: { buffer: ArrayBuffer }, nonfinite: (bytes: number) => number } }
}

function compile (): Simd | null {
  try {
    const wasm = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly
    const { exports } = new wasm.Instance(new wasm.Module(Buffer.from(MODULE, 'base64')))
    // The memory never grows, so this view stays attached.
    return { words: new Int32Array(exports.memory.buffer), nonfinite: exports.nonfinite }
  } catch {
    return null
  }
}

const simd = compile()

const EXPONENT = 0x7f800000
const EXPONENT_LOW = 0x00800000

/**
 * The JS test, without a branch per word: (w & EXPONENT) + EXPONENT_LOW reaches 2^31 (the sign
 * bit once OR-ed as an int32) exactly when all exponent bits are set, so the OR of every word's
 * sum is negative iff one is not finite. Int32, not Uint32: a word with its sign bit set stays a
 * small integer for V8 instead of becoming a double.
 */
export function nonFiniteJs (bits: Int32Array): boolean {
  const n = bits.length
  let acc = 0
  let e = 0
  for (; e + 3 < n; e += 4) {
    acc |= ((bits[e]! & EXPONENT) + EXPONENT_LOW) | ((bits[e + 1]! & EXPONENT) + EXPONENT_LOW) |
      ((bits[e + 2]! & EXPONENT) + EXPONENT_LOW) | ((bits[e + 3]! & EXPONENT) + EXPONENT_LOW)
  }
  for (; e < n; e++) acc |= (bits[e]! & EXPONENT) + EXPONENT_LOW
  return acc < 0
}

/** The WebAssembly test, a window at a time; null when this runtime has no WebAssembly SIMD. */
export const nonFiniteSimd = simd === null
  ? null
  : (bits: Int32Array): boolean => {
      const { words, nonfinite } = simd
      if (bits.length <= WINDOW) {
        words.set(bits)
        return nonfinite(bits.length * 4) !== 0
      }
      for (let at = 0; at < bits.length; at += WINDOW) {
        const part = bits.subarray(at, Math.min(at + WINDOW, bits.length))
        words.set(part)
        if (nonfinite(part.length * 4) !== 0) return true
      }
      return false
    }

/** Whether any word of `bits` is an Inf or a NaN. */
export const nonFinite: (bits: Int32Array) => boolean = nonFiniteSimd ?? nonFiniteJs

/** The index of the first Inf or NaN word, or -1 (looked for only once nonFinite said there is one). */
export function firstNonFinite (bits: Int32Array): number {
  for (let e = 0; e < bits.length; e++) if ((bits[e]! & EXPONENT) === EXPONENT) return e
  return -1
}
