// npm run bench:events — gateway throughput with Kafka streaming on against off (lib/kafka-on-off.ts),
// on each of BENCH_VARIANTS (default every variant of the income model: full is the default and
// what `npm run bench` measures; distilled is the cheapest model, where the per-event cost shows
// most). Besides the end-to-end ratio (the broker on the same cores) it prints the streaming cost
// per event apart: the gateway's own (its CPU per request on minus off, main thread and other
// threads: the Kafka worker; one event per single-row request) as a share of its per-request CPU
// with Kafka off, and the broker's (its process CPU per event, for sizing).
//   BENCH_SECONDS (default 10), BENCH_REPEATS (5), BENCH_CONNECTIONS (64),
//   BENCH_BROKER_WARMUP_SECONDS (20, of Kafka-on load on a broker started here),
//   BENCH_BROKER_JVM (extra JVM flags for that broker), KAFKA_BROKERS (use a running broker),
//   BENCH_GATEWAY_ENV (FAIRGATE_* variables for both gateways, a JSON object).
import { evalRows, gatewayEnv } from './lib/harness.js'
import { runKafkaOnOff } from './lib/kafka-on-off.js'

const s = await runKafkaOnOff({
  variants: (process.env.BENCH_VARIANTS ?? process.env.BENCH_VARIANT ?? 'full,distilled,fair,int8,full-eo,distilled-eo').split(','),
  seconds: Number(process.env.BENCH_SECONDS ?? 10),
  repeats: Number(process.env.BENCH_REPEATS ?? 5),
  warmupSeconds: 2,
  connections: Number(process.env.BENCH_CONNECTIONS ?? 64),
  brokerWarmupSeconds: Number(process.env.BENCH_BROKER_WARMUP_SECONDS ?? 20),
  brokers: process.env.KAFKA_BROKERS,
  gatewayEnv: gatewayEnv('BENCH_GATEWAY_ENV'),
  rows: evalRows(2000),
  log: (line) => { console.log(line) }
})
const us = (x: number | null): string => x === null ? '-' : `${x} µs`
console.log(`\nbroker: ${s.broker}; ${s.connections} connections, ${s.seconds} s × ${s.repeats} repeats`)
for (const v of s.variants) {
  console.log(`variant=${v.variant}`)
  console.log(`  kafka off: ${v.off.toFixed(0)} req/s, on: ${v.on.toFixed(0)} req/s (medians)`)
  console.log(`  prediction events in the Kafka-on runs: buffered ${v.events.buffered}, acked ${v.events.sent} by the end of each run, dropped ${v.events.dropped}`)
  console.log(`  gateway cpu/req: main thread off ${us(v.cpuMainUs.off)}, on ${us(v.cpuMainUs.on)}; other threads off ${us(v.cpuOtherUs.off)}, on ${us(v.cpuOtherUs.on)}; broker ${us(v.brokerUs)}`)
  const off = v.cpuMainUs.off !== null && v.cpuOtherUs.off !== null ? v.cpuMainUs.off + v.cpuOtherUs.off : null
  const on = v.cpuMainUs.on !== null && v.cpuOtherUs.on !== null ? v.cpuMainUs.on + v.cpuOtherUs.on : null
  if (off !== null && on !== null && v.cpuMainUs.on !== null && v.cpuMainUs.off !== null) {
    const stream = on - off
    console.log(`  streaming cpu/event: gateway ${stream} µs (main thread ${v.cpuMainUs.on - v.cpuMainUs.off}, other threads ${on - off - (v.cpuMainUs.on - v.cpuMainUs.off)}) = ${(100 * stream / off).toFixed(1)}% of its ${off} µs per request with Kafka off (goal <= 10%); broker ${us(v.brokerUs)} per event`)
  }
  console.log(`  ratio on/off: ${v.ratio.toFixed(2)} (median of per-repeat ${v.perRepeat.map(x => x.toFixed(2)).join(', ')}; of medians ${v.ratioOfMedians.toFixed(2)}; goal >= 0.90${v.events.dropped > 0 ? '; events were dropped' : ''})`)
}
