// The worker's partitioning (src/events/kafka-partitioning.ts) against kafkajs 2.2.4's own:
// murmur2 key for key, the partitioner message for message, the grouping per partition.
// Must not import kafkajs-fast-path.ts: it needs kafkajs' modules as shipped.
import { createRequire } from 'node:module'
import t from 'tap'
import type { ICustomPartitioner, PartitionMetadata } from 'kafkajs'
import { groupMessagesPerPartition, murmur2, Murmur2Partitioner } from '../../src/events/kafka-partitioning.js'

const require = createRequire(import.meta.url)
const stockMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: unknown) => number
const { DefaultPartitioner } = require('kafkajs/src/producer/partitioners/index.js') as { DefaultPartitioner: ICustomPartitioner }
const stockGroup = require('kafkajs/src/producer/groupMessagesPerPartition.js') as typeof groupMessagesPerPartition

/** Deterministic pseudo-random keys: ASCII of every length up to 40, unicode, Buffers, numbers. */
function keys (): unknown[] {
  let s = 12345
  const rnd = (n: number): number => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return s % n }
  const out: unknown[] = ['', 'a', 'ab', 'abc', 'abcd', '01KB3M4Z8Q0000000000000001', 'income', 0, 42, -7, 1.5]
  for (let i = 0; i < 3000; i++) {
    const len = rnd(41)
    let k = ''
    const kind = i % 4
    for (let j = 0; j < len; j++) {
      if (kind === 0) k += String.fromCharCode(32 + rnd(95))
      else if (kind === 1) k += String.fromCharCode(rnd(0x800)) // Latin, Greek, ... 1-2 UTF-8 bytes
      else if (kind === 2) k += j % 5 === 0 ? '🎉' : String.fromCharCode(0xd800 + rnd(0x800)) // pairs and lone surrogates
      else k += String.fromCharCode(rnd(128))
    }
    out.push(kind === 3 && i % 8 === 3 ? Buffer.from(k) : k)
  }
  return out
}

t.test('murmur2 equals kafkajs\' for every key', async t => {
  const ks = keys()
  const bad = ks.filter(k => murmur2(k) !== stockMurmur2(k))
  t.same(bad.slice(0, 5), [], `${ks.length} keys`)
  // Kafka's own test vectors (org.apache.kafka.common.utils.UtilsTest#testMurmur2).
  t.equal(murmur2(Buffer.from('21')), -973932308)
  t.equal(murmur2(Buffer.from('foobar')), -790332482)
  t.equal(murmur2(Buffer.from('a-little-bit-long-string')), -985981536)
})

const meta = (n: number, down: number[] = []): PartitionMetadata[] =>
  Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: down.includes(i) ? -1 : 1, partitionErrorCode: 0, replicas: [1], isr: [1], offlineReplicas: [] }))

t.test('the partitioner chooses what kafkajs\' DefaultPartitioner chooses', async t => {
  const mine = Murmur2Partitioner()
  const stock = DefaultPartitioner()
  let bad = 0
  let n = 0
  for (const partitionMetadata of [meta(1), meta(3), meta(7, [2]), meta(12)]) {
    for (const key of keys()) {
      for (const message of [{ key, value: 'v' }, { key, value: 'v', partition: 5 }]) {
        n++
        if (mine({ topic: 't', partitionMetadata, message: message as never }) !== stock({ topic: 't', partitionMetadata, message: message as never })) bad++
      }
    }
  }
  t.equal(bad, 0, `${n} messages`)
})

t.test('keyless messages go round-robin over the partitions that have a leader', async t => {
  const p = Murmur2Partitioner()
  const seen = Array.from({ length: 12 }, () => p({ topic: 't', partitionMetadata: meta(4, [1]), message: { value: 'v' } }))
  t.same(new Set(seen), new Set([0, 2, 3]), 'never the partition without a leader')
  t.ok(seen.every((x, i) => i < 3 || x === seen[i - 3]), 'in turn')
  const none = Array.from({ length: 6 }, () => p({ topic: 'u', partitionMetadata: meta(3, [0, 1, 2]), message: { value: 'v', key: null } }))
  t.same(new Set(none), new Set([0, 1, 2]), 'all of them when none has a leader')
})

t.test('grouping per partition equals kafkajs\', key order included', async t => {
  const messages = keys().slice(0, 700).map((key, i) => ({ key, value: String(i) }))
  for (const partitionMetadata of [meta(1), meta(3), meta(11), []]) {
    const partitioner = DefaultPartitioner()
    const args = { topic: 't', partitionMetadata, messages, partitioner: partitioner as never }
    const want = stockGroup(args)
    const got = groupMessagesPerPartition(args)
    t.same(Object.keys(got), Object.keys(want), `${partitionMetadata.length} partitions: keys`)
    t.ok(Object.keys(want).every(k => (got[Number(k)] ?? []).every((m, i) => m === want[Number(k)]![i]) && got[Number(k)]!.length === want[Number(k)]!.length), 'the same messages, in order')
  }
})
