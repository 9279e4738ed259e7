// Prediction ids sort by creation time (ULID layout: 10 Crockford base32 chars of milliseconds,
// then 16 more), so a feedback store or a topic reader can range-scan them. The last 16 chars
// are a per-process random prefix and a counter instead of fresh randomness per id: unique
// across replicas, strictly increasing within one, and no crypto call per row.
import { randomBytes } from 'node:crypto'

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

function encode (n: number, len: number): string {
  let s = ''
  for (let i = 0; i < len; i++) {
    s = ALPHABET[n % 32]! + s
    n = Math.floor(n / 32)
  }
  return s
}

const PROCESS = (() => {
  const b = randomBytes(4)
  return encode(((b[0]! << 22) | (b[1]! << 14) | (b[2]! << 6) | (b[3]! & 63)) >>> 0, 6)
})()

let lastMs = -1
let lastTime = ''
let seq = Math.floor(Math.random() * 2 ** 20)

export function nextPredictionId (nowMs: number = Date.now()): string {
  if (nowMs !== lastMs) {
    lastMs = nowMs
    lastTime = encode(nowMs, 10)
  }
  seq = (seq + 1) % 2 ** 50
  return lastTime + PROCESS + encode(seq, 10)
}

const ID_RE = /^[0-9A-HJKMNP-TV-Z]{26}$/

export function isPredictionId (s: unknown): s is string {
  return typeof s === 'string' && ID_RE.test(s)
}

/** Milliseconds since the epoch at which an id was made. */
export function predictionIdTime (id: string): number {
  let n = 0
  for (let i = 0; i < 10; i++) n = n * 32 + ALPHABET.indexOf(id[i] as string)
  return n
}
