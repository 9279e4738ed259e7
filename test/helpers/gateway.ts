// Builds a real gateway on the bundled models (real onnxruntime sessions) for inject() tests.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { validateConfig, type ConfigInput } from '../../src/config/index.js'
import type { Clock } from '../../src/clock.js'
import { createGateway, type Gateway } from '../../src/gateway.js'
import type { PredictionSink } from '../../src/events/index.js'
import { buildServer } from '../../src/http/index.js'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const MODELS_DIR = join(ROOT, 'models')
export const INCOME_DIR = join(MODELS_DIR, 'income')

export const silentLog = { info () {}, warn () {}, error () {} }

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] }

// inference_threads 0 unless a test asks for threads: each thread starts tsx and every session
// again (two per gateway, most of an inject() test's start-up), and the thread path has tests of its own
// (test/models/inference-pool.test.ts, golden's threads case, strict-loading).
export async function startGateway (overrides: DeepPartial<ConfigInput> = {}, opts: { clock?: Clock, sinks?: PredictionSink[] } = {}): Promise<{ gw: Gateway, app: FastifyInstance }> {
  const config = validateConfig({ ...overrides, models: { dir: MODELS_DIR, warmup_runs: 1, inference_threads: 0, ...overrides.models }, policy: { dir: join(ROOT, 'policies'), ...overrides.policy } })
  const gw = await createGateway(config, { log: silentLog, ...(opts.clock !== undefined ? { clock: opts.clock } : {}), ...(opts.sinks !== undefined ? { sinks: opts.sinks } : {}) })
  const app = buildServer(gw)
  app.addHook('onClose', async () => { await gw.close() })
  await app.ready()
  return { gw, app }
}

export interface EvalRow {
  features: Record<string, unknown>
  group: { sex: string, race: string }
  label: number
}

let evalCache: EvalRow[] | undefined
export function evalRows (): EvalRow[] {
  evalCache ??= readFileSync(join(INCOME_DIR, 'eval.jsonl'), 'utf8').trim().split('\n').map(l => JSON.parse(l) as EvalRow)
  return evalCache
}

export interface Golden {
  rows: number
  encoded: number[][]
  /** Group labels per row (null: sent without labels). */
  groups: Array<Record<string, string> | null>
  /** Probabilities, thresholds and decisions per variant, as models/train.py computed them. */
  variants: Record<string, number[]>
  thresholds: Record<string, number[]>
  decisions: Record<string, number[]>
}
export function golden (): Golden {
  return JSON.parse(readFileSync(join(INCOME_DIR, 'golden.json'), 'utf8')) as Golden
}

/** Parses a Prometheus text exposition into sample → value. */
export function parseMetrics (text: string): Map<string, number> {
  const m = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const i = line.lastIndexOf(' ')
    m.set(line.slice(0, i), Number(line.slice(i + 1)))
  }
  return m
}
