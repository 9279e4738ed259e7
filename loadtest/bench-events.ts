// npm run bench:events — gateway throughput with Kafka streaming on against off, from one run.
// Both gateways run as child processes while the same broker is up (so the only difference is
// the event stream), on each of BENCH_VARIANTS (default "full,distilled": full is the default
// variant, distilled the cheapest model, where the per-event overhead shows most). Runs alternate
// off/on; medians and their ratio are printed per variant. The broker shares the
// machine's cores, so with a broker of its own the bench also prints the broker's CPU per request.
// BENCH_GATEWAY_ENV adds FAIRGATE_* variables to both gateways (a JSON object). A broker the bench
// starts is warmed up first (BENCH_BROKER_WARMUP_SECONDS, default 20, of Kafka-on load).
import { startBroker } from '../scripts/kafka-broker.mjs'
import { closedLoop, evalRows, gatewayEnv, median, startGatewayProcess, threadCpuMs } from './lib/harness.js'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64)
const VARIANTS = (process.env.BENCH_VARIANTS ?? process.env.BENCH_VARIANT ?? 'full,distilled').split(',')

const external = process.env.KAFKA_BROKERS
// The test broker runs its JVM with C1 only, for fast starts in tests (scripts/kafka-broker.mjs);
// here it carries sustained load, so it gets the full JIT a production broker has.
const brokerJvm = ['-XX:TieredStopAtLevel=4', ...(process.env.BENCH_BROKER_JVM ?? '').split(' ').filter(Boolean)]
const broker = external === undefined || external === '' ? await startBroker({ quiet: true, jvmArgs: brokerJvm }) : null
const brokers = broker?.brokers ?? external!
const rows = evalRows(2000)
const extraEnv = gatewayEnv('BENCH_GATEWAY_ENV')
const summary: string[] = []
const brokerCpuMs = (): number | null => {
  const t = broker?.pid == null ? null : threadCpuMs(broker.pid)
  return t === null ? null : t.main + t.others
}
try {
  // The broker's JIT compiles its hot paths under the first sustained load (tens of seconds of
  // CPU); without a warm-up that lands on whichever variant is measured first.
  if (broker !== null) {
    const gw = await startGatewayProcess({ ...extraEnv, FAIRGATE_KAFKA_BROKERS: brokers, FAIRGATE_KAFKA_TOPIC_PREFIX: `benchwarm${Date.now()}.` })
    const warmBodies = rows.map(r => JSON.stringify({ model: 'income', features: r.features, group: r.group, variant: 'distilled' }))
    await closedLoop(gw.url, warmBodies, CONNECTIONS, Number(process.env.BENCH_BROKER_WARMUP_SECONDS ?? 20))
    await gw.stop()
  }
  for (const variant of VARIANTS) summary.push(...await measure(variant))
} finally {
  await broker?.stop()
}
console.log(`\n${summary.join('\n')}`)

async function measure (variant: string): Promise<string[]> {
  const bodies = rows.map(r => JSON.stringify({ model: 'income', features: r.features, group: r.group, variant }))

  const off: number[] = []
  const on: number[] = []
  // Gateway CPU per request (µs): its main thread, and its other threads (the Kafka worker).
  const cpuMain: Record<'off' | 'on', number[]> = { off: [], on: [] }
  const cpuOther: Record<'off' | 'on', number[]> = { off: [], on: [] }
  // The broker JVM's CPU per request (µs), when the bench started it.
  const cpuBroker: number[] = []
  let sent = 0
  for (let r = 0; r < REPEATS; r++) {
    for (const mode of ['off', 'on'] as const) {
      const env: Record<string, string> = mode === 'on' ? { FAIRGATE_KAFKA_BROKERS: brokers, FAIRGATE_KAFKA_TOPIC_PREFIX: `bench${Date.now()}.` } : {}
      const gw = await startGatewayProcess({ ...extraEnv, ...env })
      await closedLoop(gw.url, bodies, CONNECTIONS, 2) // warm-up
      const cpu0 = threadCpuMs(gw.child.pid!)
      const broker0 = brokerCpuMs()
      const res = await closedLoop(gw.url, bodies, CONNECTIONS, SECONDS)
      const cpu1 = threadCpuMs(gw.child.pid!)
      const broker1 = brokerCpuMs()
      let cpuNote = ''
      if (cpu0 !== null && cpu1 !== null && res.total > 0) {
        const m = (cpu1.main - cpu0.main) * 1000 / res.total
        const o = (cpu1.others - cpu0.others) * 1000 / res.total
        cpuMain[mode].push(m)
        cpuOther[mode].push(o)
        cpuNote = `  cpu/req main ${m.toFixed(0)} µs, other threads ${o.toFixed(0)} µs`
      }
      if (mode === 'on' && broker0 !== null && broker1 !== null && res.total > 0) {
        const b = (broker1 - broker0) * 1000 / res.total
        cpuBroker.push(b)
        cpuNote += `, broker ${b.toFixed(0)} µs`
      }
      if (mode === 'on') {
        const m = await (await fetch(`${gw.url}/metrics`)).text()
        for (const line of m.split('\n')) if (/^fairgate_events_total\{.*predictions",outcome="sent"\}/.test(line)) sent += Number(line.split(' ')[1])
      }
      await gw.stop()
      ;(mode === 'on' ? on : off).push(res.rps)
      console.log(`${variant} run ${r + 1} kafka ${mode.padEnd(3)}: ${res.rps.toFixed(0)} req/s  p50 ${res.p50} ms  p99 ${res.p99} ms  non2xx ${res.non2xx}${cpuNote}`)
    }
  }
  const ratio = median(on) / median(off)
  const out: string[] = []
  out.push(`variant=${variant} connections=${CONNECTIONS} ${SECONDS}s x ${REPEATS}`)
  out.push(`  kafka off: ${median(off).toFixed(0)} req/s (median; runs ${off.map(x => x.toFixed(0)).join(', ')})`)
  out.push(`  kafka on : ${median(on).toFixed(0)} req/s (median; runs ${on.map(x => x.toFixed(0)).join(', ')}); ${sent} prediction events acked`)
  if (cpuMain.on.length > 0 && cpuMain.off.length > 0) {
    out.push(`  gateway main thread cpu/req: off ${median(cpuMain.off).toFixed(0)} µs, on ${median(cpuMain.on).toFixed(0)} µs (ratio off/on ${(median(cpuMain.off) / median(cpuMain.on)).toFixed(2)}); other threads: off ${median(cpuOther.off).toFixed(0)} µs, on ${median(cpuOther.on).toFixed(0)} µs`)
  }
  if (cpuBroker.length > 0) out.push(`  broker cpu/req with kafka on: ${median(cpuBroker).toFixed(0)} µs (same machine)`)
  out.push(`  ratio on/off: ${ratio.toFixed(2)} (per run ${on.map((x, i) => (x / off[i]!).toFixed(2)).join(', ')}; goal >= 0.90)`)
  return out
}
