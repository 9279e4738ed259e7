// npm run bench — fairgate against a hand-rolled baseline and the HTTP ceiling: closed loop,
// open loop sweep, mixed latency budgets, replay with drift, Kafka streaming on against off
// (see lib/suite.ts). Needs dist/ (the script builds it first), and for the Kafka scenario Java 17
// and the broker jars (fetched into ~/.cache/fairgate like npm test's; without them that one
// scenario is reported as not run).
//
//   npm run bench                       the suite (~6 min on 2 cores) → loadtest/results/latest.{json,md,svg}
//   npm run bench -- --smoke            every scenario, tiny (< 1 min) → loadtest/results/smoke.*
//   npm run bench -- --soak             5 min of load, fairgate RSS at 1 and 5 min → loadtest/results/soak.*
//   npm run bench -- --only closed,open a subset
//   npm run bench -- --render loadtest/results/latest.json   re-render .md/.svg from saved results
//
// Durations and rates: BENCH_SECONDS, BENCH_REPEATS, BENCH_WARMUP_SECONDS, BENCH_CONNECTIONS,
// BENCH_OPEN_SECONDS, BENCH_RATES (comma list), BENCH_MIXED_SECONDS, BENCH_MIXED_RATE,
// BENCH_REPLAY_SECONDS, BENCH_REPLAY_RATE, BENCH_DRIFT_AT (seconds or "none"),
// BENCH_KAFKA_SECONDS, BENCH_KAFKA_REPEATS, BENCH_BROKER_WARMUP_SECONDS, BENCH_BROKER_JVM,
// KAFKA_BROKERS (use a running broker instead of starting one),
// BENCH_SOAK_SECONDS, BENCH_OUT_DIR, BENCH_NAME, BENCH_GATEWAY_NODE_ARGS (e.g.
// "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the gateway child).
import { parseArgs } from 'node:util'
import { renderTable } from './lib/report.js'
import { optionsFromEnv, rerender, runBench, type Scenario } from './lib/suite.js'

const { values } = parseArgs({ options: { smoke: { type: 'boolean', default: false }, soak: { type: 'boolean', default: false }, only: { type: 'string' }, render: { type: 'string' } } })
if (values.render !== undefined) {
  console.log(renderTable(rerender(values.render)))
  process.exit(0)
}
const o = optionsFromEnv(process.env, values.smoke)
o.command = `npm run bench${values.smoke ? ' -- --smoke' : values.soak ? ' -- --soak' : values.only !== undefined ? ` -- --only ${values.only}` : ''}`
if (values.only !== undefined) o.scenarios = values.only.split(',') as Scenario[]
if (values.soak) {
  o.scenarios = values.smoke ? [...o.scenarios, 'soak'] : ['soak']
  if (!values.smoke && process.env.BENCH_NAME === undefined) o.name = 'soak'
}
await runBench(o)
