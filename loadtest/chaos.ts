// The chaos run of issue 14's acceptance, on loopback and bounded in time: a real gateway
// process at ~300 req/s for 60 s against a real broker that is paused (SIGSTOP) for 15 s, then
// killed (SIGKILL) and restarted; one request with a 15,000-character x-request-id in the
// middle. Reports failed HTTP requests, every answered prediction on the topic exactly once
// (except those counted as rejected), and the rejected count.
//   npm run build && npx tsx loadtest/chaos.ts      (writes loadtest/results/chaos.json)
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startBroker } from '../scripts/kafka-broker.mjs'
import { evalRows, parseMetrics, ROOT } from '../test/helpers/gateway.js'
import { readTopic, uniquePrefix } from '../test/helpers/kafka.js'
import { serveCli } from '../test/helpers/process.js'
import { openLoop } from './lib/open-loop.js'

const RATE = 300
const SECONDS = 60
const rows = evalRows()
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

const broker = await startBroker({ quiet: true })
const prefix = uniquePrefix()
const s = await serveCli({ FAIRGATE_KAFKA_BROKERS: broker.brokers, FAIRGATE_KAFKA_TOPIC_PREFIX: prefix, FAIRGATE_LOG_LEVEL: 'warn' }, 60_000)
const answered: string[] = []
const timeline: string[] = []
const t0 = Date.now()
const mark = (what: string): void => { timeline.push(`${((Date.now() - t0) / 1000).toFixed(1)} s ${what}`) }
let oversized = { status: 0, body: '' }
const chaos = (async () => {
  await sleep(10_000)
  process.kill(broker.pid as number, 'SIGSTOP'); mark('broker paused (SIGSTOP)')
  await sleep(15_000)
  process.kill(broker.pid as number, 'SIGCONT'); mark('broker resumed')
  await sleep(3_000)
  const r = await fetch(`${s.url}/v1/predict`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'x'.repeat(15_000) }, body: JSON.stringify({ model: 'income', instances: rows.slice(0, 1024).map(r => r.features) }) })
  oversized = { status: r.status, body: (await r.text()).slice(0, 200) }; mark(`oversized-id request: ${r.status}`)
  await sleep(2_000)
  await broker.kill(); mark('broker killed (SIGKILL)')
  await sleep(10_000)
  await broker.start(); mark('broker restarted')
})()
const load = await openLoop({
  url: s.url,
  path: '/v1/predict',
  rate: RATE,
  seconds: SECONDS,
  connections: 32,
  drainMs: 10_000,
  request: i => ({ body: JSON.stringify({ model: 'income', features: rows[i % rows.length]!.features, group: rows[i % rows.length]!.group }) }),
  onResponse: (_i, _tag, status, body) => { if (status === 200) answered.push((JSON.parse(body) as { id: string }).id) }
})
await chaos
// Wait for the backlog to reach the restarted broker.
let m = new Map<string, number>()
for (let i = 0; i < 120; i++) {
  m = parseMetrics(await (await fetch(`${s.url}/metrics`)).text())
  if ((m.get(`fairgate_event_buffer{topic="${prefix}predictions"}`) ?? 1) === 0) break
  await sleep(500)
}
const records = await readTopic(broker.brokers, `${prefix}predictions`, answered.length, 120_000, 3_000)
const ids = records.map(r => r.value.id as string)
const got = new Set(ids)
const result = {
  command: 'npm run build && npx tsx loadtest/chaos.ts',
  offered_rps: RATE,
  seconds: SECONDS,
  timeline,
  http: { sent: load.sent, ok: load.ok, non2xx: load.non2xx, errors: load.errors, p50_ms: load.p50, p99_ms: load.p99, max_ms: load.max },
  oversized_request: oversized,
  answered_predictions: answered.length,
  on_topic: records.length,
  missing: answered.filter(id => !got.has(id)).length,
  duplicates: ids.length - got.size,
  rejected: m.get(`fairgate_events_total{topic="${prefix}predictions",outcome="rejected"}`) ?? 0,
  dropped: m.get(`fairgate_events_total{topic="${prefix}predictions",outcome="dropped"}`) ?? 0,
  backlog_at_end: m.get(`fairgate_event_buffer{topic="${prefix}predictions"}`)
}
console.log(JSON.stringify(result, null, 2))
writeFileSync(join(ROOT, 'loadtest', 'results', 'chaos.json'), JSON.stringify(result, null, 2) + '\n')
s.child.kill('SIGTERM')
await s.exited
await broker.stop()
