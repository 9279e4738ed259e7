// kafkajs for the Kafka worker, with two of its internal modules replaced by cheaper ones that
// produce the same bytes: the Produce request encoder (produce-request.ts) and the grouping of
// messages per partition; and without its idle timer loop (kafkajs-request-queue.ts). Import
// kafkajs from here (not 'kafkajs') where they should apply.
//
// WHY swap modules instead of configuring kafkajs: neither is an option. kafkajs 2.2.4 encodes
// each record through a spread copy of the message, eight zero-filled 512-byte Encoders, BigInt
// varlongs and a byte-at-a-time CRC, and groups messages per partition in quadratic time; in the
// worker that was most of its 45-70 µs of CPU per event, and on a 2-core box that CPU is taken from
// the HTTP thread. kafkajs is CommonJS and its modules take each other from require.cache, so
// an entry put there before kafkajs first loads is what kafkajs uses.
//
// Guard rails: the swap needs exactly kafkajs 2.2.4 (package.json pins it; the replaced files
// are internal and may change in any release), and must come before any of kafkajs' modules
// that capture the replaced ones have loaded. Otherwise nothing is replaced and `fastPath` says
// why: kafkajs then runs as shipped, slower but correct. test/events/produce-request.test.ts
// holds the replacements to kafkajs' own, byte for byte.
import { createRequire } from 'node:module'
import { groupMessagesPerPartition } from './kafka-partitioning.js'
import { kafkajsMismatch, KAFKAJS_VERSION, putModule, type PatchStatus } from './kafkajs-pin.js'
import { requestQueueFix } from './kafkajs-request-queue.js'
import { createProduceRequest, type EncoderClass, type ProduceArgs, type ProduceRequest } from './produce-request.js'

const require = createRequire(import.meta.url)

const PRODUCE = 'kafkajs/src/protocol/requests/produce/v3/request.js'
const GROUP = 'kafkajs/src/producer/groupMessagesPerPartition.js'
const ENCODER = 'kafkajs/src/protocol/encoder.js'
/** The modules that take the replaced ones when they load: if any has loaded, it is too late. */
const CAPTURERS = [
  PRODUCE,
  ...[4, 5, 6, 7].map(v => `kafkajs/src/protocol/requests/produce/v${v}/request.js`),
  'kafkajs/src/producer/sendMessages.js'
]

function install (): PatchStatus {
  const mismatch = kafkajsMismatch('fast path')
  if (mismatch !== null) return { active: false, reason: mismatch }
  try {
    const loaded = CAPTURERS.filter(id => require.cache[require.resolve(id)] !== undefined)
    if (loaded.length > 0) return { active: false, reason: `kafkajs was loaded before the fast path (${loaded.join(', ')})` }
    const [produce, group] = [PRODUCE, GROUP].map(id => require.resolve(id)) as [string, string]
    const stock = require(produce) as (args: ProduceArgs) => ProduceRequest
    putModule(produce, createProduceRequest(stock, require(ENCODER) as EncoderClass))
    putModule(group, groupMessagesPerPartition)
  } catch (err) {
    return { active: false, reason: `kafkajs internals not where expected: ${(err as Error).message}` }
  }
  return { active: true, reason: `produce request encoder and per-partition grouping of kafkajs ${KAFKAJS_VERSION} replaced` }
}

export const fastPath: PatchStatus = install()

export { requestQueueFix }

/** kafkajs itself, loaded after the swap. */
export const kafkajs = require('kafkajs') as typeof import('kafkajs')
