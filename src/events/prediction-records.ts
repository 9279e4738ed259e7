// Prediction events written straight from a WireBatch's columns into Kafka record bytes, in the
// Kafka worker: key, JSON value and CloudEvents headers as record/v0 lays them out after the
// offset delta (produce-request.ts copies each in place as an EncodedRecord). The same bytes as
// PredictionEncoder.message (wire.ts) going through kafkajs' record encoder; a test holds the two
// equal, byte for byte.
//
// WHY: profiled in the worker (`tsx loadtest/profile-kafka-worker.ts --profile`), building each
// event as strings and a headers object, then writing them out again as UTF-8, was about half of
// its CPU per event (the strings, their garbage, the encoder's per-string work). Here the
// constant parts are encoded once, per lane or per worker, and the varying ones (ids, numbers,
// the time) are written as bytes where they are made.
import { CE_TYPES } from './cloudevents.js'
import { EncodedRecord, uvarintSize } from './produce-request.js'
import { NUMS, N_BATCH, N_DECISION, N_FEATURES, N_GROUPS, N_LANE, N_LATENCY, N_QUEUE, N_ROWS, N_SCORE, N_THRESHOLD, N_TS, type LaneDef, type WireBatch, type WorkerInit } from './wire.js'

/** UTF-8 bytes of a string. */
const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8')

/** Bytes of the zigzag varint of a non-negative int below 2^30 (Encoder#writeVarInt). */
const varintSize = (n: number): number => uvarintSize(n << 1)

/** A record header (key and value) as record/v0 writes it: zigzag lengths, then the bytes. */
function headerBytes (key: string, value: string): Buffer {
  const k = utf8(key)
  const v = utf8(value)
  const out = Buffer.alloc(varintSize(k.length) + k.length + varintSize(v.length) + v.length)
  let at = writeVarint(out, 0, k.length)
  at += k.copy(out, at)
  at = writeVarint(out, at, v.length)
  v.copy(out, at)
  return out
}

/** Writes the zigzag varint of a non-negative int below 2^30 at `at`; returns the end. */
function writeVarint (out: Uint8Array, at: number, n: number): number {
  let v = n << 1
  while ((v & 0xffffff80) !== 0) { out[at++] = (v & 0x7f) | 0x80; v >>>= 7 }
  out[at++] = v
  return at
}

const EMPTY = Buffer.alloc(0)
/** Room per send in one chunk; an event that would not fit starts a new one. */
const CHUNK = 256 * 1024
/** Bytes of an event beyond its strings, groups and features: constants, numbers, varints. */
const EVENT_FIXED = 1024

interface ByteLane {
  /** `,"model":…,"variant":…,"score":` */
  prefix: Buffer
  width: number
  attrs: number
  /** `"attr":"value"` per attribute and value. */
  pairs: Buffer[][]
  /** The longest `"groups":{…}` this lane can write. */
  groupsMax: number
}

/** Does s need nothing but itself between JSON's quotes, one byte per character? */
function plainAscii (s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false
  }
  return true
}

const ASCII = (s: string): Uint8Array => Uint8Array.from(s, c => c.charCodeAt(0))
const K_ID = ASCII('{"id":')
const K_REQUEST = ASCII(',"request_id":')
const K_TS = ASCII(',"ts":')
const K_GROUPS = ASCII(',"groups":{')
const K_FEATURES = ASCII(',"features":')
const NULL = ASCII('null')

/** A number of the value after the score: its key, its column in nums, whether it is ms rounded to 3 decimals. */
type Field = readonly [Uint8Array, number, boolean]
const FIELDS: readonly Field[] = [
  [ASCII(',"decision":'), N_DECISION, false],
  [ASCII(',"threshold":'), N_THRESHOLD, false],
  [ASCII(',"latency_ms":'), N_LATENCY, true],
  [ASCII(',"queue_ms":'), N_QUEUE, true],
  [ASCII(',"batch_size":'), N_BATCH, false],
  [ASCII(',"request_rows":'), N_ROWS, false]
]

export class PredictionRecords {
  private readonly lanes: ByteLane[] = []
  private readonly replicaTail: Buffer
  /** Headers before ce_id's value (count, ce_specversion, ce_id's key) and between ce_id and ce_time's value. */
  private readonly headersHead: Buffer
  private readonly headersMid: Buffer
  private readonly headersTail: Buffer
  /** Bytes of every constant an event carries (headers, the replica). */
  private readonly constants: number
  private buf: Buffer = EMPTY
  private pos = 0
  /** Bytes the first chunk of this send gets (begin()). */
  private firstChunk = 0
  private lastMs = NaN
  private readonly iso = Buffer.alloc(40)
  private isoLength = 0
  private lastTsMs = NaN
  private lastTs = ''

  constructor (private readonly init: Pick<WorkerInit, 'replica' | 'includeGroups' | 'includeFeatures'>) {
    this.replicaTail = utf8(`,"replica":${JSON.stringify(init.replica)}`)
    // kafkajs writes headers in key order: ce_specversion, ce_id, ce_type, ce_source, ce_time, content-type.
    const ceId = utf8('ce_id')
    this.headersHead = Buffer.concat([Buffer.from([6 << 1]), headerBytes('ce_specversion', '1.0'), Buffer.from([ceId.length << 1]), ceId])
    const ceTime = utf8('ce_time')
    this.headersMid = Buffer.concat([headerBytes('ce_type', CE_TYPES.prediction), headerBytes('ce_source', `fairgate/${init.replica}`), Buffer.from([ceTime.length << 1]), ceTime])
    this.headersTail = headerBytes('content-type', 'application/json')
    this.constants = this.headersHead.length + this.headersMid.length + this.headersTail.length + this.replicaTail.length
  }

  addLanes (defs: LaneDef[]): void {
    for (const d of defs) {
      const pairs = d.attributes.map((a, i) => (d.values[i] as string[]).map(v => utf8(`${JSON.stringify(a)}:${JSON.stringify(v)}`)))
      this.lanes[d.index] = {
        prefix: utf8(`,"model":${JSON.stringify(d.model)},"variant":${JSON.stringify(d.variant)},"score":`),
        width: d.width,
        attrs: d.attributes.length,
        pairs,
        groupsMax: pairs.reduce((n, p) => n + 1 + Math.max(0, ...p.map(b => b.length)), 16)
      }
    }
  }

  /** Starts a send of up to `events` events: its records share chunks, the first made by the first record. */
  begin (events: number): void {
    this.buf = EMPTY
    this.pos = 0
    this.firstChunk = Math.min(CHUNK, Math.max(4096, events * 640))
  }

  /** Prediction event k of the batch as an EncodedRecord (begin() first, once per send). */
  message (b: WireBatch, k: number): EncodedRecord {
    const o = k * NUMS
    const nums = b.nums
    const lane = this.lanes[nums[o + N_LANE] as number]!
    const cuts = b.cuts
    const idFrom = cuts[2 * k] as number
    const idTo = cuts[2 * k + 1] as number
    const reqTo = cuts[2 * k + 2] as number
    const features = this.init.includeFeatures && b.features !== null
    // An upper bound of the event's bytes: UTF-8 is at most 3 bytes per UTF-16 unit, and a JSON
    // escape at most 6 ASCII characters per unit.
    const bound = EVENT_FIXED + 3 * 3 * (idTo - idFrom) + 6 * (reqTo - idTo) + lane.prefix.length + this.constants +
      (this.init.includeGroups ? lane.groupsMax : 0) + (features ? 32 * lane.width + 16 : 0)
    if (this.pos + bound > this.buf.length) {
      this.buf = Buffer.allocUnsafeSlow(Math.max(this.buf === EMPTY ? this.firstChunk : CHUNK, bound))
      this.pos = 0
    }
    const buf = this.buf
    const start = this.pos
    const strs = b.strs
    const id = strs.slice(idFrom, idTo)
    const ts = nums[o + N_TS] as number
    // Key: the prediction id (ce_id's value below is the same bytes, length and all).
    let at = this.string(start, id)
    const keyEnd = at
    // Value: its length is known once written; two bytes of room fit values of 64-8,191 bytes.
    const lengthAt = at
    const valueAt = at + 2
    at = this.raw(valueAt, K_ID)
    at = this.jsonString(at, id)
    at = this.raw(at, K_REQUEST)
    at = this.jsonString(at, strs.slice(idTo, reqTo))
    at = this.raw(at, K_TS)
    at = this.num(at, ts)
    at = this.raw(at, lane.prefix)
    at = this.num(at, nums[o + N_SCORE] as number)
    for (let f = 0; f < FIELDS.length; f++) {
      const [key, column, rounded] = FIELDS[f] as Field
      at = this.raw(at, key)
      const x = nums[o + column] as number
      at = rounded ? this.ms3(at, x) : this.num(at, x)
    }
    at = this.raw(at, this.replicaTail)
    if (this.init.includeGroups) {
      at = this.raw(at, K_GROUPS)
      const g = nums[o + N_GROUPS] as number
      let first = true
      for (let a = 0; a < lane.attrs; a++) {
        const v = b.groups[g + a] as number
        if (v < 0) continue
        if (!first) buf[at++] = 0x2c
        at = this.raw(at, (lane.pairs[a] as Buffer[])[v] as Buffer)
        first = false
      }
      buf[at++] = 0x7d
    }
    if (features) {
      const f = nums[o + N_FEATURES] as number
      at = this.raw(at, K_FEATURES)
      at += buf.write(JSON.stringify(Array.from((b.features as Float32Array).subarray(f, f + lane.width))), at, 'latin1')
    }
    buf[at++] = 0x7d
    at = this.placeLength(lengthAt, valueAt, at)
    // Headers: the constants around ce_id and ce_time.
    at = this.raw(at, this.headersHead)
    buf.copyWithin(at, start, keyEnd)
    at += keyEnd - start
    at = this.raw(at, this.headersMid)
    at = this.isoAt(at, ts)
    at = this.raw(at, this.headersTail)
    this.pos = at
    return new EncodedRecord(id, this.timestamp(ts), buf, start, at)
  }

  private raw (at: number, bytes: Uint8Array): number {
    this.buf.set(bytes, at)
    return at + bytes.length
  }

  /** Characters of a plain-ASCII string, one byte each. */
  private ascii (at: number, s: string): number {
    const buf = this.buf
    for (let i = 0; i < s.length; i++) buf[at++] = s.charCodeAt(i)
    return at
  }

  /** JSON.stringify(s), as UTF-8. */
  private jsonString (at: number, s: string): number {
    if (!plainAscii(s)) return at + this.buf.write(JSON.stringify(s), at, 'utf8')
    this.buf[at++] = 0x22
    at = this.ascii(at, s)
    this.buf[at++] = 0x22
    return at
  }

  /** A key or header value: zigzag varint of its UTF-8 length, then the bytes. */
  private string (at: number, s: string): number {
    let ascii = true
    for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) { ascii = false; break }
    if (ascii) return this.ascii(writeVarint(this.buf, at, s.length), s)
    const bytes = utf8(s)
    return this.raw(writeVarint(this.buf, at, bytes.length), bytes)
  }

  /** Puts the value's length varint in the two bytes before it, moving the value if it needs other than two. */
  private placeLength (lengthAt: number, valueAt: number, end: number): number {
    const len = end - valueAt
    const size = varintSize(len)
    if (size !== 2) {
      this.buf.copyWithin(lengthAt + size, valueAt, end)
      end += size - 2
    }
    writeVarint(this.buf, lengthAt, len)
    return end
  }

  /** A number as JSON.stringify writes it (null for NaN and ±Infinity). */
  private num (at: number, x: number): number {
    if (Number.isSafeInteger(x) && x >= 0) return this.digits(at, x)
    if (!Number.isFinite(x)) return this.raw(at, NULL)
    return this.ascii(at, String(x))
  }

  /** Decimal digits of a non-negative safe integer. */
  private digits (at: number, n: number): number {
    const buf = this.buf
    let len = 1
    for (let p = 10; p <= n; p *= 10) len++
    for (let i = at + len - 1; i >= at; i--) {
      buf[i] = 0x30 + (n % 10)
      n = Math.floor(n / 10)
    }
    return at + len
  }

  /**
   * Math.round(x * 1000) / 1000 as JSON writes it, from the integer k = Math.round(x * 1000): the
   * double nearest k/1000 prints as that decimal (k/1000 has at most 15 significant digits here,
   * which no other double's shortest form shares), so the digits are k's with a point.
   */
  private ms3 (at: number, x: number): number {
    const k = Math.round(x * 1000)
    if (!(k >= 0 && k < 1e15)) return this.num(at, k / 1000)
    const whole = Math.floor(k / 1000)
    let frac = k - whole * 1000
    at = this.digits(at, whole)
    if (frac === 0) return at
    const buf = this.buf
    buf[at++] = 0x2e
    let width = 3
    while (frac % 10 === 0) { frac /= 10; width-- }
    for (let i = at + width - 1; i >= at; i--) {
      buf[i] = 0x30 + (frac % 10)
      frac = Math.floor(frac / 10)
    }
    return at + width
  }

  /** ce_time's value (length and ISO time), the bytes made once per distinct millisecond. */
  private isoAt (at: number, ms: number): number {
    if (ms !== this.lastMs) {
      this.lastMs = ms
      const s = new Date(ms).toISOString()
      this.isoLength = writeVarint(this.iso, 0, s.length)
      for (let i = 0; i < s.length; i++) this.iso[this.isoLength++] = s.charCodeAt(i)
    }
    return at + this.iso.copy(this.buf, at, 0, this.isoLength)
  }

  /** The record's timestamp as kafkajs takes it (String(ts)), once per distinct millisecond. */
  private timestamp (ms: number): string {
    if (ms !== this.lastTsMs) {
      this.lastTsMs = ms
      this.lastTs = String(ms)
    }
    return this.lastTs
  }
}
