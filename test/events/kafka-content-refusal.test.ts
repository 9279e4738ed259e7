// Issue 14, defect 1: a batch Kafka refuses for its content (larger than max.message.bytes)
// used to be retried as is forever, stalling every later event. Now the batch is split, an event
// that cannot be sent alone is dropped as outcome="rejected" with a log line, and the stream
// goes on. End to end: a real gateway process and the real broker, whose topics are created
// beforehand with a small max.message.bytes so that one request's events cannot fit.
import t from 'tap'
import { Kafka, logLevel } from 'kafkajs'
import { evalRows, parseMetrics } from '../helpers/gateway.js'
import { readTopic, sharedBroker, uniquePrefix } from '../helpers/kafka.js'
import { serveCli } from '../helpers/process.js'

const rows = evalRows()
// A prediction event with a short request id is ~630 bytes as a record batch of one; with a
// 256-character id (the most the gateway takes) ~810. 720 lets the first fit alone, not the
// second, and no batch of two or more fit at all, so every batch takes the split path.
const LIMIT = 720

async function createTopics (brokers: string, prefix: string): Promise<void> {
  const admin = new Kafka({ clientId: 'fairgate-test-admin', brokers: [brokers], logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: ['predictions', 'feedback', 'decisions'].map(name => ({
        topic: `${prefix}${name}`,
        numPartitions: 3,
        configEntries: [{ name: 'max.message.bytes', value: String(LIMIT) }]
      }))
    })
  } finally {
    await admin.disconnect()
  }
}

async function predict (url: string, i: number, n: number, headers: Record<string, string> = {}): Promise<{ status: number, ids: string[], body: string }> {
  const r = await fetch(`${url}/v1/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'income', instances: rows.slice(i, i + n).map(r => r.features), group: rows[i]!.group })
  })
  const body = await r.text()
  return { status: r.status, ids: r.status === 200 ? (JSON.parse(body) as Array<{ id: string }>).map(p => p.id) : [], body }
}

t.test('an event Kafka refuses for its size is rejected and counted; the stream never stalls', async t => {
  const brokers = await sharedBroker(t)
  const prefix = uniquePrefix()
  await createTopics(brokers, prefix)
  const s = await serveCli({ FAIRGATE_KAFKA_BROKERS: brokers, FAIRGATE_KAFKA_TOPIC_PREFIX: prefix, FAIRGATE_LOG_LEVEL: 'info' })
  t.teardown(() => { s.child.kill('SIGKILL') })

  const tooLong = await predict(s.url, 0, 1, { 'x-request-id': 'x'.repeat(15_000) })
  t.equal(tooLong.status, 400, 'a 15,000-character x-request-id is refused')
  t.match(JSON.parse(tooLong.body), { code: 'FG_ERR_REQUEST_INVALID', error: /x-request-id/ })

  const answered: string[] = []
  for (let i = 0; i < 20; i++) answered.push(...(await predict(s.url, 10 * i, 3)).ids)
  // Fits the header cap, not the topic's max.message.bytes.
  const big = await predict(s.url, 300, 4, { 'x-request-id': 'r'.repeat(256) })
  t.equal(big.status, 200, 'the client is answered whatever Kafka later makes of its events')
  for (let i = 0; i < 20; i++) answered.push(...(await predict(s.url, 400 + 10 * i, 3)).ids)

  // Everything else reaches the topic, exactly once, including what was sent after the big one.
  const records = await readTopic(brokers, `${prefix}predictions`, answered.length, 60_000)
  const got = new Set(records.map(r => r.value.id as string))
  t.equal(answered.filter(id => !got.has(id)).length, 0, `all ${answered.length} other predictions are on the topic`)
  t.equal(records.length, got.size, 'no duplicates')
  t.equal(big.ids.filter(id => got.has(id)).length, 0, 'the refused events are not')

  const m = parseMetrics(await (await fetch(`${s.url}/metrics`)).text())
  t.equal(m.get(`fairgate_events_total{topic="${prefix}predictions",outcome="rejected"}`), 4, 'rejected counts the 4 refused events')
  t.equal(m.get(`fairgate_event_buffer{topic="${prefix}predictions"}`), 0, 'nothing left waiting')
  const logs = s.output().split('\n').filter(l => l.includes('outcome=\\"rejected\\"'))
  t.ok(logs.length >= 1, `the rejection is logged: ${s.output().slice(-3000)}`)
  t.match(JSON.parse(logs[0] as string), { request_id: 'r'.repeat(64), request_id_length: 256 })

  s.child.kill('SIGTERM')
  t.equal(await s.exited, 0, 'clean exit')
  t.notMatch(s.output(), /not acknowledged by kafka at shutdown/, 'nothing lost at shutdown')
})
