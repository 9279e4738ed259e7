// The record batch decoder that replaces kafkajs' (src/events/record-batch-decoder.ts) against
// kafkajs 2.2.4's own: prediction events as the gateway writes them, and batches written byte by
// byte to hit every branch (null keys and values, repeated and inherited header names, header
// counts and lengths of -1 and worse, long varlongs, offsets and timestamps past 2^53, records
// cut short or longer than declared, compression, control and log-append-time batches). Both
// must give the same batch (fields, order, strings, Buffers' bytes) or the same error, and leave
// the decoder at the same offset. This file must not import kafkajs-record-decoder.ts: it needs
// kafkajs' decoder as shipped.
import { createRequire } from 'node:module'
import t from 'tap'
import { createRecordBatchDecoder, recordBatchDeps, type KafkajsDecoder } from '../../src/events/record-batch-decoder.js'

const require = createRequire(import.meta.url)
const stock = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (d: KafkajsDecoder) => Promise<unknown>
const deps = recordBatchDeps()
const gzip = require('kafkajs/src/protocol/message/compression/gzip.js') as { compress: (e: { buffer: Buffer }) => Promise<Buffer> }

/** kafkajs' record decoder, counted: the replacement must fall back to it only where it should. */
let stockRecords = 0
const fast = createRecordBatchDecoder({ ...deps, decodeRecord: (d, ctx) => { stockRecords++; return deps.decodeRecord(d, ctx) } })

/** A batch as plain data, Buffers as hex, so that field order and types are compared too. */
function plain (v: unknown): unknown {
  if (Buffer.isBuffer(v)) return { hex: v.toString('hex') }
  if (Array.isArray(v)) return v.map(plain)
  if (typeof v === 'function') return `function ${v.name}`
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k === 'batchContext' ? JSON.stringify(plain(x)) : plain(x)]))
  return v
}

async function outcome (decode: (d: KafkajsDecoder) => Promise<unknown>, bytes: Buffer): Promise<string> {
  const d = new deps.Decoder(bytes)
  try {
    const batch = await decode(d) as { records: Array<{ batchContext: unknown }> }
    // One context object shared by the batch's records, as kafkajs shares it.
    const shared = batch.records.every(r => r.batchContext === batch.records[0]!.batchContext)
    return JSON.stringify({ batch: plain(batch), shared, at: d.offset })
  } catch (err) {
    return JSON.stringify({ error: `${(err as Error).name}: ${(err as Error).message}`, at: d.offset })
  }
}

/** Decodes with both; returns how many records the replacement left to kafkajs. */
async function same (tt: { equal: (found: unknown, wanted: unknown, message: string) => unknown }, bytes: Buffer, what: string): Promise<number> {
  const want = await outcome(stock, bytes)
  const before = stockRecords
  const got = await outcome(fast, bytes)
  tt.equal(got, want, what)
  return stockRecords - before
}

// Writing, byte by byte.
const zz = (n: number): number => (n << 1) ^ (n >> 31)
function uvarint (n: number): number[] {
  const out: number[] = []
  n = n >>> 0
  while (n >= 0x80) { out.push((n & 0x7f) | 0x80); n >>>= 7 }
  out.push(n)
  return out
}
const varint = (n: number): number[] => uvarint(zz(n))
function varlong (n: bigint): number[] {
  let z = BigInt.asUintN(64, (n << 1n) ^ (n >> 63n))
  const out: number[] = []
  while (z >= 0x80n) { out.push(Number(z & 0x7fn) | 0x80); z >>= 7n }
  out.push(Number(z))
  return out
}
const bytesField = (b: Buffer | null): number[] => b === null ? varint(-1) : [...varint(b.length), ...b]

interface Rec { attributes?: number, tsDelta?: bigint, offsetDelta?: number, key?: Buffer | null, value?: Buffer | null, headers?: Array<[string | null, Buffer | null]> | null, raw?: number[], declared?: number }
function record (r: Rec): number[] {
  const body = r.raw ?? [
    r.attributes ?? 0,
    ...varlong(r.tsDelta ?? 0n),
    ...varint(r.offsetDelta ?? 0),
    ...bytesField(r.key === undefined ? Buffer.from('k') : r.key),
    ...bytesField(r.value === undefined ? Buffer.from('{"v":1}') : r.value),
    ...(r.headers === null ? varint(-1) : [...varint((r.headers ?? []).length), ...(r.headers ?? []).flatMap(([k, v]) => [...(k === null ? varint(-1) : bytesField(Buffer.from(k))), ...bytesField(v)])])
  ]
  return [...varint(r.declared ?? body.length), ...body]
}

interface Batch { firstOffset?: bigint, firstTimestamp?: bigint, maxTimestamp?: bigint, attributes?: number, count?: number, records: number[][], gzip?: boolean, cut?: number }
async function batch (b: Batch): Promise<Buffer> {
  let records: Buffer = Buffer.from(b.records.flat())
  if (b.gzip === true) records = await gzip.compress({ buffer: records })
  const body = Buffer.alloc(40)
  let o = 0
  o = body.writeInt16BE((b.attributes ?? 0) | (b.gzip === true ? 1 : 0), o)
  o = body.writeInt32BE(b.records.length - 1, o)
  o = body.writeBigInt64BE(b.firstTimestamp ?? 1_700_000_000_000n, o)
  o = body.writeBigInt64BE(b.maxTimestamp ?? 1_700_000_000_500n, o)
  o = body.writeBigInt64BE(-1n, o)
  o = body.writeInt16BE(0, o)
  o = body.writeInt32BE(0, o)
  o = body.writeInt32BE(b.count ?? b.records.length, o)
  const inner = Buffer.concat([Buffer.from([0, 0, 0, 0, 2, 0, 0, 0, 0]), body.subarray(0, o), records])
  const head = Buffer.alloc(12)
  head.writeBigInt64BE(b.firstOffset ?? 1000n, 0)
  head.writeInt32BE(inner.length, 8)
  const whole = Buffer.concat([head, inner])
  return b.cut === undefined ? whole : whole.subarray(0, whole.length - b.cut)
}

const CE: Array<[string, Buffer]> = [['ce_specversion', '1.0'], ['ce_id', '01JABCDEFGHJKMNPQRSTVWXYZ0'], ['ce_type', 'io.fairgate.prediction.v1'], ['ce_source', 'fairgate/gw-1'], ['ce_time', '2026-12-03T10:00:00.000Z'], ['content-type', 'application/json']].map(([k, v]) => [k!, Buffer.from(v!)])

t.test('prediction events as the gateway writes them: the same batch, none left to kafkajs', async t => {
  const records = Array.from({ length: 300 }, (_, i) => record({
    tsDelta: BigInt(i * 3),
    offsetDelta: i,
    key: Buffer.from(`01JABCDEFGHJKMNPQRSTVW${String(i).padStart(4, '0')}`),
    value: Buffer.from(`{"id":"x${i}","ts":${1_700_000_000_000 + i * 3},"model":"income","variant":"full","score":0.${i},"groups":{"sex":"Fémale"}}`),
    headers: CE
  }))
  t.equal(await same(t, await batch({ records }), 'plain batch'), 0)
  t.equal(await same(t, await batch({ records, gzip: true }), 'gzip batch'), 0)
  // Two batches back to back, as a fetch response holds them.
  const two = Buffer.concat([await batch({ records: records.slice(0, 5) }), await batch({ records: records.slice(5, 9), firstOffset: 1005n })])
  const d1 = new deps.Decoder(two)
  const d2 = new deps.Decoder(two)
  t.equal(JSON.stringify(plain([await stock(d1), await stock(d1)])), JSON.stringify(plain([await fast(d2), await fast(d2)])), 'two batches in a row')
})

t.test('fields of every plain kind are read here', async t => {
  const cases: Array<[string, Rec[], Partial<Batch>?]> = [
    ['null key and value, empty ones', [{ key: null, value: null }, { key: Buffer.alloc(0), value: Buffer.alloc(0) }]],
    ['no headers, -1 headers', [{ headers: [] }, { headers: null }]],
    ['repeated header names become arrays', [{ headers: [['a', Buffer.from('1')], ['b', null], ['a', Buffer.from('2')], ['a', Buffer.from('3')], ['b', Buffer.from('4')]] }]],
    ['inherited names (kafkajs pairs them with the prototype\'s function)', [{ headers: [['toString', Buffer.from('x')], ['constructor', null], ['hasOwnProperty', Buffer.from('y')]] }]],
    ['integer-like and unicode header names', [{ headers: [['2', Buffer.from('b')], ['1', Buffer.from('a')], ['ключ', Buffer.from('é')], ['', Buffer.from('empty')]] }]],
    ['header names of one length that differ in their last byte, record to record', [{ headers: [['key-a', Buffer.from('1')]] }, { headers: [['key-b', Buffer.from('2')]] }, { headers: [['key-a', Buffer.from('3')]] }]],
    ['negative and large deltas', [{ tsDelta: -5n, offsetDelta: -3 }, { tsDelta: 2n ** 40n, offsetDelta: 2 ** 30 }, { tsDelta: -(2n ** 47n), offsetDelta: -(2 ** 31) }]],
    ['record attributes, signed', [{ attributes: 0x7f }, { attributes: 0xff }]],
    ['trailing bytes after the headers (ignored)', [{ raw: [0, 0, 0, ...varint(1), 0x41, ...varint(1), 0x42, 0, 9, 9, 9] }]],
    ['log append time', [{ tsDelta: 7n }], { attributes: 0x08 }],
    ['control and transactional batch', [{}], { attributes: 0x30 }],
    ['negative first timestamp', [{ tsDelta: 3n }], { firstTimestamp: -1n }]
  ]
  for (const [what, recs, extra] of cases) {
    t.equal(await same(t, await batch({ records: recs.map(record), ...extra }), what), 0, `${what}: read here`)
  }
})

t.test('anything else is left to kafkajs, with its output or its error', async t => {
  const cases: Array<[string, Partial<Batch> & { records: number[][] }]> = [
    ['a varlong of 8 bytes and more', { records: [record({ tsDelta: 2n ** 50n }), record({ tsDelta: -(2n ** 62n) })] }],
    ['offsets past 2^53', { firstOffset: 2n ** 62n, records: [record({}), record({ offsetDelta: 1 })] }],
    ['timestamps past 2^53', { firstTimestamp: 2n ** 60n, records: [record({})] }],
    ['a null header name', { records: [record({ headers: [[null, Buffer.from('v')]] })] }],
    ['a __proto__ header name', { records: [record({ headers: [['__proto__', Buffer.from('v')], ['a', null]] })] }],
    ['a header count below -1', { records: [record({ raw: [0, 0, 0, ...varint(-1), ...varint(-1), ...varint(-2)] })] }],
    ['a value length below -1', { records: [record({ raw: [0, 0, 0, ...varint(-1), ...varint(-5), 0] })] }],
    ['a value longer than its record', { records: [record({ raw: [0, 0, 0, ...varint(-1), ...varint(40), 1, 2, 3, 0] })] }],
    ['a record longer than declared', { records: [record({ declared: 4, headers: CE }), record({})] }],
    ['a record declared longer than the batch', { records: [record({}), [...varint(500), 0, 0]] }],
    ['a record length of -1', { records: [[...varint(-1)]] }],
    ['more records declared than written', { count: 3, records: [record({})] }],
    ['a record count of -1', { count: -1, records: [] }],
    ['a batch cut short', { records: [record({}), record({})], cut: 5 }],
    ['a zero-count gzip batch', { count: 0, records: [record({})], gzip: true }]
  ]
  for (const [what, b] of cases) await same(t, await batch(b), what)
  t.equal(await same(t, await batch({ count: -2, records: [] }), 'a record count of -2 (kafkajs: invalid array length)'), 0)
  t.ok(await same(t, await batch({ records: [record({ tsDelta: 2n ** 50n })] }), 'long varlong') > 0, 'a record it does not read goes to kafkajs\' decoder')
})
