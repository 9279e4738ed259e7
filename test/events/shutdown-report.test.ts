// Issue 14, defect 11: the shutdown loss report said "kafka unreachable" with timeout_ms: 0 after
// a 10 s flush, and counted the batch in flight (which may still land) as lost. End to end: a
// real gateway process, its own broker shut down, then SIGTERM: the report separates the lost
// (never sent) from the in-flight (unacknowledged) events, and says how long it flushed.
import t from 'tap'
import { evalRows, parseMetrics } from '../helpers/gateway.js'
import { ownBroker, uniquePrefix } from '../helpers/kafka.js'
import { serveCli, until } from '../helpers/process.js'

const rows = evalRows()

t.test('SIGTERM during an outage reports lost and in-flight events apart', async t => {
  const broker = await ownBroker(t)
  const prefix = uniquePrefix()
  const s = await serveCli({ FAIRGATE_KAFKA_BROKERS: broker.brokers, FAIRGATE_KAFKA_TOPIC_PREFIX: prefix, FAIRGATE_EVENTS_FLUSH_TIMEOUT_MS: '1000', FAIRGATE_EVENTS_BATCH_SIZE: '10', FAIRGATE_LOG_LEVEL: 'info' }, 60_000)
  t.teardown(() => { s.child.kill('SIGKILL') })
  await until('kafka to connect', () => s.output().includes('kafka connected'), 30_000)
  await broker.shutdown()
  for (let i = 0; i < 30; i++) {
    const r = await fetch(`${s.url}/v1/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'income', features: rows[i]!.features }) })
    t.equal(r.status, 200)
  }
  const backlog = parseMetrics(await (await fetch(`${s.url}/metrics`)).text()).get(`fairgate_event_buffer{topic="${prefix}predictions"}`)!
  t.equal(backlog, 30, 'all 30 events wait for the broker')
  s.child.kill('SIGTERM')
  t.equal(await s.exited, 0)
  const line = s.output().split('\n').find(l => l.includes('not acknowledged by kafka at shutdown'))
  t.ok(line, 'the loss is reported')
  const report = JSON.parse(line!) as { lost: number, in_flight_unacknowledged: number, flushed_for_ms: number, connected: boolean }
  t.equal(report.lost + report.in_flight_unacknowledged, 30, `lost ${report.lost} + in flight ${report.in_flight_unacknowledged} = the backlog`)
  t.ok(report.in_flight_unacknowledged > 0, 'the batch in flight is told apart')
  t.ok(report.flushed_for_ms > 0, 'and how long it flushed, not 0')
})
