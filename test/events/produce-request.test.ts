// The Produce request encoder that replaces kafkajs' (src/events/produce-request.ts) against
// kafkajs 2.2.4's own, byte for byte: prediction events as the worker writes them, and records
// chosen to hit every branch (headers, unicode, null keys, Buffers, length prefixes that change
// size, big deltas, records bigger than the first buffer). Input it does not handle must go to
// kafkajs' encoder and come out the same (or fail the same). This file must not import
// kafkajs-fast-path.ts: it needs kafkajs' modules as shipped.
import { createRequire } from 'node:module'
import t from 'tap'
import { crc32c, createProduceRequest, type EncoderClass, type ProduceArgs, type ProduceRequest } from '../../src/events/produce-request.js'
import { PredictionRecords } from '../../src/events/prediction-records.js'
import { NUMS, N_FEATURES, N_ROWS, PredictionEncoder } from '../../src/events/wire.js'
import { wireBatch } from '../helpers/wire-batch.js'

const require = createRequire(import.meta.url)
const stockRequest = require('kafkajs/src/protocol/requests/produce/v3/request.js') as (args: ProduceArgs) => ProduceRequest
const stockV7 = require('kafkajs/src/protocol/requests/produce/v7/request.js') as (args: ProduceArgs) => ProduceRequest
const Encoder = require('kafkajs/src/protocol/encoder.js') as EncoderClass
const stockCrc = require('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (b: Buffer) => number
const Long = require('kafkajs/src/utils/long.js') as { fromValue: (v: unknown) => unknown }
const { Types } = require('kafkajs/src/protocol/message/compression/index.js') as { Types: Record<string, number> }

/** kafkajs' encode, counted: the replacement must only fall back to it where it should. */
let stockEncodes = 0
const countedStock = (args: ProduceArgs): ProduceRequest => {
  const req = stockRequest(args)
  const encode = req.encode
  req.encode = async () => { stockEncodes++; return await encode() }
  return req
}
const fast = createProduceRequest(countedStock, Encoder)

interface Outcome { bytes?: string, error?: string }
async function outcome (req: ProduceRequest): Promise<Outcome> {
  try {
    return { bytes: ((await req.encode()) as { buffer: Buffer }).buffer.toString('hex') }
  } catch (err) {
    return { error: `${(err as Error).name}: ${(err as Error).message}` }
  }
}

/** Encodes with both; returns whether the replacement fell back to kafkajs. */
async function same (t: { same: (found: unknown, wanted: unknown, message: string) => unknown }, args: ProduceArgs, what: string): Promise<boolean> {
  const realNow = Date.now
  // Messages without a timestamp take Date.now(): the same one for both.
  Date.now = () => 1_700_000_000_000
  try {
    const want = await outcome(stockRequest(args))
    const before = stockEncodes
    const got = await outcome(fast(args))
    t.same(got, want, what)
    return stockEncodes > before
  } finally {
    Date.now = realNow
  }
}

const args = (messagesPerPartition: unknown[][], extra: Partial<ProduceArgs> = {}): ProduceArgs => ({
  acks: -1,
  timeout: 30_000,
  transactionalId: undefined,
  producerId: Long.fromValue(4242),
  producerEpoch: 3,
  compression: undefined,
  topicData: [{ topic: 'fairgate.predictions', partitions: messagesPerPartition.map((messages, i) => ({ partition: String(i), messages, firstSequence: 1000 * i })) }],
  ...extra
})

function predictionMessages (n: number): unknown[] {
  const enc = new PredictionEncoder({ replica: 'r"ünï-1', includeGroups: true, includeFeatures: false })
  enc.addLanes([{ index: 0, model: 'income', variant: 'distilled', attributes: ['sex', 'race'], values: [['Female', 'Male'], ['Black', 'Wh"ite', 'Ünïcode 🎉']], width: 3 }])
  const b = wireBatch(Array.from({ length: n }, (_, k) => ({
    id: `01KB3M4Z8Q${String(k).padStart(16, '0')}`,
    requestId: `req-${k}`,
    ts: 1_700_000_000_000 + (k * 7919) % 5000, // out of order, as across requests
    score: Math.fround(k / n),
    latencyMs: k * 0.123456,
    queueMs: k % 3,
    batchSize: 1 + (k % 64),
    groups: [k % 2, (k % 4) - 1]
  })))
  return Array.from({ length: n }, (_, k) => enc.message(b, k))
}

t.test('prediction events: the bytes kafkajs writes, without falling back', async t => {
  const msgs = predictionMessages(600)
  // One partition, three partitions, and a second topic with a unicode name, through v3 and v7.
  t.notOk(await same(t, args([msgs]), 'one partition of 600'))
  t.notOk(await same(t, args([msgs.slice(0, 200), msgs.slice(200, 201), msgs.slice(201)]), 'three partitions'))
  const two = args([msgs.slice(0, 10)])
  two.topicData.push({ topic: 'fairgate.ünï', partitions: [{ partition: 2, messages: msgs.slice(10, 30), firstSequence: 7 }] })
  t.notOk(await same(t, two, 'two topics'))
  t.same(await outcome(fast({ ...two, acks: 1 })), await outcome(stockV7({ ...two, acks: 1 })), 'the same through v7 (v7 wraps v3)')
  t.notOk(await same(t, args([msgs.slice(0, 5)], { transactionalId: 'tx-1', producerId: 77, producerEpoch: 0, acks: 1, timeout: 5 }), 'transactional, number producer id'))
  t.notOk(await same(t, args([msgs.slice(0, 5)], { producerId: undefined, producerEpoch: undefined }), 'default producer id and epoch'))
  t.notOk(await same(t, args([[]]), 'an empty partition'))
})

t.test('every kind of record kafkajs accepts: same bytes, no fallback', async t => {
  const long = 'x'.repeat(70_000) // bigger than the first buffer, and a 3-byte length varint
  const records: Array<[string, unknown]> = [
    ['null key', { key: null, value: 'v', timestamp: '1700000000000' }],
    ['no key, no headers, no timestamp', { value: 'v' }],
    ['empty strings', { key: '', value: '', headers: { '': '' }, timestamp: '1700000000001' }],
    ['null value', { key: 'k', value: null, timestamp: '1700000000001' }],
    ['Buffer key, value and header', { key: Buffer.from([0, 1, 255]), value: Buffer.alloc(300, 7), headers: { b: Buffer.from('é') }, timestamp: '1700000000002' }],
    ['BMP unicode', { key: 'clé', value: 'ünïcödé'.repeat(3), headers: { 'ce_sourcé': 'fairgate/ré' }, timestamp: '1700000000003' }],
    ['astral and lone surrogates', { key: '🎉', value: `a\ud800b\udfffc${'🎉'.repeat(20)}`, headers: { h: '\ud83c' }, timestamp: '1700000000004' }],
    // 40 UTF-16 units but 80 bytes: the length prefix guessed from units is 1 byte short.
    ['multi-byte string whose length prefix grows', { key: 'é'.repeat(40), value: 'é'.repeat(8000), headers: { é: 'é'.repeat(40) }, timestamp: '1700000000005' }],
    ['array-valued headers', { key: 'k', value: 'v', headers: { a: ['1', Buffer.from('2')], b: [], c: 'x' }, timestamp: '1700000000006' }],
    ['a tiny record (1-byte length)', { key: 'k', value: 'v', timestamp: '1700000000007' }],
    ['a big record (3-byte length)', { key: 'k', value: long, headers: { h: long.slice(0, 100) }, timestamp: '1700000000008' }],
    ['a timestamp far before the others (64-bit delta)', { key: 'k', value: 'v', timestamp: '5' }],
    ['an older, shorter timestamp (string order)', { key: 'k', value: 'v', timestamp: '999' }],
    ['numeric timestamps sort as strings', { key: 'k', value: 'v', timestamp: 1_700_000_000_009 }],
    ['a timestamp of 0', { key: 'k', value: 'v', timestamp: '0' }],
    ['a null prototype', Object.assign(Object.create(null) as object, { key: 'k', value: 'v', timestamp: '1700000000010' })]
  ]
  for (const [what, m] of records) {
    // Alone, and among prediction events (the record before decides the length guess).
    t.notOk(await same(t, args([[m]]), `${what}: alone`), `${what}: alone, not via kafkajs`)
    t.notOk(await same(t, args([[...predictionMessages(3), m, ...predictionMessages(2)]]), `${what}: in a batch`), `${what}: in a batch, not via kafkajs`)
  }
  t.notOk(await same(t, args([records.map(r => r[1])]), 'all of them in one batch'))
})

t.test('what the replacement does not handle goes to kafkajs and comes out the same', async t => {
  class Msg { key = 'k'; value = 'v'; timestamp = '1700000000000' }
  const cases: Array<[string, unknown]> = [
    ['a class instance', new Msg()],
    ['a numeric header (kafkajs throws)', { key: 'k', value: 'v', headers: { n: 1 }, timestamp: '1700000000000' }],
    ['a null header (kafkajs throws)', { key: 'k', value: 'v', headers: { n: null }, timestamp: '1700000000000' }],
    ['a numeric key (kafkajs throws)', { key: 5, value: 'v', timestamp: '1700000000000' }],
    ['null headers (kafkajs throws)', { key: 'k', value: 'v', headers: null, timestamp: '1700000000000' }],
    ['a fractional timestamp (kafkajs throws)', { key: 'k', value: 'v', timestamp: '1700000000000.5' }],
    ['a timestamp that is not a number (kafkajs throws)', { key: 'k', value: 'v', timestamp: 'soon' }],
    ['a hole in a header array', { key: 'k', value: 'v', headers: { a: [, 'x'] }, timestamp: '1700000000000' }], // eslint-disable-line no-sparse-arrays
    ['a null message (kafkajs throws)', null]
  ]
  for (const [what, m] of cases) t.ok(await same(t, args([[...predictionMessages(2), m]]), what), `${what}: via kafkajs`)
  t.ok(await same(t, args([predictionMessages(3)], { compression: Types.GZIP }), 'gzip'), 'gzip: via kafkajs')
})

t.test('CRC32C equals kafkajs\' for every length and content', async t => {
  let bad = 0
  for (let n = 0; n < 300; n++) {
    const b = Buffer.alloc(n)
    for (let i = 0; i < n; i++) b[i] = (i * 131 + n * 7) & 0xff
    if (crc32c(b) !== stockCrc(b)) bad++
  }
  const big = Buffer.alloc(100_003)
  for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24
  if (crc32c(big) !== stockCrc(big)) bad++
  // A view that does not start at its buffer's beginning.
  if (crc32c(big.subarray(3, 1000)) !== stockCrc(big.subarray(3, 1000))) bad++
  t.equal(bad, 0)
  t.equal(crc32c(Buffer.from('123456789')), 0xe3069283, 'the CRC-32C check value')
})

/**
 * Prediction events of one batch both ways: PredictionEncoder's messages (strings) and
 * PredictionRecords' pre-encoded records, with the odd values each field can hold.
 */
function bothWays (n: number, opts: { includeGroups: boolean, includeFeatures: boolean, replica: string }): { messages: unknown[], records: unknown[] } {
  const lanes = [
    { index: 0, model: 'income', variant: 'distilled', attributes: ['sex', 'race'], values: [['Female', 'Male'], ['Black', 'Wh"ite', 'Ünïcode 🎉']], width: 3 },
    { index: 1, model: 'mödel "q"', variant: 'v\\1', attributes: ['a'], values: [['x']], width: 2 }
  ]
  const odd = ['req-1', 'quote"d', 'back\\slash', 'tab\there', 'nl\n', 'ünï', '🎉', '\ud800 lone', '\u0001', 'x'.repeat(5000), '']
  const b = wireBatch(Array.from({ length: n }, (_, k) => ({
    id: k % 17 === 0 ? `id-ü-${k}` : `01KB3M4Z8Q${String(k).padStart(16, '0')}`,
    requestId: odd[k % odd.length] as string,
    ts: 1_700_000_000_000 + (k * 7919) % 5000,
    score: k % 13 === 0 ? NaN : k % 11 === 0 ? -0 : Math.fround(k / n - 0.3),
    lane: k % 5 === 0 ? 1 : 0,
    latencyMs: [k * 0.123456, 0, 1e-7, 2.0005, 123456.7894, NaN, 7e20, -3.25][k % 8] as number,
    queueMs: [k % 3, 0.0005, 0.0015, 10.1, Infinity][k % 5] as number,
    batchSize: 1 + (k % 64),
    groups: k % 5 === 0 ? [k % 2 === 0 ? 0 : -1] : [k % 2, (k % 4) - 1]
  })))
  for (let k = 0; k < n; k++) b.nums[k * NUMS + N_ROWS] = [1, 64, 3][k % 3] as number
  if (opts.includeFeatures) {
    const f = new Float32Array(3 * n)
    for (let i = 0; i < f.length; i++) f[i] = i % 7 === 0 ? NaN : Math.fround(Math.sin(i) * 1e-3 * i)
    b.features = f
    for (let k = 0; k < n; k++) b.nums[k * NUMS + N_FEATURES] = 3 * k
  }
  const enc = new PredictionEncoder(opts)
  enc.addLanes(lanes)
  const rec = new PredictionRecords(opts)
  rec.addLanes(lanes)
  // A small first chunk: records spill into new ones.
  rec.begin(1)
  return { messages: Array.from({ length: n }, (_, k) => enc.message(b, k)), records: Array.from({ length: n }, (_, k) => rec.message(b, k)) }
}

t.test('prediction events written straight from the columns: the bytes kafkajs writes for the string messages', async t => {
  for (const opts of [
    { includeGroups: true, includeFeatures: false, replica: 'r"ünï-1' },
    { includeGroups: false, includeFeatures: true, replica: 'x'.repeat(300) },
    { includeGroups: true, includeFeatures: true, replica: 'vm' }
  ]) {
    const { messages, records } = bothWays(400, opts)
    const want = await outcome(stockRequest(args([messages.slice(0, 250), messages.slice(250)])))
    const before = stockEncodes
    const got = await outcome(fast(args([records.slice(0, 250), records.slice(250)])))
    t.ok(want.bytes !== undefined, 'kafkajs encodes the messages')
    t.same(got, want, `same bytes: ${JSON.stringify(opts).slice(0, 80)}`)
    t.equal(stockEncodes, before, 'not via kafkajs')
  }
})

t.test('a request with pre-encoded records that the replacement cannot write fails rather than reach kafkajs', async t => {
  const { records } = bothWays(3, { includeGroups: true, includeFeatures: false, replica: 'vm' })
  const before = stockEncodes
  t.match(await outcome(fast(args([records], { compression: Types.GZIP }))), { error: /pre-encoded records/ }, 'gzip')
  t.equal(stockEncodes, before, 'kafkajs never encoded them')
})
