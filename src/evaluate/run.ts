// fairgate evaluate, without HTTP: the model's variants loaded by the gateway's registry (its
// encoder, sessions, inference threads and decision rules), the data scored through them, and
// every measure the report holds. Returns the report and the per-row numbers tests compare.
import { existsSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import type { Config } from '../config/index.js'
import { FG_ERR_EVALUATE_ARGS, FG_ERR_POLICY_DIR } from '../errors.js'
import { ModelRegistry, ModelRuntime, type Logger, type VariantRuntime } from '../models/index.js'
import { readPolicies, type ModelFacts, type OfflineBudgets, type Policy } from '../policy/index.js'
import { checkBudgets, type Breach } from './budgets.js'
import { readDataset, type Dataset } from './dataset.js'
import { DEFAULT_WEIGHTS, OBJECTIVES, choose, frontier, parseWeights, sensitivity, type Choice, type Point, type Sensitivity, type Weights } from './frontier.js'
import { groupTables, type AttributeTable } from './groups.js'
import { FRONTIER_BATCH, modelBytes, sessionMemory, timeBatches, type Cost, type LatencyOptions } from './latency.js'
import { evenPicks, membership, side, type Membership } from './membership.js'
import { quality, type Quality } from './quality.js'
import { decide, scoreAll } from './score.js'

export interface EvaluateOptions {
  config: Config
  log: Logger
  model?: string | undefined
  data?: string | undefined
  trainSample?: string | undefined
  /** "accuracy=1,latency=0.5,…" (wins over the policy's offline.weights). */
  weights?: string | undefined
  latency: LatencyOptions
  /** Called as work gets done: a stage name and the share of the whole run done (0..1). */
  progress?: (stage: string, done: number) => void
}

/** The gap metrics the frontier's gap objective takes the largest of. */
export const GAP_METRICS = ['demographic_parity_difference', 'equalized_odds_difference'] as const

export interface VariantResult {
  file: string
  /** Another variant of the same file whose session (and so scores, cost and losses) it shares. */
  shares: string | null
  decision: unknown
  quality: Quality
  attributes: Record<string, AttributeTable>
  cost: Cost
  privacy: Membership | null
  objectives: Record<typeof OBJECTIVES[number], number | null>
  on_frontier: boolean
  score: number
}

export interface Report {
  model: string
  generated_at: string
  data: { file: string, rows: number, labelled: number }
  train_sample: { file: string, rows: number } | null
  runtime: { execution_provider: string, inference_threads: number, intra_op_threads: number, inter_op_threads: number, inline_max_ms: number, max_batch_size: number }
  monitor: { min_samples: number, min_labelled: number, report_min: number, confidence: number, intersections: string[][] }
  policy: string | null
  gap_attributes: string[]
  gap_metrics: readonly string[]
  weights: Weights
  weights_from: 'flag' | 'policy' | 'default'
  variants: Record<string, VariantResult>
  failed: Record<string, string>
  frontier: string[]
  choice: Choice
  sensitivity: Sensitivity
  suggested_variants: string[]
  budgets: OfflineBudgets | null
  breaches: Breach[]
}

export interface Evaluation {
  report: Report
  /** Per variant: scores of the data rows, their decisions, and the attack's losses (members, non-members). */
  rows: Map<string, { scores: Float32Array, decisions: Uint8Array, members: Float64Array | null, nonmembers: Float64Array | null }>
}

/** A path as the report shows it: relative to where evaluate ran, when it is below it. */
const shown = (file: string): string => { const r = relative(process.cwd(), file); return r.startsWith('..') || r === '' ? file : r }

function pickModel (config: Config, log: Logger, name: string | undefined): { model: ModelRuntime, all: ModelRuntime[] } {
  const found = new ModelRegistry(config.models, config.batching.max_batch_size, log)
  found.discover()
  if (found.models.length === 0) throw FG_ERR_EVALUATE_ARGS('--model', `no model under ${resolve(config.models.dir)}`)
  if (name === undefined && found.models.length > 1) throw FG_ERR_EVALUATE_ARGS('--model', `required with several models (${found.models.map(m => m.name).join(', ')})`)
  const m = name === undefined ? found.models[0]! : found.find(name)
  if (m === undefined) throw FG_ERR_EVALUATE_ARGS('--model', `unknown model "${name}" (${found.models.map(x => x.name).join(', ')})`)
  return { model: new ModelRuntime(m.manifest, m.dir, config.batching.max_batch_size), all: found.models }
}

function policyOf (config: Config, models: ModelRuntime[], name: string): Policy | null {
  const facts = new Map<string, ModelFacts>(models.map(m => [m.name, { variants: m.variants.map(v => v.name), attributes: Object.keys(m.manifest.groups) }]))
  try {
    return readPolicies(config.policy.dir, facts).get(name) ?? null
  } catch (err) {
    // No policy directory: nothing to check against, still a report.
    if ((err as { code?: string }).code === FG_ERR_POLICY_DIR.code) return null
    throw err
  }
}

function labelledIndex (ds: Dataset): number[] {
  const out: number[] = []
  for (let r = 0; r < ds.rows; r++) if (ds.labels[r]! >= 0) out.push(r)
  return out
}

export async function evaluate (opt: EvaluateOptions): Promise<Evaluation> {
  const { config, log } = opt
  const progress = opt.progress ?? (() => {})
  progress('reading manifests and policy', 0)
  const { model, all } = pickModel(config, log, opt.model)
  const policy = policyOf(config, all, model.name)
  let weights: Weights = { ...DEFAULT_WEIGHTS, ...(policy?.offline?.weights ?? {}) }
  const weightsFrom = opt.weights !== undefined ? 'flag' : policy?.offline?.weights !== undefined ? 'policy' : 'default'
  if (opt.weights !== undefined) {
    const w = parseWeights(opt.weights, weights)
    if (typeof w === 'string') throw FG_ERR_EVALUATE_ARGS('--weights', w)
    weights = w
  }
  const dataFile = resolve(opt.data ?? join(model.dir, 'eval.jsonl'))
  if (!existsSync(dataFile)) throw FG_ERR_EVALUATE_ARGS('--data', `${dataFile} does not exist`)
  const sampleName = opt.trainSample ?? (model.manifest.train_sample === undefined ? undefined : join(model.dir, model.manifest.train_sample))
  const sampleFile = sampleName === undefined ? null : resolve(sampleName)
  if (sampleFile !== null && !existsSync(sampleFile)) throw FG_ERR_EVALUATE_ARGS(opt.trainSample !== undefined ? '--train-sample' : 'train_sample (model.yaml)', `${sampleFile} does not exist`)
  const ds = readDataset(dataFile, model)
  const train = sampleFile === null ? null : readDataset(sampleFile, model)
  const owners = model.variants.filter(v => v.owner === null)

  // Memory first, one session at a time, before the registry's sessions fill the process.
  const memory = new Map<VariantRuntime, number>()
  for (const v of owners) {
    progress(`session memory ${v.name}`, 0.02)
    memory.set(v, await sessionMemory(v, config.models, log).catch(() => 0))
  }
  progress('loading the variants', 0.05)
  const registry = new ModelRegistry(config.models, config.batching.max_batch_size, log)
  registry.add(model)
  try {
    await registry.load()
    const failed: Record<string, string> = {}
    for (const v of model.variants) if (v.state !== 'ready') failed[v.name] = v.error ?? v.state
    const ready = model.variants.filter(v => v.state === 'ready')
    if (ready.length === 0) throw FG_ERR_EVALUATE_ARGS('--model', `no variant of ${model.name} loaded (${Object.entries(failed).map(([k, e]) => `${k}: ${e}`).join('; ')})`)
    const readyOwners = owners.filter(v => v.state === 'ready')

    // Scores, once per file: a decision-rule variant reads its owner's.
    const batch = config.batching.max_batch_size
    const dataScores = new Map<VariantRuntime, Float32Array>()
    const trainScores = new Map<VariantRuntime, Float32Array>()
    for (const [i, v] of readyOwners.entries()) {
      progress(`scoring ${v.name}`, 0.08 + 0.2 * i / readyOwners.length)
      dataScores.set(v, await scoreAll(v, ds, batch))
      if (train !== null) trainScores.set(v, await scoreAll(v, train, batch))
    }
    const own = (v: VariantRuntime): VariantRuntime => v.owner ?? v
    const scores = new Map<string, Float32Array>()
    const decisions = new Map<string, Uint8Array>()
    for (const v of ready) {
      const s = dataScores.get(own(v))!
      scores.set(v.name, s)
      decisions.set(v.name, decide(v, ds, s))
    }

    progress('per-group rates and gaps', 0.3)
    const tables = groupTables(model, ready.map(v => v.name), ds, scores, decisions, config.monitor)

    progress('membership inference', 0.35)
    const privacy = new Map<VariantRuntime, { m: Membership, members: Float64Array, nonmembers: Float64Array }>()
    if (train !== null) {
      const inTrain = labelledIndex(train)
      const heldOut = labelledIndex(ds)
      const m = Math.min(inTrain.length, heldOut.length)
      const pickT = Array.from(evenPicks(inTrain.length, m), i => inTrain[i]!)
      const pickD = Array.from(evenPicks(heldOut.length, m), i => heldOut[i]!)
      for (const v of readyOwners) {
        const members = side(trainScores.get(v)!, train.labels, train.groups, train.attrs, pickT)
        const nonmembers = side(dataScores.get(v)!, ds.labels, ds.groups, ds.attrs, pickD)
        privacy.set(v, { m: membership(members, nonmembers, model.groups, config.monitor.report_min), members: members.losses, nonmembers: nonmembers.losses })
      }
    }

    const cost = new Map<VariantRuntime, Cost>()
    const totalRuns = readyOwners.length * 4 * Math.max(1, opt.latency.repeats)
    let runs = 0
    for (const v of readyOwners) {
      const latency = await timeBatches(v, ds, opt.latency, () => { runs++; progress(`latency ${v.name}`, 0.4 + 0.55 * Math.min(1, runs / totalRuns)) })
      cost.set(v, { model_bytes: modelBytes(v), session_memory_bytes: memory.get(v) ?? 0, latency })
    }

    progress('frontier and report', 0.96)
    const gapAttributes = policy !== null && policy.fairness.length > 0 ? [...new Set(policy.fairness.map(r => r.attribute))] : Object.keys(tables.get(ready[0]!.name) ?? {})
    const gapOf = (name: string, metric: string): number | null => {
      let worst: number | null = null
      for (const a of gapAttributes) {
        const g = tables.get(name)?.[a]?.gaps as Record<string, unknown> | undefined
        const x = g?.[metric]
        if (typeof x === 'number' && (worst === null || x > worst)) worst = x
      }
      return worst
    }
    const variants: Record<string, VariantResult> = {}
    const points: Point[] = []
    for (const v of ready) {
      const o = own(v)
      const q = quality(scores.get(v.name)!, decisions.get(v.name)!, ds.labels)
      const c = cost.get(o)!
      const gaps = GAP_METRICS.map(m => gapOf(v.name, m)).filter((x): x is number => x !== null)
      const objectives = {
        accuracy: q.accuracy,
        latency: c.latency.find(l => l.rows === FRONTIER_BATCH)?.median_ms ?? null,
        gap: gaps.length === 0 ? null : Math.max(...gaps),
        privacy: privacy.get(o)?.m.advantage ?? null
      }
      points.push({ name: v.name, values: objectives })
      variants[v.name] = { file: v.spec.file, shares: v.owner?.name ?? null, decision: v.spec.decision ?? { threshold: model.manifest.threshold }, quality: q, attributes: tables.get(v.name)!, cost: c, privacy: privacy.get(o)?.m ?? null, objectives, on_frontier: false, score: 0 }
    }
    const front = frontier(points)
    const choice = choose(points, weights)
    for (const p of points) { variants[p.name]!.on_frontier = front.has(p.name); variants[p.name]!.score = choice.scores[p.name]! }
    // Frontier variants first, each group by weighted score: a starting order for the policy's `variants:`.
    const suggested = [...points].sort((a, b) => Number(front.has(b.name)) - Number(front.has(a.name)) || choice.scores[b.name]! - choice.scores[a.name]!).map(p => p.name)

    const budgets = policy?.offline ?? null
    const breaches: Breach[] = []
    if (budgets !== null && policy !== null) {
      for (const name of policy.variants) {
        const r = variants[name]
        if (r === undefined) {
          breaches.push({ variant: name, budget: 'load', limit: 0, value: null, message: `${model.name}/${name} did not load: ${failed[name] ?? 'unknown'}` })
          continue
        }
        const gaps: Record<string, number | null> = {}
        for (const metric of Object.keys(budgets.max_gap ?? {})) gaps[metric] = gapOf(name, metric)
        breaches.push(...checkBudgets(model.name, name, { accuracy: r.quality.accuracy, latencyMs: r.objectives.latency, gaps, advantage: r.objectives.privacy }, budgets))
      }
    }
    const c = config
    const report: Report = {
      model: model.name,
      generated_at: new Date().toISOString(),
      data: { file: shown(dataFile), rows: ds.rows, labelled: labelledIndex(ds).length },
      train_sample: train === null ? null : { file: shown(sampleFile!), rows: train.rows },
      runtime: { execution_provider: c.models.execution_provider, inference_threads: c.models.inference_threads, intra_op_threads: c.models.intra_op_threads, inter_op_threads: c.models.inter_op_threads, inline_max_ms: c.models.inline_max_ms, max_batch_size: c.batching.max_batch_size },
      monitor: { min_samples: c.monitor.min_samples, min_labelled: c.monitor.min_labelled, report_min: c.monitor.report_min, confidence: c.monitor.confidence, intersections: c.monitor.intersections },
      policy: policy === null ? null : policy.model,
      gap_attributes: gapAttributes,
      gap_metrics: GAP_METRICS,
      weights,
      weights_from: weightsFrom,
      variants,
      failed,
      frontier: points.filter(p => front.has(p.name)).map(p => p.name),
      choice,
      sensitivity: sensitivity(points, weights),
      suggested_variants: suggested,
      budgets,
      breaches
    }
    const rows: Evaluation['rows'] = new Map()
    for (const v of ready) {
      const pv = privacy.get(own(v))
      rows.set(v.name, { scores: scores.get(v.name)!, decisions: decisions.get(v.name)!, members: pv?.members ?? null, nonmembers: pv?.nonmembers ?? null })
    }
    progress('done', 1)
    return { report, rows }
  } finally {
    await registry.close()
  }
}
