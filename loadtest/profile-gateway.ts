// tsx loadtest/profile-gateway.ts — where the gateway's main thread spends its time under the
// bench's closed-loop load: runs `fairgate serve` with --cpu-prof, 64 connections of
// requests of PROFILE_ROWS rows (default 1) for PROFILE_SECONDS (default 10) on PROFILE_VARIANT (default full),
// stops it (SIGTERM writes the profile) and prints self time by function and by area.
//   PROFILE_DIR (default /tmp/fairgate-prof) keeps the .cpuprofile for Chrome DevTools.
//   PROFILE_ENV adds FAIRGATE_* variables to the gateway (a JSON object), e.g. Kafka on:
//   node scripts/kafka-broker.mjs run -- sh -c 'PROFILE_ENV="{\"FAIRGATE_KAFKA_BROKERS\":\"$KAFKA_BROKERS\"}" tsx loadtest/profile-gateway.ts'
import { mkdirSync, rmSync } from 'node:fs'
import { closedLoop, evalRows, gatewayEnv, startGatewayProcess } from './lib/harness.js'
import { printProfile } from './lib/cpu-profile.js'

const SECONDS = Number(process.env.PROFILE_SECONDS ?? 10)
const VARIANT = process.env.PROFILE_VARIANT ?? 'full'
const DIR = process.env.PROFILE_DIR ?? '/tmp/fairgate-prof'
rmSync(DIR, { recursive: true, force: true })
mkdirSync(DIR, { recursive: true })

const ROWS = Number(process.env.PROFILE_ROWS ?? 1)
const rows = evalRows(2000)
const bodies = ROWS <= 1
  ? rows.map(r => JSON.stringify({ model: 'income', features: r.features, group: r.group, variant: VARIANT }))
  : rows.map((_r, i) => { const part = rows.slice(i, i + ROWS); return JSON.stringify({ model: 'income', instances: part.map(r => r.features), groups: part.map(r => r.group), variant: VARIANT }) }).slice(0, rows.length - ROWS)
const gw = await startGatewayProcess(gatewayEnv('PROFILE_ENV'), ['--cpu-prof', `--cpu-prof-dir=${DIR}`])
const warm = await closedLoop(gw.url, bodies, 64, 3) // warm-up (sampled too)
const res = await closedLoop(gw.url, bodies, 64, SECONDS)
await gw.stop()
console.log(`variant ${VARIANT}: ${res.rps.toFixed(0)} req/s, p99 ${res.p99} ms under the profiler`)

const requests = warm.total + res.total
printProfile(DIR, requests, 30)
