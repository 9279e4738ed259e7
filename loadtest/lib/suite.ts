// The benchmark suite behind `npm run bench`: fairgate (the built gateway, a child process)
// against a hand-rolled baseline (loadtest/baseline/server.ts: one session.run per request) and
// a constant-answer fastify server (the HTTP ceiling), all on 127.0.0.1.
//
//   closed  closed loop, 64 connections, single-row requests (autocannon); runs of all servers
//           alternate inside one repeat, so each ratio compares runs seconds apart.
//   open    open loop at fixed arrival rates (lib/open-loop.ts), latency from the scheduled
//           send time; fairgate and the baseline alternate at each rate.
//   mixed   half the requests carry latency_budget_ms 20, half none: per-budget p50/p99,
//           status codes and the variant mix read from the answers.
//   replay  models/income/eval.jsonl in order with its group labels, with a drift injected at
//           a chosen second (Female rows switched to high-scoring records); per-group selection
//           rates before/after from GET /v1/fairness and from the answers, and the time from
//           injection to the shipped policy's first automatic action (lib/policy-hook.ts).
//   kafka   fairgate with Kafka streaming and the monitor on against off (lib/kafka-on-off.ts),
//           closed loop on the default variant, a fresh gateway per run, alternating; starts its
//           own broker (Java 17 + the cached jars, as npm test) unless KAFKA_BROKERS is set.
//   soak    (only with --soak) a stable replay of eval.jsonl (no drift) for 10 minutes under the
//           shipped policy: fairgate's RSS at 1 and 5 minutes, and the automatic actions (none).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { loadHandModel, scoreRecords } from '../baseline/model.js'
import { closedLoop, cpuPerRequestUs, evalRows, median, startGatewayProcess, threadCpuMs, type EvalRow, type LoadResult, type Proc } from './harness.js'
import { openLoop, type OpenLoopResult } from './open-loop.js'
import { runKafkaOnOff, type KafkaSummary } from './kafka-on-off.js'
import { activeVariant, policyActions, policyEvaluations, probePolicyAction, type PolicyAction } from './policy-hook.js'
import { renderMarkdown, renderSvg, renderTable } from './report.js'
import { rssMiB, startBaselineProcess } from './servers.js'

export type Scenario = 'closed' | 'open' | 'mixed' | 'replay' | 'kafka' | 'soak'
export const ALL_SCENARIOS: Scenario[] = ['closed', 'open', 'mixed', 'replay', 'kafka']

export interface BenchOptions {
  scenarios: Scenario[]
  /** Closed loop: seconds per measured run, repeats (each repeat runs every server once), warm-up. */
  seconds: number
  repeats: number
  warmupSeconds: number
  connections: number
  /** Open loop: seconds per rate, and the rates (null: derived from the closed-loop capacities). */
  openSeconds: number
  rates: number[] | null
  /** Mixed budgets: seconds and rate (null: 40% of fairgate's closed-loop capacity on full). */
  mixedSeconds: number
  mixedRate: number | null
  /** Replay: seconds, rate, drift injection at this second (null: no drift). */
  replaySeconds: number
  replayRate: number
  driftAt: number | null
  /** Kafka on/off: seconds per run, repeats (each an off and an on run), broker warm-up. */
  kafkaSeconds: number
  kafkaRepeats: number
  kafkaBrokerWarmupSeconds: number
  /** Soak: a stable replay for this long at this rate; RSS is read at 60 s and 300 s (a tenth and a half of a shorter soak). */
  soakSeconds: number
  soakRate: number
  /** Results go to <outDir>/<name>.json, .md (and .svg with the open loop). */
  outDir: string
  name: string
  /** Extra node args for the gateway child, e.g. ["--cpu-prof", "--cpu-prof-dir=/tmp/prof"]. */
  gatewayNodeArgs: string[]
  command: string
  log: (line: string) => void
}

const num = (env: NodeJS.ProcessEnv, k: string, d: number): number => env[k] === undefined || env[k] === '' ? d : Number(env[k])

/** Defaults (~6 minutes on 2 cores), overridden by BENCH_* environment variables. */
export function optionsFromEnv (env: NodeJS.ProcessEnv = process.env, smoke = false): BenchOptions {
  const s = smoke
  const rates = env.BENCH_RATES === undefined || env.BENCH_RATES === '' ? (s ? [200, 600] : null) : env.BENCH_RATES.split(',').map(Number)
  const drift = env.BENCH_DRIFT_AT
  return {
    scenarios: env.BENCH_SCENARIOS === undefined || env.BENCH_SCENARIOS === '' ? [...ALL_SCENARIOS] : env.BENCH_SCENARIOS.split(',') as Scenario[],
    seconds: num(env, 'BENCH_SECONDS', s ? 2 : 5),
    repeats: num(env, 'BENCH_REPEATS', s ? 1 : 5),
    warmupSeconds: num(env, 'BENCH_WARMUP_SECONDS', s ? 1 : 3),
    connections: num(env, 'BENCH_CONNECTIONS', 64),
    openSeconds: num(env, 'BENCH_OPEN_SECONDS', s ? 2 : 5),
    rates,
    mixedSeconds: num(env, 'BENCH_MIXED_SECONDS', s ? 2 : 8),
    mixedRate: env.BENCH_MIXED_RATE === undefined || env.BENCH_MIXED_RATE === '' ? (s ? 300 : null) : Number(env.BENCH_MIXED_RATE),
    replaySeconds: num(env, 'BENCH_REPLAY_SECONDS', s ? 6 : 45),
    replayRate: num(env, 'BENCH_REPLAY_RATE', s ? 300 : 800),
    driftAt: drift === 'none' ? null : num(env, 'BENCH_DRIFT_AT', s ? 3 : 10),
    kafkaSeconds: num(env, 'BENCH_KAFKA_SECONDS', s ? 2 : 5),
    kafkaRepeats: num(env, 'BENCH_KAFKA_REPEATS', s ? 1 : 5),
    kafkaBrokerWarmupSeconds: num(env, 'BENCH_BROKER_WARMUP_SECONDS', s ? 2 : 15),
    soakSeconds: num(env, 'BENCH_SOAK_SECONDS', s ? 8 : 600),
    soakRate: num(env, 'BENCH_SOAK_RATE', s ? 300 : 1000),
    outDir: env.BENCH_OUT_DIR ?? 'loadtest/results',
    name: env.BENCH_NAME ?? (s ? 'smoke' : 'latest'),
    gatewayNodeArgs: (env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean),
    command: 'npm run bench',
    log: (line) => { console.log(line) }
  }
}

// ---------------------------------------------------------------------------------------------
// Result shapes (what latest.json holds)

export type ServerName = 'fairgate' | 'baseline' | 'constant'
export interface ClosedRun extends LoadResult {
  server: ServerName
  variant: string
  repeat: number
  /** Server CPU per request (µs): its main thread and all its other threads. */
  cpuMainUs: number | null
  cpuOtherUs: number | null
  rssMiB: number | null
}
export interface ClosedSummary {
  runs: ClosedRun[]
  /** Median per config key "<server>/<variant>". */
  medians: Record<string, { rps: number, p50: number, p99: number, cpuMainUs: number | null, cpuOtherUs: number | null }>
  acceptance: {
    /** Median of the per-repeat ratios fairgate / baseline (full variant). */
    fullThroughputRatio: number
    fullThroughputRatioOfMedians: number
    fullThroughputRatioPerRepeat: number[]
    fullP99: { fairgate: number, baseline: number }
    distilledPctOfConstant: number
    distilledPctOfConstantOfMedians: number
    distilledPctOfConstantPerRepeat: number[]
    /** The HTTP ceiling over the baseline (constant / baseline full, median per repeat): the most any gateway on this HTTP stack could reach. */
    ceilingOverBaselineFull: number
    /** Main-thread CPU per request, baseline full / fairgate full (steadier than req/s on a noisy machine). */
    fullCpuRatio: number | null
  }
}
export interface OpenPoint extends OpenLoopResult { server: ServerName, variant: string }
export interface OpenSummary { rates: number[], points: OpenPoint[], skipped: Array<{ server: ServerName, rate: number, why: string }> }
export interface MixedSummary {
  rate: number
  seconds: number
  result: OpenLoopResult
  perBudget: Record<string, { n: number, ok: number, p50: number, p99: number, status: Record<string, number>, variants: Record<string, number> }>
}
export interface GroupRates { Female: number | null, Male: number | null, gap: number | null, nFemale: number, nMale: number }
export interface ReplaySummary {
  rate: number
  seconds: number
  driftAt: number | null
  driftPoolSize: number
  result: OpenLoopResult
  /** From GET /v1/fairness (window = the phase), and computed from the answers' `decision`. */
  before: { monitor: GroupRates | null, answers: GroupRates }
  after: { monitor: GroupRates | null, answers: GroupRates }
  /** One point per poll: window-5s rates and the demographic parity difference for `sex`. */
  timeline: Array<{ t: number, Female: number | null, Male: number | null, dpd: number | null, dpdLo: number | null, dpdHi: number | null }>
  /** Seconds from injection until the 5 s window's DPD interval lies above the pre-drift interval. */
  detectSeconds: number | null
  /** Seconds from injection to the gateway's first automatic action; null = none seen. */
  timeToActionSeconds: number | null
  action: PolicyAction | null
}
/** A stable replay of eval.jsonl (no drift) under the shipped policy, for minutes. */
export interface SoakSummary {
  seconds: number
  rate: number
  result: OpenLoopResult
  /** Every 2 s: VmRSS, and the V8 heap (used / total) from the gateway's /metrics. */
  samples: Array<{ t: number, rssMiB: number | null, heapUsedMiB: number | null, heapTotalMiB: number | null }>
  /** When the two RSS readings were taken (s): 60 and 300 in the full-length soak. */
  firstCheck: number
  secondCheck: number
  /** The figures asked for: VmRSS at the two checks (growth between them) and at the end. */
  rssAt60: number | null
  rssAt300: number | null
  rssEnd: number | null
  growthPct: number | null
  /** RSS follows V8's GC sawtooth, so two point readings depend on the phase: means and peaks over the minute before each check. */
  rssMeanFirst: number | null
  rssMeanLast: number | null
  rssMaxFirst: number | null
  rssMaxLast: number | null
  heapUsedMeanFirst: number | null
  heapUsedMeanLast: number | null
  /** Policy evaluations during the soak, and the automatic actions taken (must be none). */
  evaluations: number | null
  actions: PolicyAction[] | null
}
export interface BenchResults {
  meta: { date: string, node: string, cpus: number, cpuModel: string, loadavgStart: number[], loadavgEnd: number[], command: string, options: Omit<BenchOptions, 'log'>, durationSeconds: number }
  closed?: ClosedSummary
  open?: OpenSummary
  mixed?: MixedSummary
  replay?: ReplaySummary
  /** The Kafka on/off figures, or why the scenario could not run (no Java, no jars). */
  kafka?: KafkaSummary | { skipped: string }
  soak?: SoakSummary
}

// ---------------------------------------------------------------------------------------------

const MODEL = 'income'
const bodyOf = (r: EvalRow, extra: Record<string, unknown> = {}): string => JSON.stringify({ model: MODEL, features: r.features, group: r.group, ...extra })
const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d

interface Servers { fairgate: Proc, baseline: Proc, constant: Proc }

async function startServers (o: BenchOptions): Promise<Servers> {
  const [fairgate, baseline, constant] = await Promise.all([
    startGatewayProcess({}, o.gatewayNodeArgs),
    startBaselineProcess('baseline'),
    startBaselineProcess('constant')
  ])
  return { fairgate, baseline, constant }
}

async function runClosed (o: BenchOptions, s: Servers, rows: EvalRow[]): Promise<ClosedSummary> {
  const configs: Array<{ server: ServerName, variant: string }> = [
    { server: 'fairgate', variant: 'full' },
    { server: 'baseline', variant: 'full' },
    { server: 'fairgate', variant: 'distilled' },
    { server: 'constant', variant: 'distilled' },
    { server: 'baseline', variant: 'distilled' }
  ]
  const bodies: Record<string, string[]> = {
    full: rows.map(r => bodyOf(r, { variant: 'full' })),
    distilled: rows.map(r => bodyOf(r, { variant: 'distilled' }))
  }
  for (const c of configs) await closedLoop(s[c.server].url, bodies[c.variant]!, o.connections, o.warmupSeconds)
  const runs: ClosedRun[] = []
  for (let rep = 0; rep < o.repeats; rep++) {
    // Alternate the order every repeat so a slow drift of the machine does not favour one side.
    const order = rep % 2 === 0 ? configs : [...configs].reverse()
    for (const c of order) {
      const p = s[c.server]
      const cpu0 = threadCpuMs(p.child.pid!)
      const r = await closedLoop(p.url, bodies[c.variant]!, o.connections, o.seconds)
      const cpu = cpuPerRequestUs(cpu0, threadCpuMs(p.child.pid!), r.total)
      const run: ClosedRun = {
        ...r,
        server: c.server,
        variant: c.variant,
        repeat: rep,
        cpuMainUs: cpu?.main ?? null,
        cpuOtherUs: cpu?.others ?? null,
        rssMiB: rssMiB(p.child.pid)
      }
      runs.push(run)
      o.log(`closed  rep ${rep + 1} ${c.server.padEnd(8)} ${c.variant.padEnd(9)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  non2xx ${r.non2xx} err ${r.errors}  cpu/req main ${run.cpuMainUs ?? '-'} µs other ${run.cpuOtherUs ?? '-'} µs`)
    }
  }
  const medians: ClosedSummary['medians'] = {}
  for (const c of configs) {
    const rs = runs.filter(r => r.server === c.server && r.variant === c.variant)
    const cpuM = rs.map(r => r.cpuMainUs).filter((x): x is number => x !== null)
    const cpuO = rs.map(r => r.cpuOtherUs).filter((x): x is number => x !== null)
    medians[`${c.server}/${c.variant}`] = {
      rps: median(rs.map(r => r.rps)),
      p50: median(rs.map(r => r.p50)),
      p99: median(rs.map(r => r.p99)),
      cpuMainUs: cpuM.length > 0 ? median(cpuM) : null,
      cpuOtherUs: cpuO.length > 0 ? median(cpuO) : null
    }
  }
  return { runs, medians, acceptance: closedAcceptance(runs, medians, o.repeats) }
}

/**
 * The acceptance figures of the closed loop. Headline ratios are the median of the per-repeat
 * ratios (both sides measured seconds apart in the same repeat); the ratio of the medians is
 * kept alongside.
 */
export function closedAcceptance (runs: ClosedRun[], medians: ClosedSummary['medians'], repeats: number): ClosedSummary['acceptance'] {
  const perRep = (a: string, b: string): number[] => {
    const out: number[] = []
    for (let rep = 0; rep < repeats; rep++) {
      const x = runs.find(r => `${r.server}/${r.variant}` === a && r.repeat === rep)
      const y = runs.find(r => `${r.server}/${r.variant}` === b && r.repeat === rep)
      if (x !== undefined && y !== undefined && y.rps > 0) out.push(round(x.rps / y.rps, 3))
    }
    return out
  }
  const full = perRep('fairgate/full', 'baseline/full')
  const dist = perRep('fairgate/distilled', 'constant/distilled')
  const ceiling = perRep('constant/distilled', 'baseline/full')
  const cpuB = medians['baseline/full']!.cpuMainUs
  const cpuF = medians['fairgate/full']!.cpuMainUs
  return {
    fullThroughputRatio: median(full),
    fullThroughputRatioOfMedians: round(medians['fairgate/full']!.rps / medians['baseline/full']!.rps, 3),
    fullThroughputRatioPerRepeat: full,
    fullP99: { fairgate: medians['fairgate/full']!.p99, baseline: medians['baseline/full']!.p99 },
    distilledPctOfConstant: round(100 * median(dist), 1),
    distilledPctOfConstantOfMedians: round(100 * medians['fairgate/distilled']!.rps / medians['constant/distilled']!.rps, 1),
    distilledPctOfConstantPerRepeat: dist.map(x => round(100 * x, 1)),
    ceilingOverBaselineFull: median(ceiling),
    fullCpuRatio: cpuB !== null && cpuF !== null ? round(cpuB / cpuF, 3) : null
  }
}

/** Offered rates: geometric steps from a quarter of the baseline's capacity to fairgate's. */
export function deriveRates (baselineRps: number, fairgateRps: number, steps = 6): number[] {
  const lo = Math.max(50, baselineRps * 0.25)
  const hi = Math.max(lo * 2, fairgateRps * 0.95)
  const out: number[] = []
  for (let i = 0; i < steps; i++) out.push(Math.round(lo * (hi / lo) ** (i / (steps - 1)) / 50) * 50)
  return [...new Set(out)]
}

async function runOpen (o: BenchOptions, s: Servers, rows: EvalRow[], rates: number[]): Promise<OpenSummary> {
  const bodies = rows.map(r => bodyOf(r, { variant: 'full' }))
  const points: OpenPoint[] = []
  const skipped: OpenSummary['skipped'] = []
  const saturated = new Set<ServerName>()
  for (const [k, rate] of rates.entries()) {
    const order: ServerName[] = k % 2 === 0 ? ['fairgate', 'baseline'] : ['baseline', 'fairgate']
    for (const server of order) {
      if (saturated.has(server)) { skipped.push({ server, rate, why: 'saturated at a lower rate' }); continue }
      const r = await openLoop({ url: s[server].url, rate, seconds: o.openSeconds, connections: o.connections, drainMs: 3000, request: i => ({ body: bodies[i % bodies.length]! }) })
      points.push({ ...r, server, variant: 'full' })
      o.log(`open    ${server.padEnd(8)} offered ${String(rate).padStart(6)}/s  achieved ${r.achieved.toFixed(0).padStart(6)}/s  p50 ${fmtMs(r.p50)}  p99 ${fmtMs(r.p99)}  p99.9 ${fmtMs(r.p999)}  non2xx ${r.non2xx} err ${r.errors} timeouts ${r.timeouts}  (client send lag p99 ${r.sendLagP99.toFixed(1)} ms)`)
      // Past saturation the queue only grows: stop offering more to this server.
      if (r.timeouts > 0 || r.achieved < 0.9 * rate || r.p99 > 2000) saturated.add(server)
    }
  }
  return { rates, points, skipped }
}

export const fmtMs = (x: number): string => !Number.isFinite(x) ? '∞' : x >= 100 ? `${x.toFixed(0)} ms` : `${x.toFixed(1)} ms`

async function runMixed (o: BenchOptions, s: Servers, rows: EvalRow[], rate: number): Promise<MixedSummary> {
  // tag 1: latency_budget_ms 20; tag 0: no budget. Not pinned: the router chooses the variant.
  const bodies = [rows.map(r => bodyOf(r)), rows.map(r => bodyOf(r, { latency_budget_ms: 20 }))]
  const perBudget: MixedSummary['perBudget'] = {}
  const key = (tag: number): string => tag === 1 ? '20ms' : 'none'
  for (const tag of [0, 1]) perBudget[key(tag)] = { n: 0, ok: 0, p50: NaN, p99: NaN, status: {}, variants: {} }
  const result = await openLoop({
    url: s.fairgate.url,
    rate,
    seconds: o.mixedSeconds,
    connections: o.connections,
    drainMs: 3000,
    request: i => ({ body: bodies[i % 2]![(i >> 1) % rows.length]!, tag: i % 2 }),
    onResponse: (_i, tag, status, body) => {
      const b = perBudget[key(tag)]!
      b.status[status] = (b.status[status] ?? 0) + 1
      if (status === 200) {
        try {
          const v = (JSON.parse(body) as { variant?: string }).variant ?? '?'
          b.variants[v] = (b.variants[v] ?? 0) + 1
        } catch {}
      }
    }
  })
  for (const tag of [0, 1]) {
    const t = result.byTag[String(tag)]
    const b = perBudget[key(tag)]!
    if (t !== undefined) { b.n = t.n; b.ok = t.ok; b.p50 = t.p50; b.p99 = t.p99 }
    o.log(`mixed   budget ${key(tag).padEnd(5)} n ${b.n}  ok ${b.ok}  p50 ${fmtMs(b.p50)}  p99 ${fmtMs(b.p99)}  status ${JSON.stringify(b.status)}  variants ${JSON.stringify(b.variants)}`)
  }
  return { rate, seconds: o.mixedSeconds, result, perBudget }
}

interface FairnessBody { models: Array<{ model: string, variants: Record<string, { n: number, attributes: Record<string, { groups: Record<string, { n: number, selection_rate: number }>, gaps: { demographic_parity_difference: number | null, demographic_parity_difference_ci: { lo?: number, hi?: number, lower?: number, upper?: number } | [number, number] | null } }> }> }> }

/** The `sex` rates of the busiest variant in a GET /v1/fairness answer. */
function sexRates (body: FairnessBody | null): (GroupRates & { dpdLo: number | null, dpdHi: number | null }) | null {
  const m = body?.models.find(x => x.model === MODEL)
  if (m === undefined) return null
  const v = Object.values(m.variants).sort((a, b) => b.n - a.n)[0]
  const sex = v?.attributes.sex
  if (sex === undefined) return null
  const f = sex.groups.Female
  const male = sex.groups.Male
  const ci = sex.gaps.demographic_parity_difference_ci
  let lo: number | null = null
  let hi: number | null = null
  if (Array.isArray(ci)) { lo = ci[0]; hi = ci[1] } else if (ci !== null && ci !== undefined) { lo = ci.lo ?? ci.lower ?? null; hi = ci.hi ?? ci.upper ?? null }
  return {
    Female: f?.selection_rate ?? null,
    Male: male?.selection_rate ?? null,
    gap: sex.gaps.demographic_parity_difference,
    nFemale: f?.n ?? 0,
    nMale: male?.n ?? 0,
    dpdLo: lo,
    dpdHi: hi
  }
}

async function fairness (url: string, windowS: number): Promise<FairnessBody | null> {
  try {
    const r = await fetch(`${url}/v1/fairness?model=${MODEL}&window=${Math.max(1, Math.floor(windowS))}s`)
    if (r.status !== 200) { await r.body?.cancel(); return null }
    return await r.json() as FairnessBody
  } catch {
    return null
  }
}

async function runReplay (o: BenchOptions, rows: EvalRow[]): Promise<ReplaySummary> {
  // High-scoring Female records for the drift, scored offline with the full variant.
  const hand = await loadHandModel('models/income', ['full'])
  const female = rows.filter(r => r.group.sex === 'Female')
  const scores = await scoreRecords(hand, 'full', female.map(r => r.features))
  let pool = female.filter((_r, i) => scores[i]! >= 0.8)
  if (pool.length < 20) pool = female.map((r, i) => ({ r, s: scores[i]! })).sort((a, b) => b.s - a.s).slice(0, 200).map(x => x.r)
  for (const s of hand.sessions.values()) await s.release()

  // A fresh gateway: an empty monitor, and 1 s buckets so phase windows line up with the drift.
  const gw = await startGatewayProcess({ FAIRGATE_MONITOR_BUCKET_MS: '1000', FAIRGATE_MONITOR_WINDOW_MS: '300000' }, o.gatewayNodeArgs)
  try {
    const injectAt = o.driftAt === null ? Infinity : Math.round(o.driftAt * o.replayRate)
    const normal = rows.map(r => bodyOf(r))
    const drifted = rows.map((r, i) => r.group.sex === 'Female' ? bodyOf({ ...pool[i % pool.length]!, group: r.group }) : normal[i]!)
    const counts = [[0, 0, 0, 0], [0, 0, 0, 0]] // [phase][femaleN, femalePos, maleN, malePos]
    const initialActive = await activeVariant(gw.url, MODEL)
    const timeline: ReplaySummary['timeline'] = []
    let before: GroupRates | null = null
    let beforeCi: [number | null, number | null] = [null, null]
    let injectedWall = Infinity
    let action: PolicyAction | null = null
    let detectSeconds: number | null = null
    const t0 = Date.now()
    let polling = true
    const poller = (async () => {
      while (polling) {
        await new Promise(resolve => setTimeout(resolve, 1000))
        if (!polling) break
        const t = (Date.now() - t0) / 1000
        if (before === null && o.driftAt !== null && t >= o.driftAt - 0.5) {
          // The pre-drift snapshot: the whole phase so far.
          const b = sexRates(await fairness(gw.url, o.driftAt))
          if (b !== null) { before = b; beforeCi = [b.dpdLo, b.dpdHi] }
        }
        const w = sexRates(await fairness(gw.url, 5))
        timeline.push({ t: round(t, 1), Female: w?.Female ?? null, Male: w?.Male ?? null, dpd: w?.gap ?? null, dpdLo: w?.dpdLo ?? null, dpdHi: w?.dpdHi ?? null })
        if (detectSeconds === null && Number.isFinite(injectedWall) && w?.dpdLo != null && beforeCi[1] !== null && w.dpdLo > beforeCi[1]) detectSeconds = round((Date.now() - injectedWall) / 1000, 1)
        if (action === null && Number.isFinite(injectedWall)) action = await probePolicyAction(gw.url, MODEL, injectedWall, initialActive)
      }
    })()
    const result = await openLoop({
      url: gw.url,
      rate: o.replayRate,
      seconds: o.replaySeconds,
      connections: o.connections,
      drainMs: 3000,
      request: i => {
        if (i === injectAt) injectedWall = Date.now()
        const k = i % rows.length
        return { body: i >= injectAt ? drifted[k]! : normal[k]!, tag: i >= injectAt ? 1 : 0 }
      },
      onResponse: (i, tag, status, body) => {
        if (status !== 200) return
        const sex = rows[i % rows.length]!.group.sex
        const c = counts[tag]!
        const d = (JSON.parse(body) as { decision: number }).decision
        if (sex === 'Female') { c[0]!++; c[1]! += d } else if (sex === 'Male') { c[2]!++; c[3]! += d }
      }
    })
    polling = false
    await poller
    const postSeconds = o.driftAt === null ? o.replaySeconds : o.replaySeconds - o.driftAt
    const after = sexRates(await fairness(gw.url, Math.max(1, postSeconds - 1)))
    const ratesOf = (c: number[]): GroupRates => {
      const f = c[0]! > 0 ? c[1]! / c[0]! : null
      const m = c[2]! > 0 ? c[3]! / c[2]! : null
      return { Female: f, Male: m, gap: f !== null && m !== null ? Math.abs(f - m) : null, nFemale: c[0]!, nMale: c[2]! }
    }
    const strip = (x: (GroupRates & { dpdLo: number | null, dpdHi: number | null }) | null): GroupRates | null => x === null ? null : { Female: x.Female, Male: x.Male, gap: x.gap, nFemale: x.nFemale, nMale: x.nMale }
    const summary: ReplaySummary = {
      rate: o.replayRate,
      seconds: o.replaySeconds,
      driftAt: o.driftAt,
      driftPoolSize: pool.length,
      result,
      before: { monitor: strip(before), answers: ratesOf(counts[0]!) },
      after: { monitor: o.driftAt === null ? null : strip(after), answers: ratesOf(counts[1]!) },
      timeline,
      detectSeconds,
      timeToActionSeconds: action === null ? null : round(((action as PolicyAction).ts - injectedWall) / 1000, 1),
      action
    }
    const fr = (g: GroupRates | null): string => g === null ? 'n/a' : `Female ${pct(g.Female)} (n ${g.nFemale})  Male ${pct(g.Male)} (n ${g.nMale})  gap ${g.gap === null ? '-' : g.gap.toFixed(3)}`
    o.log(`replay  ${o.replayRate}/s for ${o.replaySeconds}s, drift at ${o.driftAt ?? 'none'} s (pool of ${pool.length} high-scoring Female records); p99 ${fmtMs(result.p99)} non2xx ${result.non2xx}`)
    o.log(`replay  before: monitor ${fr(summary.before.monitor)} | answers ${fr(summary.before.answers)}`)
    o.log(`replay  after : monitor ${fr(summary.after.monitor)} | answers ${fr(summary.after.answers)}`)
    o.log(`replay  monitor shows the gap (5 s window) after ${summary.detectSeconds ?? 'n/a'} s; time to action: ${summary.timeToActionSeconds ?? 'n/a (no policy action seen)'}`)
    return summary
  } finally {
    await gw.stop()
  }
}

export const pct = (x: number | null): string => x === null ? '-' : `${(100 * x).toFixed(1)}%`

async function runSoak (o: BenchOptions, rows: EvalRow[]): Promise<SoakSummary> {
  // The shipped policy (policies/income.yaml) decides; requests are not pinned, so any action
  // would change what serves them. eval.jsonl in order, with its group labels, no drift.
  const gw = await startGatewayProcess({}, o.gatewayNodeArgs)
  try {
    const bodies = rows.map(r => bodyOf(r))
    const firstCheck = Math.min(60, o.soakSeconds / 10)
    const secondCheck = Math.min(300, o.soakSeconds / 2)
    const samples: SoakSummary['samples'] = []
    const startedWall = Date.now()
    const evaluations0 = await policyEvaluations(gw.url, MODEL)
    let rssAt60: number | null = null
    let rssAt300: number | null = null
    const heap = async (): Promise<[number | null, number | null]> => {
      try {
        const text = await (await fetch(`${gw.url}/metrics`)).text()
        const get = (name: string): number | null => { const m = new RegExp(`^${name} (\\S+)`, 'm').exec(text); return m === null ? null : round(Number(m[1]) / 1048576, 1) }
        return [get('nodejs_heap_size_used_bytes'), get('nodejs_heap_size_total_bytes')]
      } catch {
        return [null, null]
      }
    }
    const timer = setInterval(() => {
      const t = (Date.now() - startedWall) / 1000
      const rss = rssMiB(gw.child.pid)
      if (rssAt60 === null && t >= firstCheck) { rssAt60 = rss; o.log(`soak    RSS at ${t.toFixed(0)} s: ${rss?.toFixed(1)} MiB`) }
      if (rssAt300 === null && t >= secondCheck) { rssAt300 = rss; o.log(`soak    RSS at ${t.toFixed(0)} s: ${rss?.toFixed(1)} MiB`) }
      void heap().then(([used, total]) => { samples.push({ t: round(t, 0), rssMiB: rss === null ? null : round(rss, 1), heapUsedMiB: used, heapTotalMiB: total }) })
    }, 2000)
    const result = await openLoop({
      url: gw.url,
      rate: o.soakRate,
      seconds: o.soakSeconds,
      connections: o.connections,
      drainMs: 3000,
      request: i => ({ body: bodies[i % bodies.length]! })
    })
    clearInterval(timer)
    const rssEnd = rssMiB(gw.child.pid)
    const actions = await policyActions(gw.url, MODEL, startedWall)
    const evaluations1 = await policyEvaluations(gw.url, MODEL)
    const growth = rssAt60 !== null && rssAt300 !== null ? round(100 * (rssAt300 - rssAt60) / rssAt60, 1) : null
    const span = Math.min(60, o.soakSeconds / 10)
    const stat = (from: number, to: number, key: 'rssMiB' | 'heapUsedMiB', f: 'mean' | 'max'): number | null => {
      const xs = samples.filter(x => x.t >= from && x.t <= to).map(x => x[key]).filter((x): x is number => x !== null)
      if (xs.length === 0) return null
      return round(f === 'max' ? Math.max(...xs) : xs.reduce((a, b) => a + b, 0) / xs.length, 1)
    }
    const summary: SoakSummary = {
      seconds: o.soakSeconds,
      rate: o.soakRate,
      result,
      samples,
      firstCheck,
      secondCheck,
      rssAt60: rssAt60 === null ? null : round(rssAt60, 1),
      rssAt300: rssAt300 === null ? null : round(rssAt300, 1),
      rssEnd: rssEnd === null ? null : round(rssEnd, 1),
      growthPct: growth,
      rssMeanFirst: stat(firstCheck - span, firstCheck, 'rssMiB', 'mean'),
      rssMeanLast: stat(secondCheck - span, secondCheck, 'rssMiB', 'mean'),
      rssMaxFirst: stat(firstCheck - span, firstCheck, 'rssMiB', 'max'),
      rssMaxLast: stat(secondCheck - span, secondCheck, 'rssMiB', 'max'),
      heapUsedMeanFirst: stat(firstCheck - span, firstCheck, 'heapUsedMiB', 'mean'),
      heapUsedMeanLast: stat(secondCheck - span, secondCheck, 'heapUsedMiB', 'mean'),
      evaluations: evaluations0 !== null && evaluations1 !== null ? evaluations1 - evaluations0 : null,
      actions
    }
    o.log(`soak    stable replay ${o.soakSeconds}s at ${o.soakRate}/s: achieved ${result.achieved.toFixed(0)}/s, p99 ${fmtMs(result.p99)}, non2xx ${result.non2xx}, timeouts ${result.timeouts}; RSS ${summary.rssAt60} MiB at ${firstCheck} s, ${summary.rssAt300} MiB at ${secondCheck} s (${growth}%), ${summary.rssEnd} MiB at the end; policy evaluations ${summary.evaluations ?? '-'}, automatic actions ${actions === null ? 'n/a' : actions.length}`)
    return summary
  } finally {
    await gw.stop()
  }
}

async function runKafka (o: BenchOptions, rows: EvalRow[]): Promise<KafkaSummary | { skipped: string }> {
  try {
    return await runKafkaOnOff({
      variants: ['full'],
      seconds: o.kafkaSeconds,
      repeats: o.kafkaRepeats,
      warmupSeconds: Math.min(2, o.warmupSeconds),
      connections: o.connections,
      brokerWarmupSeconds: o.kafkaBrokerWarmupSeconds,
      brokers: process.env.KAFKA_BROKERS,
      gatewayEnv: {},
      rows,
      log: o.log
    })
  } catch (err) {
    // The other scenarios' figures stand without a broker; say why this one is missing.
    const why = (err as Error).message.split('\n')[0] ?? String(err)
    o.log(`kafka   skipped: ${why}`)
    return { skipped: why }
  }
}

/** Writes <outDir>/<name>.json, .md and .svg (with the open loop). */
export function writeResults (results: BenchResults, outDir: string, name: string): void {
  mkdirSync(outDir, { recursive: true })
  writeFileSync(join(outDir, `${name}.json`), JSON.stringify(results, (_k, v: unknown) => typeof v === 'number' && !Number.isFinite(v) ? null : v, 2) + '\n')
  const svgName = `${name}.svg`
  const svg = results.open !== undefined ? renderSvg(results.open) : null
  if (svg !== null) writeFileSync(join(outDir, svgName), svg)
  writeFileSync(join(outDir, `${name}.md`), renderMarkdown(results, svg !== null ? svgName : null))
}

/** Re-renders a saved <name>.json (figures recomputed from its runs) into .md/.svg. */
export function rerender (file: string): BenchResults {
  const r = JSON.parse(readFileSync(file, 'utf8')) as BenchResults
  if (r.closed !== undefined) r.closed.acceptance = closedAcceptance(r.closed.runs, r.closed.medians, r.meta.options.repeats)
  for (const p of r.open?.points ?? []) for (const k of ['p50', 'p90', 'p99', 'p999', 'max'] as const) if (p[k] === null) p[k] = Infinity
  writeResults(r, dirname(file), basename(file, '.json'))
  return r
}

/** Runs the chosen scenarios, writes <outDir>/<name>.json/.md(/.svg) and returns the results. */
export async function runBench (o: BenchOptions): Promise<BenchResults> {
  const started = Date.now()
  const { log, ...options } = o
  const results: BenchResults = {
    meta: { date: new Date().toISOString(), node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '', loadavgStart: loadavg().map(x => round(x, 2)), loadavgEnd: [], command: o.command, options, durationSeconds: 0 }
  }
  const rows = evalRows()
  const sample = rows.slice(0, 2000)
  const want = new Set(o.scenarios)
  if (want.has('closed') || want.has('open') || want.has('mixed')) {
    const s = await startServers(o)
    try {
      if (want.has('closed')) results.closed = await runClosed(o, s, sample)
      if (want.has('open')) {
        let rates = o.rates
        if (rates === null) {
          const m = results.closed?.medians
          rates = m !== undefined ? deriveRates(m['baseline/full']!.rps, m['fairgate/full']!.rps) : [500, 1000, 2000, 3000, 4000]
        }
        results.open = await runOpen(o, s, sample, rates)
      }
      if (want.has('mixed')) {
        const cap = results.closed?.medians['fairgate/full']?.rps
        results.mixed = await runMixed(o, s, sample, o.mixedRate ?? (cap !== undefined ? Math.round(cap * 0.4 / 50) * 50 : 1500))
      }
    } finally {
      await Promise.all([s.fairgate.stop(), s.baseline.stop(), s.constant.stop()])
    }
  }
  if (want.has('replay')) results.replay = await runReplay(o, rows)
  if (want.has('kafka')) results.kafka = await runKafka(o, sample)
  if (want.has('soak')) results.soak = await runSoak(o, rows)
  results.meta.loadavgEnd = loadavg().map(x => round(x, 2))
  results.meta.durationSeconds = round((Date.now() - started) / 1000, 0)

  writeResults(results, o.outDir, o.name)
  log('\n' + renderTable(results))
  return results
}
