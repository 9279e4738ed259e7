// Issue 14, defect 17: labels on the Kafka feedback topic were not validated: "1", 7 and true
// counted as negatives, and a record without prediction_id waited as pending forever. End to
// end: a real gateway process makes predictions, header-less records are produced straight to
// the feedback topic, and a real `fairgate monitor` process reads them with HTTP's rules.
import t from 'tap'
import { Kafka, logLevel } from 'kafkajs'
import { evalRows, parseMetrics } from '../helpers/gateway.js'
import { sharedBroker, uniquePrefix } from '../helpers/kafka.js'
import { monitorCli, serveCli, until } from '../helpers/process.js'

const rows = evalRows()

t.test('the monitor reads feedback records as HTTP does and counts the invalid ones', async t => {
  const brokers = await sharedBroker(t)
  const prefix = uniquePrefix()
  const kafkaEnv = { FAIRGATE_KAFKA_BROKERS: brokers, FAIRGATE_KAFKA_TOPIC_PREFIX: prefix }
  const gw = await serveCli(kafkaEnv)
  t.teardown(() => { gw.child.kill('SIGKILL') })
  const ids: string[] = []
  for (let i = 0; i < 5; i++) {
    const r = await fetch(`${gw.url}/v1/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'income', features: rows[i]!.features, group: { sex: 'Female', race: 'White' } }) })
    ids.push(((await r.json()) as { id: string }).id)
  }
  // Records from another producer of ground truth: no CloudEvents headers (accepted as such).
  const producer = new Kafka({ clientId: 'fairgate-test-labels', brokers: [brokers], logLevel: logLevel.NOTHING }).producer()
  await producer.connect()
  await producer.send({
    topic: `${prefix}feedback`,
    messages: [
      { prediction_id: ids[0], label: true, ts: Date.now() },
      { prediction_id: ids[1], label: '1', ts: Date.now() },
      { prediction_id: ids[2], label: 7, ts: Date.now() },
      { label: 1, ts: Date.now() },
      { prediction_id: ids[3], label: 0, ts: Date.now() }
    ].map(v => ({ value: JSON.stringify(v) }))
  })
  await producer.disconnect()

  const m = await monitorCli({ ...kafkaEnv, FAIRGATE_MONITOR_REPORT_MIN: '0', FAIRGATE_MONITOR_MIN_SAMPLES: '1', FAIRGATE_MONITOR_REFRESH_MS: '0' })
  t.teardown(() => { m.child.kill('SIGKILL') })
  await until('the monitor to read the labels', async () => {
    const s = await (await fetch(`${m.url}/v1/monitor`)).json() as { predictions: number, labels: number }
    return s.predictions === 5 && s.labels === 2
  }, 60_000)
  const status = await (await fetch(`${m.url}/v1/monitor`)).json() as { labels: number, pendingLabels: number }
  t.equal(status.pendingLabels, 0, `a record without prediction_id does not wait as pending (${JSON.stringify(status)})`)
  const metrics = parseMetrics(await (await fetch(`${m.url}/metrics`)).text())
  t.equal(metrics.get('fairgate_feedback_total{outcome="invalid"}'), 3, '"1", 7 and the id-less record are counted invalid')
  t.equal(metrics.get('fairgate_feedback_total{outcome="accepted"}'), 2)
  const report = await (await fetch(`${m.url}/v1/fairness?model=income`)).json() as { models: Array<{ variants: Record<string, { attributes: Record<string, { groups: Record<string, { positives: number, negatives: number }> }> }> }> }
  const female = Object.values(report.models[0]!.variants).map(v => v.attributes.sex?.groups.Female).filter(g => g !== undefined)
  t.equal(female.reduce((n, g) => n + g!.positives, 0), 1, 'true is a positive label, as over HTTP')
  t.equal(female.reduce((n, g) => n + g!.negatives, 0), 1, 'and 0 the one negative')
})
