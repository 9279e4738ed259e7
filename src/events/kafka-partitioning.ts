// Partitioning in the Kafka worker: kafkajs' DefaultPartitioner (Java-compatible murmur2 of the
// key) with the same choices, and kafkajs' grouping of messages per partition, both made
// cheaper. kafkajs hashes with a BigInt-backed Long class (a dozen objects and a Long.toString
// per 4 key bytes), copies every string key into a fresh Buffer, and filters the partition
// list on every message; profiled, that was ~5 µs per event in the Kafka worker. Here the hash
// is 32-bit Math.imul over the key's UTF-8 bytes, which is the same arithmetic: every kafkajs
// step only ever reads the low 32 bits of its 64-bit intermediates. test/events/
// kafka-partitioning.test.ts holds each equal to kafkajs' own.
import { randomBytes } from 'node:crypto'
import type { ICustomPartitioner, PartitionerArgs } from 'kafkajs'

const M = 0x5bd1e995
const SEED = 0x9747b28c

/** Scratch bytes of an ASCII key (most keys: prediction ids); grows, never shrinks. */
let scratch = new Uint8Array(64)

/** murmur2 of bytes[0, len), as Kafka's Utils.murmur2 (a signed 32-bit int). */
function murmur2Bytes (data: Uint8Array, len: number): number {
  let h = SEED ^ len
  const len4 = len & ~3
  for (let i = 0; i < len4; i += 4) {
    let k = (data[i] as number) | ((data[i + 1] as number) << 8) | ((data[i + 2] as number) << 16) | ((data[i + 3] as number) << 24)
    k = Math.imul(k, M)
    k ^= k >>> 24
    k = Math.imul(k, M)
    h = Math.imul(h, M) ^ k
  }
  // The last 1-3 bytes, as the Java original's fall-through switch.
  const tail = len & 3
  if (tail !== 0) {
    if (tail === 3) h ^= (data[len4 + 2] as number) << 16
    if (tail >= 2) h ^= (data[len4 + 1] as number) << 8
    h = Math.imul(h ^ (data[len4] as number), M)
  }
  h ^= h >>> 13
  h = Math.imul(h, M)
  h ^= h >>> 15
  return h | 0
}

/** kafkajs' murmur2(key): a Buffer as is, anything else as the UTF-8 bytes of String(key). */
export function murmur2 (key: unknown): number {
  if (Buffer.isBuffer(key)) return murmur2Bytes(key, key.length)
  const s = String(key)
  const n = s.length
  if (n > scratch.length) scratch = new Uint8Array(Math.max(n, scratch.length * 2))
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    // Not ASCII: let Buffer do the UTF-8 (surrogates and all) exactly as kafkajs does.
    if (c > 0x7f) {
      const utf8 = Buffer.from(s)
      return murmur2Bytes(utf8, utf8.length)
    }
    scratch[i] = c
  }
  return murmur2Bytes(scratch, n)
}

const toPositive = (x: number): number => x & 0x7fffffff

/**
 * kafkajs 2.2.4 DefaultPartitioner, decision for decision: an explicit partition wins, else a
 * key picks murmur2(key) mod the topic's partition count, else round-robin over the partitions
 * that have a leader, from a random start per topic.
 */
export const Murmur2Partitioner: ICustomPartitioner = () => {
  const counters = new Map<string, number>()
  return ({ topic, partitionMetadata, message }: PartitionerArgs): number => {
    if (message.partition !== null && message.partition !== undefined) return message.partition
    const numPartitions = partitionMetadata.length
    if (message.key !== null && message.key !== undefined) return toPositive(murmur2(message.key)) % numPartitions
    const counter = (counters.get(topic) ?? randomBytes(4).readUInt32BE(0)) + 1
    counters.set(topic, counter)
    const available = partitionMetadata.filter(p => p.leader >= 0)
    if (available.length > 0) return (available[toPositive(counter) % available.length] as { partitionId: number }).partitionId
    return toPositive(counter) % numPartitions
  }
}

interface GroupArgs<M> {
  topic: string
  partitionMetadata: unknown[]
  messages: M[]
  partitioner: (a: { topic: string, partitionMetadata: unknown[], message: M }) => number
}

/**
 * kafkajs' groupMessagesPerPartition, linear: the original copies a partition's whole array
 * and the result object for every message (quadratic in the batch). Same result: an object
 * keyed by partition, messages in their order, the partitioner called once per message in order.
 */
export function groupMessagesPerPartition<M> ({ topic, partitionMetadata, messages, partitioner }: GroupArgs<M>): Record<number, M[]> {
  const result: Record<number, M[]> = {}
  if (partitionMetadata.length === 0) return result
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message })
    const current = result[partition]
    if (current === undefined) result[partition] = [message]
    else current.push(message)
  }
  return result
}
