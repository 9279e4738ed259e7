// Gateway throughput with Kafka streaming (and the monitor) on against off, closed loop: the
// `kafka` scenario of `npm run bench` and the whole of `npm run bench:events`.
//
// Both sides run while the same broker is up, so the only difference is the event stream. The
// broker shares the machine's 2 cores with the gateway and the load generator (there is no
// other machine), which a production broker would not; its CPU per request is printed so the
// share it takes is visible. A broker started here gets the full JIT a production broker has
// (the test broker runs C1 only, for fast starts) and a warm-up under Kafka-on load, because
// its JIT compiles its hot paths in the first tens of seconds of sustained load.
//
// Each repeat runs a fresh gateway off and a fresh gateway on, seconds apart, in alternating
// order; the headline ratio is the median of the per-repeat ratios. Kafka-on runs also read
// the gateway's event counters before it stops: a dropped prediction event fails the figure.
import { startBroker } from '../../scripts/kafka-broker.mjs'
import { closedLoop, cpuPerRequestUs, median, processCpuMs, startGatewayProcess, threadCpuMs, type EvalRow, type LoadResult } from './harness.js'

export interface KafkaOnOffOptions {
  variants: string[]
  seconds: number
  repeats: number
  /** Closed-loop warm-up of every fresh gateway before it is measured. */
  warmupSeconds: number
  connections: number
  /** Kafka-on load on a broker started here before anything is measured. */
  brokerWarmupSeconds: number
  /** An external broker list (KAFKA_BROKERS); empty or undefined: start one for the run. */
  brokers?: string
  gatewayEnv: Record<string, string>
  rows: EvalRow[]
  log: (line: string) => void
}

export interface KafkaRun extends LoadResult {
  variant: string
  repeat: number
  mode: 'off' | 'on'
  /** Gateway CPU per request (µs): main thread, other threads (the Kafka worker, onnxruntime). */
  cpuMainUs: number | null
  cpuOtherUs: number | null
  /** The broker JVM's CPU per request (µs), when the broker was started here. */
  brokerUs: number | null
  /** Prediction events by outcome at the end of a Kafka-on run (before the gateway drains). */
  events: { buffered: number, sent: number, dropped: number, failed: number } | null
}

export interface KafkaVariantSummary {
  variant: string
  /** Median req/s of each side. */
  off: number
  on: number
  /** Median of the per-repeat ratios on / off (the figure), and the ratio of the medians. */
  ratio: number
  ratioOfMedians: number
  perRepeat: number[]
  cpuMainUs: { off: number | null, on: number | null }
  cpuOtherUs: { off: number | null, on: number | null }
  brokerUs: number | null
  events: { buffered: number, sent: number, dropped: number }
}

export interface KafkaSummary {
  broker: string
  seconds: number
  repeats: number
  connections: number
  variants: KafkaVariantSummary[]
  runs: KafkaRun[]
}

/** The JVM flags of a broker started for a benchmark (after the test defaults, so they win). */
export function benchBrokerJvm (extra = process.env.BENCH_BROKER_JVM ?? ''): string[] {
  return ['-XX:TieredStopAtLevel=4', ...extra.split(' ').filter(Boolean)]
}

const medianOrNull = (xs: Array<number | null>): number | null => {
  const v = xs.filter((x): x is number => x !== null)
  return v.length > 0 ? median(v) : null
}

/** fairgate_events_total{topic="<prefix>predictions",outcome} from a /metrics text. */
function predictionEvents (metrics: string): KafkaRun['events'] {
  const out = { buffered: 0, sent: 0, dropped: 0, failed: 0 }
  for (const line of metrics.split('\n')) {
    const m = /^fairgate_events_total\{topic="[^"]*predictions",outcome="(\w+)"\} (\S+)$/.exec(line)
    if (m !== null && m[1]! in out) out[m[1] as keyof typeof out] += Number(m[2])
  }
  return out
}

export async function runKafkaOnOff (o: KafkaOnOffOptions): Promise<KafkaSummary> {
  const external = o.brokers !== undefined && o.brokers !== '' ? o.brokers : null
  const broker = external === null ? await startBroker({ quiet: true, jvmArgs: benchBrokerJvm() }) : null
  const brokers = broker?.brokers ?? external!
  const runs: KafkaRun[] = []
  try {
    if (broker !== null && o.brokerWarmupSeconds > 0) {
      const gw = await startGatewayProcess({ ...o.gatewayEnv, FAIRGATE_KAFKA_BROKERS: brokers, FAIRGATE_KAFKA_TOPIC_PREFIX: `benchwarm${Date.now()}.` })
      try {
        const warm = o.rows.map(r => JSON.stringify({ model: 'income', features: r.features, group: r.group, variant: 'distilled' }))
        await closedLoop(gw.url, warm, o.connections, o.brokerWarmupSeconds)
      } finally { await gw.stop() }
    }
    for (const variant of o.variants) {
      const bodies = o.rows.map(r => JSON.stringify({ model: 'income', features: r.features, group: r.group, variant }))
      for (let rep = 0; rep < o.repeats; rep++) {
        // Alternate the order so a slow drift of the machine does not favour one side.
        const modes = rep % 2 === 0 ? ['off', 'on'] as const : ['on', 'off'] as const
        for (const mode of modes) runs.push(await oneRun(o, variant, rep, mode, bodies, brokers, broker?.pid))
      }
    }
  } finally {
    await broker?.stop()
  }
  return {
    broker: broker !== null ? `Kafka ${broker.version} started for the run (KRaft, single node, full JIT, ${o.brokerWarmupSeconds} s warm-up) on the same machine` : `external (${brokers})`,
    seconds: o.seconds,
    repeats: o.repeats,
    connections: o.connections,
    variants: o.variants.map(v => summarize(v, runs.filter(r => r.variant === v), o.repeats)),
    runs
  }
}

/** One measured run of a fresh gateway; `brokerPid` (a broker started here) gives the broker's CPU. */
async function oneRun (o: KafkaOnOffOptions, variant: string, repeat: number, mode: 'off' | 'on', bodies: string[], brokers: string, brokerPid: number | null | undefined): Promise<KafkaRun> {
  const env: Record<string, string> = mode === 'on' ? { FAIRGATE_KAFKA_BROKERS: brokers, FAIRGATE_KAFKA_TOPIC_PREFIX: `bench${Date.now()}.` } : {}
  const gw = await startGatewayProcess({ ...o.gatewayEnv, ...env })
  try {
    await closedLoop(gw.url, bodies, o.connections, o.warmupSeconds)
    const cpu0 = threadCpuMs(gw.child.pid!)
    const broker0 = processCpuMs(brokerPid)
    const res = await closedLoop(gw.url, bodies, o.connections, o.seconds)
    const cpu = cpuPerRequestUs(cpu0, threadCpuMs(gw.child.pid!), res.total)
    const broker1 = processCpuMs(brokerPid)
    const run: KafkaRun = {
      ...res,
      variant,
      repeat,
      mode,
      cpuMainUs: cpu === null ? null : Math.round(cpu.main),
      cpuOtherUs: cpu === null ? null : Math.round(cpu.others),
      brokerUs: mode === 'on' && broker0 !== null && broker1 !== null && res.total > 0 ? Math.round((broker1 - broker0) * 1000 / res.total) : null,
      events: mode === 'on' ? predictionEvents(await (await fetch(`${gw.url}/metrics`)).text()) : null
    }
    const ev = run.events === null ? '' : `; events buffered ${run.events.buffered}, sent ${run.events.sent}, dropped ${run.events.dropped}`
    o.log(`kafka   rep ${repeat + 1} ${variant.padEnd(9)} ${mode.padEnd(3)} ${res.rps.toFixed(0).padStart(6)} req/s  p50 ${res.p50} ms  p99 ${res.p99} ms  non2xx ${res.non2xx}  cpu/req main ${run.cpuMainUs ?? '-'} µs other ${run.cpuOtherUs ?? '-'} µs${run.brokerUs === null ? '' : ` broker ${run.brokerUs} µs`}${ev}`)
    return run
  } finally {
    await gw.stop()
  }
}

function summarize (variant: string, runs: KafkaRun[], repeats: number): KafkaVariantSummary {
  const side = (m: 'off' | 'on'): KafkaRun[] => runs.filter(r => r.mode === m)
  const perRepeat: number[] = []
  for (let rep = 0; rep < repeats; rep++) {
    const off = runs.find(r => r.repeat === rep && r.mode === 'off')
    const on = runs.find(r => r.repeat === rep && r.mode === 'on')
    if (off !== undefined && on !== undefined && off.rps > 0) perRepeat.push(on.rps / off.rps)
  }
  const off = median(side('off').map(r => r.rps))
  const on = median(side('on').map(r => r.rps))
  const events = { buffered: 0, sent: 0, dropped: 0 }
  for (const r of side('on')) {
    if (r.events === null) continue
    events.buffered += r.events.buffered
    events.sent += r.events.sent
    events.dropped += r.events.dropped
  }
  return {
    variant,
    off,
    on,
    ratio: median(perRepeat),
    ratioOfMedians: on / off,
    perRepeat,
    cpuMainUs: { off: medianOrNull(side('off').map(r => r.cpuMainUs)), on: medianOrNull(side('on').map(r => r.cpuMainUs)) },
    cpuOtherUs: { off: medianOrNull(side('off').map(r => r.cpuOtherUs)), on: medianOrNull(side('on').map(r => r.cpuOtherUs)) },
    brokerUs: medianOrNull(side('on').map(r => r.brokerUs)),
    events
  }
}
