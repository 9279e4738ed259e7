// The body of a Kafka Produce request (versions 3-7, what kafkajs 2.2.4 sends to a 4.x broker),
// written in one pass into one buffer. kafkajs-fast-path.ts puts it in place of kafkajs' own
// produce/v3/request.js, which versions 4-7 reuse.
//
// WHY: profiled in the Kafka worker, kafkajs' encoding was most of the CPU per event. For each
// record it spreads the message into a new object (`{...message, offsetDelta, timestampDelta}`,
// ~3 µs on Node 20's V8, which takes a slow path for properties added after a spread), builds eight Encoders (one per header plus the record), each a
// zero-filled 512-byte Buffer, writes every varint through a temporary array and Buffer.from,
// measures every string twice and zigzags the timestamp delta through a BigInt-backed Long; then
// the record batch, the partition and the topic are each copied into a new growing Encoder, and
// the CRC32C runs a byte at a time. Here records are written straight into the request body's
// one buffer (short ASCII strings in JS, others with one Buffer#write, varints in place) and the
// CRC runs 8 bytes a step.
//
// Same bytes: the request fields outside the records are written by kafkajs' own Encoder
// methods, and a record is written here only when its fields are of the plain kinds whose
// encoding is certain (strings, Buffers, null; integer deltas). Anything else (compression, a
// message that is not a plain object, a numeric header, a fractional timestamp) makes the whole
// request go through kafkajs' own encoder, so odd input still gets kafkajs' bytes or kafkajs'
// error. test/events/produce-request.test.ts holds the two equal byte for byte.

/** The parts of kafkajs' Encoder (src/protocol/encoder.js) used here. */
export interface KafkajsEncoder {
  buf: Buffer
  offset: number
  ensureAvailable: (n: number) => void
  writeInt8: (v: unknown) => KafkajsEncoder
  writeInt16: (v: unknown) => KafkajsEncoder
  writeInt32: (v: unknown) => KafkajsEncoder
  writeInt64: (v: unknown) => KafkajsEncoder
  writeString: (v: unknown) => KafkajsEncoder
}

export type EncoderClass = new (initialSize?: number) => KafkajsEncoder

interface PartitionData { partition: unknown, messages: unknown[], firstSequence?: unknown }
interface TopicData { topic: unknown, partitions: PartitionData[] }

/** What kafkajs passes to produce/v3/request.js. */
export interface ProduceArgs {
  acks: unknown
  timeout: unknown
  transactionalId?: unknown
  producerId?: unknown
  producerEpoch?: unknown
  compression?: unknown
  topicData: TopicData[]
}

export interface ProduceRequest { encode: () => Promise<unknown>, [k: string]: unknown }

/** Strings up to this many UTF-16 units are written in JS when ASCII (a Buffer#write costs more). */
const SHORT = 48
/** Largest |timestamp delta| written here; above it, zigzag (2|d|) would pass 2^53. */
const MAX_DELTA = 2 ** 51
/** RecordBatch attributes bit of a transactional batch (recordBatch/v0). */
const TRANSACTIONAL = 16
const MAGIC = 2

/** Bytes of the unsigned LEB128 varint of a uint32 (given as int32 bits). */
export function uvarintSize (v: number): number {
  let n = 1
  while ((v & 0xffffff80) !== 0) { n++; v >>>= 7 }
  return n
}

/** A message kafkajs would spread into exactly its own key, value, headers and timestamp. */
function plain (m: unknown): m is { key?: unknown, value?: unknown, headers?: unknown, timestamp?: unknown } {
  if (typeof m !== 'object' || m === null) return false
  const p = Object.getPrototypeOf(m)
  return p === Object.prototype || p === null
}

/**
 * A record whose key, value and headers are already encoded, as record/v0 lays them out after the
 * offset delta, in `bytes[start, end)` (prediction-records.ts): written by one copy. `key` and
 * `timestamp` are the strings kafkajs' partitioner and this encoder's batch timestamps read;
 * `value` is only there for kafkajs' check that a message has one. kafkajs' own encoder cannot
 * write it, so a request holding one never falls back to it: it fails instead.
 */
export class EncodedRecord {
  constructor (readonly key: string, readonly timestamp: string, readonly value: Buffer, readonly start: number, readonly end: number) {}
}

/** Writes records into a kafkajs Encoder's buffer; `false` from any write means "not ours". */
class RecordWriter {
  private e!: KafkajsEncoder
  private buf!: Buffer
  private pos = 0
  /** Bytes left for a record's length varint before its body: the last record's, usually right. */
  private lengthRoom = 2

  attach (e: KafkajsEncoder): void { this.e = e; this.buf = e.buf; this.pos = e.offset }
  /** Hands the position back to the Encoder (before its own methods write). */
  sync (): void { this.e.offset = this.pos }
  reload (): void { this.buf = this.e.buf; this.pos = this.e.offset }

  private ensure (n: number): void {
    if (this.pos + n <= this.buf.length) return
    this.e.offset = this.pos
    this.e.ensureAvailable(n)
    this.buf = this.e.buf
  }

  private uvarint (v: number): void {
    const buf = this.buf
    let p = this.pos
    while ((v & 0xffffff80) !== 0) {
      buf[p++] = (v & 0x7f) | 0x80
      v >>>= 7
    }
    buf[p++] = v & 0x7f
    this.pos = p
  }

  /** zigzag varint of a safe integer with |v| <= MAX_DELTA (Encoder#writeVarLong). */
  private varlong (v: number): void {
    if (v >= -0x40000000 && v < 0x40000000) { this.uvarint((v << 1) ^ (v >> 31)); return }
    let z = v >= 0 ? v * 2 : -v * 2 - 1
    while (z >= 0x80) {
      this.buf[this.pos++] = (z % 0x80) | 0x80
      z = Math.floor(z / 0x80)
    }
    this.buf[this.pos++] = z
  }

  /** Length-prefixed (zigzag varint) UTF-8, as Encoder#writeVarIntBytes/writeVarIntString. */
  private string (s: string): void {
    const n = s.length
    this.ensure(5 + 3 * n)
    const buf = this.buf
    if (n <= SHORT) {
      // ASCII only: then bytes = units, and 2 * 48 < 128 is a 1-byte length.
      const start = this.pos + 1
      let p = start
      for (; p - start < n; p++) {
        const c = s.charCodeAt(p - start)
        if (c > 0x7f) break
        buf[p] = c
      }
      if (p - start === n) { buf[this.pos] = n << 1; this.pos = p; return }
    }
    // UTF-8 is at least one byte per UTF-16 unit: guess the length prefix from the units and
    // move the bytes on the rare string whose byte length needs a longer one.
    const guess = uvarintSize(n << 1)
    const bytes = buf.write(s, this.pos + guess)
    const size = uvarintSize(bytes << 1)
    if (size !== guess) buf.copyWithin(this.pos + size, this.pos + guess, this.pos + guess + bytes)
    this.uvarint(bytes << 1)
    this.pos += bytes
  }

  /** A key or value: a string, a Buffer, or null/undefined (varint -1). */
  private bytes (v: unknown): boolean {
    if (typeof v === 'string') this.string(v)
    else if (v === null || v === undefined) { this.ensure(1); this.buf[this.pos++] = 1 } else if (Buffer.isBuffer(v)) {
      this.ensure(5 + v.length)
      this.uvarint(v.length << 1)
      this.buf.set(v, this.pos)
      this.pos += v.length
    } else return false
    return true
  }

  /** A header value: a string or a Buffer (kafkajs throws on anything else, null included). */
  private headerValue (v: unknown): boolean {
    return (typeof v === 'string' || Buffer.isBuffer(v)) && this.bytes(v)
  }

  /**
   * A record's start (recordBatch/record/v0): room for its length, attributes and deltas; returns
   * where it starts, or -1 for a delta kafkajs would write differently. finish() writes the length.
   */
  private begin (offsetDelta: number, timestampDelta: number, tail: number): number {
    if (!Number.isInteger(timestampDelta) || Math.abs(timestampDelta) > MAX_DELTA) return -1
    this.ensure(5 + 1 + 10 + 5 + tail)
    const start = this.pos
    this.pos += this.lengthRoom
    this.buf[this.pos++] = 0 // attributes
    this.varlong(timestampDelta)
    this.uvarint(offsetDelta << 1)
    return start
  }

  /** Puts the length of the record begun at `start` before it, moving the body if the room guessed was wrong. */
  private finish (start: number): void {
    const room = this.lengthRoom
    const bodyStart = start + room
    const len = this.pos - bodyStart
    const size = uvarintSize(len << 1)
    if (size !== room) {
      this.ensure(size)
      this.buf.copyWithin(start + size, bodyStart, this.pos)
      this.pos += size - room
      this.lengthRoom = size
    }
    const end = this.pos
    this.pos = start
    this.uvarint(len << 1)
    this.pos = end
  }

  /** One record from kafkajs' message fields: key, value, headers. */
  record (offsetDelta: number, timestampDelta: number, key: unknown, value: unknown, headers: unknown): boolean {
    const h = headers === undefined ? {} : headers
    if (typeof h !== 'object' || h === null) return false
    const start = this.begin(offsetDelta, timestampDelta, 0)
    if (start < 0 || !this.bytes(key) || !this.bytes(value)) return false
    const hs = h as Record<string, unknown>
    const keys = Object.keys(hs)
    // One header per value of an array-valued header (kafkajs flattens them).
    let count = 0
    for (const k of keys) { const v = hs[k]; count += Array.isArray(v) ? v.length : 1 }
    this.ensure(5)
    this.uvarint(count << 1)
    for (const k of keys) {
      const v = hs[k]
      if (Array.isArray(v)) {
        for (const x of v as unknown[]) { this.string(k); if (!this.headerValue(x)) return false }
      } else {
        this.string(k)
        if (!this.headerValue(v)) return false
      }
    }
    this.finish(start)
    return true
  }

  /** One EncodedRecord: its key, value and headers are one copy. */
  encoded (offsetDelta: number, timestampDelta: number, r: EncodedRecord): boolean {
    const start = this.begin(offsetDelta, timestampDelta, r.end - r.start)
    if (start < 0) return false
    this.pos += r.value.copy(this.buf, this.pos, r.start, r.end)
    this.finish(start)
    return true
  }

  crcFrom (from: number): number { return crc32c(this.buf.subarray(from, this.pos)) }
  get position (): number { return this.pos }
}

/**
 * A drop-in for kafkajs/src/protocol/requests/produce/v3/request.js: `stock` is kafkajs' own
 * (its request object is returned, with an encode that writes the same bytes faster and falls
 * back to kafkajs' encode for anything it does not handle).
 */
export function createProduceRequest (stock: (args: ProduceArgs) => ProduceRequest, Encoder: EncoderClass): (args: ProduceArgs) => ProduceRequest {
  const w = new RecordWriter()
  /** Bytes per record in the last request, to size the next one's buffer in one go. */
  let perRecord = 256

  /** The partition's record batch (recordBatch/v0) with its size prefix; false: not ours. */
  const partition = (e: KafkajsEncoder, data: PartitionData, args: ProduceArgs, transactional: boolean): boolean => {
    const messages = data.messages
    const n = messages.length
    const dateNow = Date.now()
    // kafkajs: the batch's first and max timestamps are those of the messages sorted with
    // Array#sort's default (string) order. For strings a min/max scan finds the same two.
    let first: unknown
    let max: unknown
    let strings = true
    for (let i = 0; i < n; i++) {
      const ts = (messages[i] as { timestamp?: unknown } | null)?.timestamp
      if (ts == null) continue
      if (typeof ts !== 'string') { strings = false; break }
      if (first === undefined || ts < (first as string)) first = ts
      if (max === undefined || ts > (max as string)) max = ts
    }
    if (!strings) {
      const sorted = messages.map(m => (m as { timestamp?: unknown }).timestamp).filter(ts => ts != null).sort()
      first = sorted[0]
      max = sorted[sorted.length - 1]
    }
    if (first === undefined) first = max = dateNow
    e.writeInt32(data.partition)
    const sizeAt = e.offset
    e.writeInt32(0) // record batch size, below
    e.writeInt64(0) // first offset
    e.writeInt32(0) // batch length, below
    e.writeInt32(0) // partition leader epoch
    e.writeInt8(MAGIC)
    const crcAt = e.offset
    e.writeInt32(0) // CRC32C, below
    const bodyAt = e.offset
    e.writeInt16(transactional ? TRANSACTIONAL : 0)
    e.writeInt32(n - 1)
    e.writeInt64(first)
    e.writeInt64(max)
    e.writeInt64(args.producerId === undefined ? -1 : args.producerId)
    e.writeInt16(args.producerEpoch === undefined ? 0 : args.producerEpoch)
    e.writeInt32(data.firstSequence === undefined ? 0 : data.firstSequence)
    e.writeInt32(n)
    w.reload()
    for (let i = 0; i < n; i++) {
      const m = messages[i]
      const encoded = m instanceof EncodedRecord ? m : null
      if (encoded === null && !plain(m)) return false
      const msg = m as { key?: unknown, value?: unknown, headers?: unknown, timestamp?: unknown }
      // The same expression as kafkajs, so the same coercions.
      const timestampDelta = ((msg.timestamp as number) || dateNow) - (first as number)
      if (!(encoded === null ? w.record(i, timestampDelta, msg.key, msg.value, msg.headers) : w.encoded(i, timestampDelta, encoded))) return false
    }
    const crc = w.crcFrom(bodyAt)
    w.sync()
    const buf = e.buf
    buf.writeUInt32BE(crc, crcAt)
    const batchLength = e.offset - crcAt + 5 // epoch (4) + magic (1) + CRC and body
    buf.writeInt32BE(batchLength, crcAt - 9)
    buf.writeInt32BE(batchLength + 12, sizeAt)
    return true
  }

  const encode = (args: ProduceArgs): KafkajsEncoder | null => {
    if (args.compression !== undefined && args.compression !== 0) return null
    // Any throw (kafkajs' own Encoder methods refusing a value) is left to kafkajs to repeat.
    try {
      return encodeOrNull(args)
    } catch {
      return null
    }
  }

  const encodeOrNull = (args: ProduceArgs): KafkajsEncoder | null => {
    const transactionalId = args.transactionalId === undefined ? null : args.transactionalId
    let records = 0
    for (const t of args.topicData) for (const p of t.partitions) records += p.messages.length
    // Offset deltas are written as 32-bit zigzag varints.
    if (records >= 0x20000000) return null
    const e = new Encoder(0)
    e.buf = Buffer.allocUnsafeSlow(1024 + Math.ceil(records * perRecord * 1.25))
    e.writeString(transactionalId)
    e.writeInt16(args.acks)
    e.writeInt32(args.timeout)
    e.writeInt32(args.topicData.length)
    w.attach(e)
    for (const t of args.topicData) {
      e.writeString(t.topic)
      e.writeInt32(t.partitions.length)
      for (const p of t.partitions) if (!partition(e, p, args, Boolean(transactionalId))) return null
    }
    if (records > 0) perRecord = Math.max(64, Math.ceil(e.offset / records))
    return e
  }

  // Named, so that a test can tell the installed module from kafkajs' own.
  return function fairgateProduceRequest (args: ProduceArgs): ProduceRequest {
    const req = stock(args)
    const stockEncode = req.encode
    req.encode = async () => {
      const e = encode(args)
      if (e !== null) return e
      if (holdsEncoded(args)) throw new Error('a produce request with pre-encoded records (EncodedRecord) that this encoder cannot write: compression, or a timestamp out of range')
      return await stockEncode()
    }
    return req
  }
}

function holdsEncoded (args: ProduceArgs): boolean {
  for (const t of args.topicData) for (const p of t.partitions) for (const m of p.messages) if (m instanceof EncodedRecord) return true
  return false
}

/** CRC32C (Castagnoli) table, 8 slices: slice k advances a byte k positions further. */
const CRC_TABLE = (() => {
  const t = new Int32Array(8 * 256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
    t[n] = c
  }
  for (let n = 0; n < 256; n++) {
    for (let s = 1; s < 8; s++) {
      const prev = t[(s - 1) * 256 + n] as number
      t[s * 256 + n] = (t[prev & 0xff] as number) ^ (prev >>> 8)
    }
  }
  return t
})()

/** CRC32C of the bytes, unsigned (as kafkajs' recordBatch/crc32C), eight bytes a step. */
export function crc32c (buf: Uint8Array): number {
  const t = CRC_TABLE
  const n = buf.length
  const end8 = n - (n & 7)
  let crc = -1
  let i = 0
  for (; i < end8; i += 8) {
    const a = crc ^ ((buf[i] as number) | ((buf[i + 1] as number) << 8) | ((buf[i + 2] as number) << 16) | ((buf[i + 3] as number) << 24))
    crc = (t[1792 + (a & 0xff)] as number) ^ (t[1536 + ((a >>> 8) & 0xff)] as number) ^
      (t[1280 + ((a >>> 16) & 0xff)] as number) ^ (t[1024 + (a >>> 24)] as number) ^
      (t[768 + (buf[i + 4] as number)] as number) ^ (t[512 + (buf[i + 5] as number)] as number) ^
      (t[256 + (buf[i + 6] as number)] as number) ^ (t[buf[i + 7] as number] as number)
  }
  for (; i < n; i++) crc = (t[(crc ^ (buf[i] as number)) & 0xff] as number) ^ (crc >>> 8)
  return (crc ^ -1) >>> 0
}
