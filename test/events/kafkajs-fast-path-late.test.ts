// The fast path arriving after kafkajs has loaded (as in a thread that imported kafkajs first)
// must replace nothing, say why, and leave kafkajs working as shipped; the producer warns.
import { createRequire } from 'node:module'
import t from 'tap'

const require = createRequire(import.meta.url)
const stockProduce = require('kafkajs/src/protocol/requests/produce/v3/request.js') as unknown
require('kafkajs')
const { fastPath } = await import('../../src/events/kafkajs-fast-path.js')
const { EventProducer } = await import('../../src/events/kafka-producer.js')

t.test('too late: nothing replaced, the reason given, the producer warns', async t => {
  t.notOk(fastPath.active)
  t.match(fastPath.reason, /loaded before the fast path/)
  t.equal(require('kafkajs/src/protocol/requests/produce/v3/request.js'), stockProduce, 'kafkajs\' own encoder stays')
  const warnings: string[] = []
  const producer = new EventProducer({ clientId: 'late', brokers: ['127.0.0.1:1'], topics: ['a', 'b', 'c'], partitions: 1, replicationFactor: -1, decisionsTopic: 2, replica: 'r', includeGroups: true, includeFeatures: false }, (level, _obj, msg) => { if (level === 'warn') warnings.push(msg) })
  t.match(warnings, [/without the fast path/])
  await producer.disconnect()
})
