// kafkajs 2.2.4's record batch decoder (src/protocol/recordBatch/v0/decoder.js), with records
// read straight from the fetch response's buffer. kafkajs-record-decoder.ts puts it in place of
// kafkajs' own for the consumers of the process.
//
// WHY: profiled in a monitor shard, kafkajs' consumer was most of the CPU per event, and its
// record decoder the top of it: per record it slices the record into a Buffer of its own and a
// new Decoder over it, reads the timestamp delta as a BigInt-backed Long (a Long per varint
// byte), adds both deltas as Longs and prints them, slices every header key into a Buffer to
// print it, and builds the headers object with one object spread per header (6 per CloudEvents
// event, quadratic in the headers). Here a record is read in place: varints as numbers, the
// sums in doubles while they are exact, header keys printed from the buffer, headers assigned.
//
// Same output: the batch fields are read by kafkajs' own Decoder methods in kafkajs' order; a
// record comes out with the same fields in the same order, the same strings, and key, value
// and header values as Buffers over the same bytes. A record is read here only when every field
// is of the kind whose decoding is certain (lengths within the record, deltas and sums exact in
// a double, header keys present and not `__proto__`); any other record is decoded by kafkajs'
// own record decoder, so odd input gets kafkajs' output or kafkajs' error.
// test/events/record-batch-decoder.test.ts holds the two equal.

import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

/** The parts of kafkajs' Decoder (src/protocol/decoder.js) used here. */
export interface KafkajsDecoder {
  buffer: Buffer
  offset: number
  readInt8: () => number
  readInt16: () => number
  readInt32: () => number
  readInt64: () => { toString: () => string }
  readVarInt: () => number
  readVarIntBytes: () => Buffer | null
  readAll: () => Buffer
  slice: (size: number) => KafkajsDecoder
  forward: (size: number) => void
}

export type DecoderClass = new (buffer: Buffer) => KafkajsDecoder

/** What kafkajs' decoder returns for a batch, and passes each record as its batchContext. */
export interface BatchContext {
  firstOffset: string
  firstTimestamp: string
  partitionLeaderEpoch: number
  inTransaction: boolean
  isControlBatch: boolean
  lastOffsetDelta: number
  producerId: string
  producerEpoch: number
  firstSequence: number
  maxTimestamp: string
  timestampType: number
  magicByte?: number
}

export type StockRecordDecoder = (decoder: KafkajsDecoder, batchContext: BatchContext) => unknown

/** kafkajs' modules the replacement takes what it does not do itself from. */
export interface RecordBatchDeps {
  Decoder: DecoderClass
  /** kafkajs' record/v0/decoder.js. */
  decodeRecord: StockRecordDecoder
  lookupCodecByAttributes: (attributes: number) => { decompress: (b: Buffer) => Promise<Buffer> } | null
  KafkaJSPartialMessageError: new (message: string) => Error
}

/** kafkajs' own modules the replacement uses (also what the tests compare it with). */
export function recordBatchDeps (): RecordBatchDeps {
  return {
    Decoder: require('kafkajs/src/protocol/decoder.js') as RecordBatchDeps['Decoder'],
    decodeRecord: require('kafkajs/src/protocol/recordBatch/record/v0/decoder.js') as RecordBatchDeps['decodeRecord'],
    lookupCodecByAttributes: (require('kafkajs/src/protocol/message/compression/index.js') as Pick<RecordBatchDeps, 'lookupCodecByAttributes'>).lookupCodecByAttributes,
    KafkaJSPartialMessageError: (require('kafkajs/src/errors.js') as Pick<RecordBatchDeps, 'KafkaJSPartialMessageError'>).KafkaJSPartialMessageError
  }
}

const TIMESTAMP_TYPE_FLAG_MASK = 0x8
const TRANSACTIONAL_FLAG_MASK = 0x10
const CONTROL_FLAG_MASK = 0x20
const LOG_APPEND_TIME = 1
const CREATE_TIME = 0

type Headers = Record<string, Buffer | null | Array<Buffer | null>>

/** The last header key read at each header position, and its bytes (a copy). */
const keyBytes: Array<Buffer | undefined> = []
const keyStrings: string[] = []
const KEY_POSITIONS = 16
const KEY_BYTES = 64

/**
 * The header key in buf[p, p + len) as kafkajs prints it (UTF-8). Records of one producer carry
 * the same keys in the same order, so each is compared with the last key at its position first:
 * equal bytes print to an equal string, which is then taken instead of printing another.
 */
function headerKey (buf: Buffer, p: number, len: number, h: number): string {
  if (h >= KEY_POSITIONS || len > KEY_BYTES) return buf.toString('utf8', p, p + len)
  const last = keyBytes[h]
  if (last !== undefined && last.length === len) {
    let i = 0
    while (i < len && last[i] === buf[p + i]) i++
    if (i === len) return keyStrings[h]!
  }
  const k = buf.toString('utf8', p, p + len)
  keyBytes[h] = Buffer.from(buf.subarray(p, p + len))
  keyStrings[h] = k
  return k
}

/** readRecord's read position (module-wide, so the readers below advance it without an object). */
let at = 0

/** kafkajs' readVarInt (its int32 arithmetic and all) at `at`, or NaN when it runs to `end`. */
function varintAt (buf: Buffer, end: number): number {
  let v = 0
  let i = 0
  let b: number
  do {
    if (at >= end) return NaN
    b = buf[at++]!
    v += (b & 0x7f) << i
    i += 7
  } while (b >= 0x80)
  return (v >>> 1) ^ -(v & 1)
}

/** Length-prefixed bytes at `at` (-1 = null), or undefined when the length is not plain. */
function bytesAt (buf: Buffer, end: number): Buffer | null | undefined {
  const len = varintAt(buf, end)
  if (len === -1) return null
  if (!(len >= 0) || at + len > end) return undefined
  const bytes = buf.subarray(at, at + len)
  at += len
  return bytes
}

/**
 * Reads one record's body in [p, end) of buf, or returns null when it is not of the plain kinds
 * (then kafkajs' decoder reads it). baseOffset and baseTimestamp are the batch's first offset
 * and first timestamp as numbers (NaN when not exact in a double).
 */
function readRecord (buf: Buffer, p: number, end: number, ctx: BatchContext, baseOffset: number, baseTimestamp: number): object | null {
  if (p >= end) return null
  const attributes = (buf[p]! << 24) >> 24
  at = p + 1
  // Timestamp delta: a zigzag varlong; up to 7 bytes (49 bits) it is exact in a double.
  let r = 0
  let scale = 1
  let b: number
  let n = 0
  do {
    if (at >= end || ++n > 7) return null
    b = buf[at++]!
    r += (b & 0x7f) * scale
    scale *= 128
  } while (b >= 0x80)
  const tsDelta = r % 2 === 0 ? r / 2 : -(r + 1) / 2
  let timestamp: string
  if (ctx.timestampType === LOG_APPEND_TIME && ctx.maxTimestamp !== '') timestamp = ctx.maxTimestamp
  else {
    const ts = baseTimestamp + tsDelta
    if (!Number.isSafeInteger(ts)) return null
    timestamp = String(ts)
  }
  const off = baseOffset + varintAt(buf, end)
  if (!Number.isSafeInteger(off)) return null
  const offset = String(off)
  const key = bytesAt(buf, end)
  if (key === undefined) return null
  const value = bytesAt(buf, end)
  if (value === undefined) return null
  const count = varintAt(buf, end)
  if (!(count >= -1)) return null
  const headers: Headers = {}
  for (let h = 0; h < count; h++) {
    const klen = varintAt(buf, end)
    if (!(klen >= 0) || at + klen > end) return null
    const k = headerKey(buf, at, klen, h)
    at += klen
    if (k === '__proto__') return null
    const hv = bytesAt(buf, end)
    if (hv === undefined) return null
    // kafkajs' rule for a repeated key (its `obj[key] === undefined` also sees inherited names).
    const prev = headers[k]
    headers[k] = prev === undefined ? hv : Array.isArray(prev) ? prev.concat([hv]) : [prev, hv]
  }
  return { magicByte: ctx.magicByte, attributes, timestamp, offset, key, value, headers, isControlRecord: ctx.isControlBatch, batchContext: ctx }
}

/** An int64 printed by kafkajs as a number, or NaN when a double cannot hold it exactly. */
function exact (s: string): number {
  const n = Number(s)
  return Number.isSafeInteger(n) && String(n) === s ? n : NaN
}

/** kafkajs' recordBatch/v0/decoder.js, with records read by readRecord where it can. */
export function createRecordBatchDecoder (deps: RecordBatchDeps): (fetchDecoder: KafkajsDecoder) => Promise<BatchContext & { records: unknown[] }> {
  const { Decoder, decodeRecord: stockRecord, lookupCodecByAttributes, KafkaJSPartialMessageError } = deps

  /** `count` records from d (each a varint length and its body), as kafkajs reads them. */
  const readRecords = (d: KafkajsDecoder, count: number, ctx: BatchContext): unknown[] => {
    const records = new Array(count)
    const buf = d.buffer
    const baseOffset = exact(ctx.firstOffset)
    const baseTimestamp = exact(ctx.firstTimestamp)
    for (let k = 0; k < count; k++) {
      const start = d.offset
      const len = d.readVarInt()
      const body = d.offset
      const rec = len >= 0 && body + len <= buf.length ? readRecord(buf, body, body + len, ctx, baseOffset, baseTimestamp) : null
      if (rec !== null) {
        d.offset = body + len
        records[k] = rec
      } else {
        d.offset = start
        records[k] = stockRecord(new Decoder(d.readVarIntBytes()!), ctx)
      }
    }
    return records
  }

  return async function recordBatchDecoder (fetchDecoder) {
    const firstOffset = fetchDecoder.readInt64().toString()
    const length = fetchDecoder.readInt32()
    const decoder = fetchDecoder.slice(length)
    fetchDecoder.forward(length)
    const remainingBytes = Buffer.byteLength(decoder.buffer)
    if (remainingBytes < length) {
      throw new KafkaJSPartialMessageError(`Tried to decode a partial record batch: remainingBytes(${remainingBytes}) < recordBatchLength(${length})`)
    }
    const partitionLeaderEpoch = decoder.readInt32()
    const magicByte = decoder.readInt8()
    decoder.readInt32() // CRC, not checked (nor by kafkajs)
    const attributes = decoder.readInt16()
    const lastOffsetDelta = decoder.readInt32()
    const firstTimestamp = decoder.readInt64().toString()
    const maxTimestamp = decoder.readInt64().toString()
    const producerId = decoder.readInt64().toString()
    const producerEpoch = decoder.readInt16()
    const firstSequence = decoder.readInt32()
    const inTransaction = (attributes & TRANSACTIONAL_FLAG_MASK) > 0
    const isControlBatch = (attributes & CONTROL_FLAG_MASK) > 0
    const timestampType = (attributes & TIMESTAMP_TYPE_FLAG_MASK) > 0 ? LOG_APPEND_TIME : CREATE_TIME
    const codec = lookupCodecByAttributes(attributes)
    const recordContext = { firstOffset, firstTimestamp, partitionLeaderEpoch, inTransaction, isControlBatch, lastOffsetDelta, producerId, producerEpoch, firstSequence, maxTimestamp, timestampType }
    const ctx: BatchContext = { ...recordContext, magicByte }
    const count = decoder.readInt32()
    // kafkajs' two cases: uncompressed, only -1 means no records; compressed, any count ≤ 0.
    let records: unknown[]
    if (codec === null) records = count === -1 ? [] : readRecords(decoder, count, ctx)
    else records = count <= 0 ? [] : readRecords(new Decoder(await codec.decompress(decoder.readAll())), count, ctx)
    return { ...recordContext, records }
  }
}
