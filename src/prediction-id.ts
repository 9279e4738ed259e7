// Prediction ids sort by creation time (ULID layout: 10 Crockford base32 chars of milliseconds,
// then 16 more), so a feedback store or a topic reader can range-scan them. The last 16 chars
// are a per-process random prefix (6 chars) and a sequence number (10 chars) instead of fresh
// randomness per id: unique across replicas, strictly increasing within one, and no crypto call
// per row. The gateway's own feedback store finds a prediction by that sequence number.
import { randomBytes } from 'node:crypto'

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
/** Character code → digit value, -1 for a character outside the alphabet. */
const DIGIT = new Int8Array(128).fill(-1)
for (let i = 0; i < 32; i++) DIGIT[ALPHABET.charCodeAt(i)] = i

/** Sequence numbers stay below 2^50: 10 base32 digits. */
const SEQ_LIMIT = 2 ** 50

function encode (n: number, len: number): string {
  let s = ''
  for (let i = 0; i < len; i++) {
    s = ALPHABET[n % 32]! + s
    n = Math.floor(n / 32)
  }
  return s
}

/** `len` base32 digits of `id` from `at`, or -1 when one is not a digit. */
function decode (id: string, at: number, len: number): number {
  let n = 0
  for (let i = at; i < at + len; i++) {
    const c = id.charCodeAt(i)
    const d = c < 128 ? DIGIT[c]! : -1
    if (d < 0) return -1
    n = n * 32 + d
  }
  return n
}

/** This process's random 30-bit prefix, as a number and as its 6 characters. */
const PROCESS_NUMBER = (() => {
  const b = randomBytes(4)
  return ((b[0]! << 22) | (b[1]! << 14) | (b[2]! << 6) | (b[3]! & 63)) >>> 0
})()
const PROCESS = encode(PROCESS_NUMBER, 6)

/** The last two characters of every 10-bit value: an id costs one string concatenation. */
const TAIL = Array.from({ length: 1024 }, (_, i) => encode(i, 2))

let lastMs = -1
let lastTime = ''
let lastHigh = -1
let prefix = ''
let seq = Math.floor(Math.random() * 2 ** 20)

/**
 * Reserves `n` consecutive sequence numbers and returns the first; predictionId(wall, first + i)
 * for i < n then makes the ids. Strictly increasing, except once every 2^50 ids, when the
 * sequence starts again at 0 (the gateway's feedback store then forgets what it held).
 */
export function reservePredictionIds (n: number): number {
  if (seq + n >= SEQ_LIMIT) seq = -1
  const first = seq + 1
  seq += n
  return first
}

/** The id of sequence number `s` (from reservePredictionIds) made at wall time `nowMs`. */
export function predictionId (nowMs: number, s: number): string {
  const high = Math.floor(s / 1024)
  if (nowMs !== lastMs || high !== lastHigh) {
    if (nowMs !== lastMs) lastTime = encode(nowMs, 10)
    lastMs = nowMs
    lastHigh = high
    prefix = lastTime + PROCESS + encode(high, 8)
  }
  return prefix + TAIL[s & 1023]!
}

export function nextPredictionId (nowMs: number = Date.now()): string {
  return predictionId(nowMs, reservePredictionIds(1))
}

const ID_RE = /^[0-9A-HJKMNP-TV-Z]{26}$/

export function isPredictionId (s: unknown): s is string {
  return typeof s === 'string' && ID_RE.test(s)
}

/** Milliseconds since the epoch at which an id was made (-1 for a malformed id). */
export function predictionIdTime (id: string): number {
  return id.length === 26 ? decode(id, 0, 10) : -1
}

/**
 * The sequence number of an id this process made, or -1 for any other string (another
 * process's id, a malformed one).
 */
export function ownPredictionSequence (id: string): number {
  if (id.length !== 26 || decode(id, 10, 6) !== PROCESS_NUMBER) return -1
  return decode(id, 16, 10)
}

/** An id's length, and its BYTES tensor element: the 4-byte little-endian length, then the id. */
const ID_LENGTH = 26
const ELEMENT = 4 + ID_LENGTH
const SHARED = ID_LENGTH - 2
/** Bytes of the BYTES tensor of n ids made by predictionId (writePredictionIdElements). */
export function predictionIdElementsLength (n: number): number { return n * ELEMENT }

/** TAIL as ASCII codes, two per 10-bit value. */
const TAIL_CODES = Uint8Array.from(TAIL.join(''), c => c.charCodeAt(0))

/**
 * The BYTES tensor elements of predictionId(nowMs, first + i) for i < n, written from `at`
 * without making or reading the strings; returns the end. Ids of one answer differ only in their
 * last two characters within each block of 1024 sequence numbers: a block's first element is
 * written, copied onto the rest by doubling (six native copies for 64 ids: a copy per id, or a
 * byte loop, costs more), and then each id's two last characters are set.
 */
export function writePredictionIdElements (nowMs: number, first: number, n: number, out: Uint8Array, at: number): number {
  let s = first
  const end = first + n
  while (s < end) {
    const id = predictionId(nowMs, s)
    const start = at
    out[at] = ID_LENGTH
    out[at + 1] = 0
    out[at + 2] = 0
    out[at + 3] = 0
    for (let k = 0; k < SHARED; k++) out[at + 4 + k] = id.charCodeAt(k)
    const blockEnd = Math.min(end, (Math.floor(s / 1024) + 1) * 1024)
    const total = (blockEnd - s) * ELEMENT
    for (let filled = ELEMENT; filled < total;) {
      const c = Math.min(filled, total - filled)
      out.copyWithin(start + filled, start, start + c)
      filled += c
    }
    for (at += 4 + SHARED; s < blockEnd; s++) {
      const t = (s & 1023) * 2
      out[at] = TAIL_CODES[t]!
      out[at + 1] = TAIL_CODES[t + 1]!
      at += ELEMENT
    }
    at = start + total
  }
  return at
}
