// tsx loadtest/profile-idle.ts — what an idle gateway costs: CPU of the broker and of the
// gateway's threads over IDLE_SECONDS (default 10), IDLE_SETTLE_SECONDS (default 10) after
// start, with Kafka on and then off (the broker runs in both, so its own idle cost shows as the
// off figure). Polling consumers, timers and heartbeats show here and nowhere else.
//   KAFKA_BROKERS is not used: the script needs its own broker's pid for its CPU. The broker gets
//   the benchmarks' full JIT (plus BENCH_BROKER_JVM).
import { startBroker } from '../scripts/kafka-broker.mjs'
import { processCpuMs, startGatewayProcess, threadCpuMs } from './lib/harness.js'
import { benchBrokerJvm } from './lib/kafka-on-off.js'

const SETTLE = Number(process.env.IDLE_SETTLE_SECONDS ?? 10) * 1000
const SECONDS = Number(process.env.IDLE_SECONDS ?? 10)
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }
const broker = await startBroker({ quiet: true, jvmArgs: benchBrokerJvm() })
const pct = (ms: number): string => (ms / (SECONDS * 10)).toFixed(1)
try {
  for (const kafka of [true, false]) {
    const gw = await startGatewayProcess(kafka ? { FAIRGATE_KAFKA_BROKERS: broker.brokers } : {})
    await sleep(SETTLE)
    const b0 = processCpuMs(broker.pid)!
    const g0 = threadCpuMs(gw.child.pid!)!
    await sleep(SECONDS * 1000)
    const b1 = processCpuMs(broker.pid)!
    const g1 = threadCpuMs(gw.child.pid!)!
    await gw.stop()
    console.log(`kafka ${kafka ? 'on ' : 'off'}: broker ${pct(b1 - b0)}% of a core; gateway main thread ${pct(g1.main - g0.main)}%, other threads ${pct(g1.others - g0.others)}%`)
  }
} finally {
  await broker.stop()
}
