// Scale-out against the real broker: event topics of 6 partitions, one single monitor and three
// sharded monitors reading the same events. The shards' merged report equals the single
// monitor's (every count, rate and gap; float sums within 1e-12, as they add in another order),
// labels joined as the single monitor joins them. One shard stopped mid-stream: the other two
// take its partitions, rebuild them, and the merged report equals the single monitor's again.
// Two shards run in this process; the third is a `fairgate monitor` process (dist/, so
// `npm run build` first), killed with SIGKILL mid-stream: it leaves no goodbye to the group.
import t, { type Test } from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel, type Producer } from 'kafkajs'
import { createMonitor } from '../../src/create-monitor.js'
import { createShardedMonitor, type ShardedMonitorService } from '../../src/create-monitor-shard.js'
import { validateConfig } from '../../src/config/index.js'
import type { FairnessReport } from '../../src/monitor/index.js'
import { nextPredictionId } from '../../src/prediction-id.js'
import { MODELS_DIR, silentLog } from '../helpers/gateway.js'
import { sharedBroker, uniquePrefix } from '../helpers/kafka.js'
import { monitorCli } from '../helpers/process.js'
import { waitFor } from '../helpers/wait.js'

const PARTITIONS = 6
const monitorCfg = { window_ms: 120_000, bucket_ms: 1_000, feedback_ttl_ms: 120_000, min_samples: 1, report_min: 1, min_labelled: 1, refresh_ms: 0, intersections: [['sex', 'race']], summary_interval_ms: 200, summary_stale_ms: 5_000 }
const SEX = ['Female', 'Male']
const RACE = ['Amer-Indian-Eskimo', 'Asian-Pac-Islander', 'Black', 'Other', 'White']
const VARIANTS = ['full', 'distilled', 'fair']

function rng (seed: number): () => number {
  let s = seed
  return () => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return s / 2 ** 32 }
}
const rand = rng(20)

/** n prediction events as a gateway writes them, and labels for about half of them. */
async function produce (producer: Producer, prefix: string, n: number): Promise<number> {
  const preds = []
  const labels = []
  for (let i = 0; i < n; i++) {
    const id = nextPredictionId()
    const ts = Date.now()
    const score = Math.fround(rand())
    const rows = [1, 2, 3][Math.floor(rand() * 3)]
    const ev = { id, request_id: id, ts, model: 'income', variant: VARIANTS[i % 3], score, decision: score >= 0.5 ? 1 : 0, threshold: 0.5, latency_ms: Math.round(rand() * 40_000) / 1000, queue_ms: 0, batch_size: 1, request_rows: rows, replica: 'r', groups: { sex: SEX[Math.floor(rand() * 2)], race: RACE[Math.floor(rand() * 5)] } }
    preds.push({ key: id, value: JSON.stringify(ev), timestamp: String(ts) })
    if (rand() < 0.5) labels.push({ key: id, value: JSON.stringify({ prediction_id: id, label: rand() < 0.4 ? 1 : 0, ts }), timestamp: String(ts) })
  }
  await producer.send({ topic: `${prefix}predictions`, messages: preds })
  await producer.send({ topic: `${prefix}feedback`, messages: labels })
  return labels.length
}

/** The report without its time; non-integers to 12 significant digits (float sums in another order). */
function norm (r: FairnessReport | undefined): unknown {
  const { generated_at: _g, ...rest } = r!
  return JSON.parse(JSON.stringify(rest, (_k, v) => typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(12)) : v))
}

const total = (r: FairnessReport | undefined): number => Object.values(r?.variants ?? {}).reduce((s, v) => s + v.n, 0)
const labelled = (r: FairnessReport | undefined): number => Object.values(r?.variants ?? {}).reduce((s, v) => s + Object.values(v.attributes.sex?.groups ?? {}).reduce((a, g) => a + g.labelled, 0), 0)

/** Waits for the shard's merged report to equal the single monitor's; on a timeout shows the difference. */
async function untilEqual (t: Test, s: ShardedMonitorService, single: { monitor: { report: (m: string) => FairnessReport | undefined } }, timeoutMs: number): Promise<void> {
  const same = (): boolean => JSON.stringify(norm(s.monitor.report('income'))) === JSON.stringify(norm(single.monitor.report('income')))
  try {
    await waitFor(`shard ${s.config.replica}'s merged report equals the single monitor's`, same, timeoutMs)
  } catch (err) {
    t.same(norm(s.monitor.report('income')), norm(single.monitor.report('income')), `${(err as Error).message}; shard status ${JSON.stringify(s.status())}`)
    throw err
  }
}

t.test('3 monitor shards over 6 partitions report what one monitor reports, also after one is killed', async t => {
  const brokers = await sharedBroker(t)
  const prefix = uniquePrefix()
  const kafka = new Kafka({ clientId: 'shards-test', brokers: [brokers], logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ waitForLeaders: true, topics: [`${prefix}predictions`, `${prefix}feedback`].map(topic => ({ topic, numPartitions: PARTITIONS })).concat([{ topic: `${prefix}decisions`, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] } as any]) })
  await admin.disconnect()
  const producer = kafka.producer()
  await producer.connect()
  t.teardown(async () => { await producer.disconnect() })

  const input = (replica: string, sharded: boolean) => ({ kafka: { brokers: [brokers], topic_prefix: prefix }, models: { dir: MODELS_DIR }, policy: { evaluate: false }, monitor: { ...monitorCfg, sharded }, replica })
  const config = (replica: string, sharded: boolean): ReturnType<typeof validateConfig> => validateConfig(input(replica, sharded))
  const file = join(mkdtempSync(join(tmpdir(), 'fg-shards-')), 'fairgate.yaml')
  writeFileSync(file, JSON.stringify(input('s3', true))) // JSON is YAML
  let sent = 0
  let sentLabels = 0
  sentLabels += await produce(producer, prefix, 2000); sent += 2000

  const single = createMonitor(config('single', false), { log: silentLog })
  const shards: ShardedMonitorService[] = ['s1', 's2'].map(r => createShardedMonitor(config(r, true), { log: silentLog }))
  t.teardown(async () => { await Promise.allSettled([single.stop(), ...shards.map(s => s.stop())]) })
  const third = await monitorCli({ FAIRGATE_CONFIG: file })
  t.teardown(() => { third.child.kill('SIGKILL') })
  await Promise.all([single.start(), ...shards.map(s => s.start())])
  const thirdOwns = async (): Promise<number[]> => { try { return ((await (await fetch(`${third.url}/v1/monitor`)).json()) as { owned?: number[] }).owned ?? [] } catch { return [] } }

  sentLabels += await produce(producer, prefix, 2000); sent += 2000
  const singleAt = (n: number, l: number) => async (): Promise<boolean> => total(single.monitor.report('income')) === n && labelled(single.monitor.report('income')) === l
  await waitFor('the single monitor counted every event and label', singleAt(sent, sentLabels), 60_000)
  await waitFor('three shards own two partitions each', async () => shards.every(s => s.owned().length === 2) && (await thirdOwns()).length === 2, 60_000)
  for (const s of shards) await untilEqual(t, s, single, 30_000)
  const merged = shards[0]!.monitor.report('income')!
  t.equal(total(merged), sent, `merged: all ${sent} predictions`)
  t.equal(labelled(merged), sentLabels, `merged: all ${sentLabels} labels joined`)
  t.same(norm(merged), norm(single.monitor.report('income')), 'merged report = single monitor report (every count, rate, gap)')
  t.equal(merged.incomplete, undefined, 'complete')
  const gone = await thirdOwns()
  t.same([...shards.flatMap(s => s.owned()), ...gone].sort(), [0, 1, 2, 3, 4, 5], 'each partition owned once')
  const fleetView = ((await (await fetch(`${third.url}/v1/fairness?model=income`)).json()) as { models: FairnessReport[] }).models[0]
  t.same(norm(fleetView), norm(single.monitor.report('income')), 'the process shard serves the same fleet report on /v1/fairness')

  // Mid-stream: events keep coming while shard 3 is killed.
  const producing = (async () => { for (let i = 0; i < 5; i++) { sentLabels += await produce(producer, prefix, 400); sent += 400; await new Promise(resolve => setTimeout(resolve, 200)) } })()
  await new Promise(resolve => setTimeout(resolve, 300))
  third.child.kill('SIGKILL')
  await third.exited
  await producing
  // Until the group notices (session timeout 10 s), the killed shard's partitions go stale (5 s).
  const seen = new Set<number>()
  await waitFor('the two remaining shards own every partition', () => {
    for (const p of shards[0]!.monitor.report('income')!.incomplete?.partitions ?? []) seen.add(p)
    return shards.flatMap(s => s.owned()).length === PARTITIONS
  }, 60_000)
  t.same([...seen].sort(), [...gone].sort(), 'meanwhile the report said incomplete, naming exactly the killed shard\'s partitions')
  t.ok(gone.every(p => shards.some(s => s.owned().includes(p))), `shard 3's partitions ${gone.join(', ')} were taken over`)
  await waitFor('the single monitor counted the new events', singleAt(sent, sentLabels), 60_000)
  for (const s of shards) await untilEqual(t, s, single, 60_000)
  const after = shards[0]!.monitor.report('income')!
  t.equal(total(after), sent, `after the takeover: all ${sent} predictions`)
  t.equal(labelled(after), sentLabels, 'and every label, joined once')
  t.same(norm(after), norm(single.monitor.report('income')), 'merged report = single monitor report again')
})
