// The model registry: every models/*/model.yaml, each variant opened in its own onnxruntime
// session after its sha256 is checked, then warmed up. A variant that fails is reported not
// ready with its reason; its siblings keep serving.
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Config } from '../config/index.js'
import { FG_ERR_MODEL_CHECKSUM, FG_ERR_MODEL_DIR_MISSING, FG_ERR_MODEL_INFERENCE, FG_ERR_MODEL_UNKNOWN, FG_ERR_MODEL_VARIANT_UNKNOWN } from '../errors.js'
import { FeatureEncoder } from './encoder.js'
import { GroupIndex } from './groups.js'
import { readManifest, type Manifest, type VariantSpec } from './manifest.js'
import { InferencePool, SHORT_RUN_MS } from './inference-pool.js'
import { DecisionRule } from './decision-rule.js'
import { expectedMs, INLINE_QUANTILE, learn, newRunCost, SMALL_RUN, type RunCost } from './run-cost.js'
import { HysteresisGate } from './hysteresis-gate.js'
import { systemClock, type Clock } from '../clock.js'
import { openSession, ort, runScores, scoresOf, type Logger, type Provider, type ReadPlan, type SessionIo } from './session.js'

export type VariantState = 'loading' | 'ready' | 'failed'

export class VariantRuntime {
  state: VariantState = 'loading'
  error: string | null = null
  provider: Provider = 'cpu'
  /** A session on this (the HTTP) thread: the only one without a pool; with one, the inline session for small batches. */
  session: ort.InferenceSession | null = null
  /** Set when inference runs on the pool's threads instead of this one. */
  pool: InferencePool | null = null
  /**
   * With a pool and an inline session: a run's cost on this thread (seeded at warm-up, then
   * learned from every run here), and the gate that says whether small batches run here at all.
   */
  readonly inlineCost: RunCost
  readonly inlineGate: HysteresisGate
  /** Batches that failed the inline test but could be probed, to probe one in PROBE_EVERY. */
  private probeCandidates = 0
  /** When the current inline run started (set by `mark` from the check phase, just before onnxruntime's run). */
  private markedAt = 0
  private readonly mark = (): void => { this.markedAt = performance.now() }
  /** The pool's name of the session this variant runs on (the owner's, when it shares a file). */
  readonly key: string
  /** How a score becomes this variant's decision. */
  readonly rule: DecisionRule
  /** How this thread's session's scores are read (set when it opens; checkLayout). */
  plan: ReadPlan = { cols: 1, column: 0 }
  /** Rows per run: the manifest's max_batch_size for this variant, else batching.max_batch_size. */
  readonly maxBatch: number

  constructor (
    readonly model: ModelRuntime,
    readonly index: number,
    readonly spec: VariantSpec,
    readonly file: string,
    /** An earlier variant of the same file: this one runs on its session (loaded once). */
    readonly owner: VariantRuntime | null,
    /** batching.max_batch_size, when the manifest sets no max_batch_size for this variant. */
    defaultMaxBatch: number,
    clock: Pick<Clock, 'now'> = systemClock,
    private readonly log: Logger | null = null
  ) {
    this.maxBatch = spec.max_batch_size ?? defaultMaxBatch
    this.key = owner?.key ?? `${model.name}/${spec.name}`
    this.inlineCost = owner?.inlineCost ?? newRunCost(INLINE_QUANTILE)
    this.inlineGate = owner?.inlineGate ?? new HysteresisGate(clock)
    this.rule = new DecisionRule(spec.decision, model.manifest.threshold, model.groups)
  }

  /** Takes the owner's loaded session (state, provider, pool, inline session and its limit). */
  adoptOwner (): void {
    const o = this.owner
    if (o === null) return
    this.state = o.state
    this.error = o.error
    this.provider = o.provider
    this.session = o.session
    this.plan = o.plan
    this.pool = o.pool
  }

  /** The most a batch may cost to run on this thread (0: no inline session). */
  get inlineMaxMs (): number { return this.session === null ? 0 : this.inlineGate.limitMs }

  get name (): string { return this.spec.name }

  /**
   * Whether a batch of `rows` rows runs on this thread (no pool, or small enough for the inline
   * session, and no larger than a batch timed here: beyond that the estimate is extrapolated).
   */
  runsInline (rows: number): boolean {
    return this.pool === null || (this.session !== null && this.inlineGate.on && rows <= this.inlineCost.maxRows && expectedMs(this.inlineCost, rows) <= this.inlineGate.limitMs)
  }

  /** Expected ms of an inline run of `rows` rows (with a pool and an inline session). */
  inlineMs (rows: number): number { return expectedMs(this.inlineCost, rows) }

  /** Runs rows × width packed floats; resolves to one probability per row. */
  async run (input: Float32Array, rows: number): Promise<Float32Array> {
    if (this.pool === null) return await this.runHere(input, rows)
    if (this.runsInline(rows) || this.probes(rows)) return await this.runInline(input, rows)
    return await this.pool.run(this.key, input, rows, this.model.manifest.input.width)
  }

  /**
   * One batch in PROBE_EVERY that did not pass the inline test still runs here, so the estimate
   * keeps following this thread's cost: with the gate off, a small batch (the fixed part, so the
   * gate can turn back on: a start measured in a busy moment does not keep a cheap variant off
   * this thread for good); with it on, a batch too large for the limit by the estimate, but
   * within PROBE_REACH × the limit (the per-row part: it is learned only from batches run here,
   * so without probes one busy warm-up froze it, and `distilled`'s 64-row batches, 0.29 ms by a
   * warm-up's estimate and ~0.08 ms in fact, went to the threads for the life of the process).
   */
  private probes (rows: number): boolean {
    if (this.session === null || this.inlineGate.limitMs <= 0) return false
    const fits = this.inlineGate.on ? expectedMs(this.inlineCost, rows) <= PROBE_REACH * this.inlineGate.limitMs : rows <= SMALL_RUN
    return fits && ++this.probeCandidates % PROBE_EVERY === 0
  }

  /**
   * A run on this thread, timed from the check phase: onnxruntime-node runs the session in a
   * setImmediate callback queued right after `mark`, so the time excludes whatever else the
   * event loop ran before it, and the answer's microtasks run before the next callback.
   */
  private async runInline (input: Float32Array, rows: number): Promise<Float32Array> {
    setImmediate(this.mark)
    const scores = await this.runHere(input, rows)
    learn(this.inlineCost, rows, performance.now() - this.markedAt)
    if (this.inlineGate.update(expectedMs(this.inlineCost, 1))) {
      this.log?.info({ model: this.model.name, variant: this.name, inline: this.inlineGate.on, one_row_ms: round3(expectedMs(this.inlineCost, 1)), limit_ms: this.inlineGate.limitMs }, 'inline decision revisited')
    }
    return scores
  }

  /** Runs on this thread's session. */
  async runHere (input: Float32Array, rows: number): Promise<Float32Array> {
    const width = this.model.manifest.input.width
    const session = this.session
    if (session === null) throw FG_ERR_MODEL_INFERENCE(this.model.name, this.name, 'session is not loaded')
    const tensor = new ort.Tensor('float32', rows * width === input.length ? input : input.subarray(0, rows * width), [rows, width])
    const out = await runScores(session, this.model.io, tensor)
    try {
      return scoresOf(out, this.model.io, this.plan, rows)
    } catch (err) {
      throw FG_ERR_MODEL_INFERENCE(this.model.name, this.name, (err as Error).message)
    }
  }
}

/** Timed runs of each size that seed a variant's inline cost at warm-up. */
export const INLINE_SAMPLES = 7
/** Of the batches that fail the inline test but may be probed, one in this many runs on the HTTP thread to re-measure it. */
export const PROBE_EVERY = 32
/** A probe with the gate on runs a batch expected to cost at most this many times the inline limit. */
export const PROBE_REACH = 2

export class ModelRuntime {
  readonly name: string
  readonly encoder: FeatureEncoder
  readonly groups: GroupIndex
  readonly variants: VariantRuntime[]
  /** The tensor names every session of this model must have. */
  readonly io: SessionIo
  private readonly byName: Map<string, VariantRuntime>

  /** Position in the registry (set by ModelRegistry.add): the model's id in the monitor and stores. */
  index = -1

  /** `maxBatch`: batching.max_batch_size, the rows per run of a variant whose manifest entry sets none. */
  constructor (readonly manifest: Manifest, readonly dir: string, maxBatch: number, clock: Pick<Clock, 'now'> = systemClock, log: Logger | null = null) {
    this.name = manifest.name
    this.encoder = new FeatureEncoder(manifest.features)
    this.groups = new GroupIndex(manifest.groups)
    this.io = { input: manifest.input.name, output: manifest.output.name, width: manifest.input.width, column: manifest.output.column }
    this.variants = []
    for (const [i, v] of manifest.variants.entries()) {
      const owner = this.variants.find(u => u.owner === null && u.spec.file === v.file) ?? null
      this.variants.push(new VariantRuntime(this, i, v, join(dir, v.file), owner, maxBatch, clock, log))
    }
    this.byName = new Map(this.variants.map(v => [v.name, v]))
  }

  get width (): number { return this.manifest.input.width }

  variant (name: string): VariantRuntime {
    const v = this.byName.get(name)
    if (v === undefined) throw FG_ERR_MODEL_VARIANT_UNKNOWN(this.name, name)
    return v
  }

  hasVariant (name: string): boolean { return this.byName.has(name) }

  get ready (): boolean { return this.variants.some(v => v.state === 'ready') }
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000

/** The largest batch a session will run: the most rows per run of the variants on it (a file's variants share one). */
function warmRows (v: VariantRuntime): number {
  let rows = v.maxBatch
  for (const u of v.model.variants) if (u.key === v.key) rows = Math.max(rows, u.maxBatch)
  return rows
}

export function sha256File (file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex')
}

export class ModelRegistry {
  readonly models: ModelRuntime[] = []
  private readonly byName = new Map<string, ModelRuntime>()
  private pool: InferencePool | null = null

  /** `clock` times the inline gates' hold (tests drive it); run times are measured in real time. */
  constructor (private readonly cfg: Config['models'], private readonly maxBatch: number, private readonly log: Logger, private readonly clock: Pick<Clock, 'now'> = systemClock) {}

  /** Reads every manifest under the models directory. A broken manifest stops start-up. */
  discover (): void {
    const root = resolve(this.cfg.dir)
    if (!existsSync(root)) throw FG_ERR_MODEL_DIR_MISSING(root)
    for (const entry of readdirSync(root, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const file = join(root, entry.name, 'model.yaml')
      if (!entry.isDirectory() || !existsSync(file)) continue
      this.add(new ModelRuntime(readManifest(file), join(root, entry.name), this.maxBatch, this.clock, this.log))
    }
  }

  add (model: ModelRuntime): void {
    model.index = this.models.length
    this.models.push(model)
    this.byName.set(model.name, model)
  }

  model (name: string): ModelRuntime {
    const m = this.byName.get(name)
    if (m === undefined) throw FG_ERR_MODEL_UNKNOWN(name)
    return m
  }

  find (name: string): ModelRuntime | undefined { return this.byName.get(name) }

  /** Opens, verifies and warms every variant; never throws for one variant's failure. */
  async load (): Promise<void> {
    if (this.cfg.inference_threads > 0 && this.pool === null) this.pool = new InferencePool(this.cfg.inference_threads, this.cfg, this.log)
    const all: Array<Promise<void>> = []
    for (const m of this.models) for (const v of m.variants) if (v.owner === null) all.push(this.loadVariant(v))
    await Promise.all(all)
    // Inline sessions are timed once the threads are quiet, one variant at a time: a run timed
    // while the threads warm up other variants would measure the contention, not the run.
    if (this.pool !== null && this.cfg.inline_max_ms > 0 && this.cfg.execution_provider === 'cpu') {
      for (const m of this.models) {
        for (const v of m.variants) {
          if (v.owner !== null || v.state !== 'ready' || v.session !== null) continue
          try {
            await this.openInline(v)
          } catch (err) {
            this.log.warn({ model: m.name, variant: v.name, err: (err as Error).message }, 'inline session failed to open; every batch of this variant goes to the inference threads')
          }
        }
      }
    }
    for (const m of this.models) for (const v of m.variants) v.adoptOwner()
    if (this.pool !== null) {
      for (const m of this.models) {
        for (const v of m.variants) {
          if (v.owner !== null || v.state !== 'ready') continue
          const one = this.pool.runMs(v.key, 1)
          const all = this.pool.runMs(v.key, warmRows(v))
          this.log.info({ model: m.name, variant: v.name, thread_one_row_ms: round3(one), thread_max_batch_ms: round3(all), lane: this.pool.laneOf(v.key), short_run_ms: SHORT_RUN_MS, samples: this.cfg.inference_threads * Math.max(0, this.cfg.warmup_runs - 1) }, 'cost model')
        }
      }
    }
  }

  private async loadVariant (v: VariantRuntime): Promise<void> {
    try {
      if (this.cfg.verify_sha256) {
        const got = sha256File(v.file)
        if (got !== v.spec.sha256) throw FG_ERR_MODEL_CHECKSUM(v.file, v.spec.sha256, got)
      }
      if (this.pool !== null) {
        v.provider = await this.pool.open(v.key, v.file, v.model.io)
        v.pool = this.pool
      } else {
        const { session, provider, plan } = await openSession(v.file, this.cfg, this.log, v.model.io)
        v.session = session
        v.provider = provider
        v.plan = plan
      }
      // Warm-up pays the first-run allocation and kernel selection before a client does,
      // at both the smallest and the largest batch the batcher will send.
      const width = v.model.width
      const rows = warmRows(v)
      const buf = new Float32Array(rows * width)
      if (v.pool !== null) await v.pool.warm(v.key, buf, width, [1, rows], this.cfg.warmup_runs)
      else {
        for (let i = 0; i < this.cfg.warmup_runs; i++) {
          await v.run(buf, 1)
          await v.run(buf, rows)
        }
      }
      v.state = 'ready'
      this.log.info({ model: v.model.name, variant: v.name, provider: v.provider, threads: this.cfg.inference_threads }, 'variant ready')
    } catch (err) {
      v.state = 'failed'
      v.error = (err as Error).message
      this.log.error({ model: v.model.name, variant: v.name, err: v.error }, 'variant failed to load; it is not ready')
    }
  }

  /**
   * Opens a second session of a pooled variant on this thread and times it: INLINE_SAMPLES runs
   * each of one row and of a full batch seed the inline cost, whose lower quartiles (run-cost.ts) give the fixed cost
   * and the cost per row (a fastest-of-a-few or a single timing made the decision a coin toss on
   * a shared machine: `full` sits right at the default limit). The gate (hysteresis-gate.ts) starts on
   * only if one row, as runsInline predicts it, is clearly within models.inline_max_ms; served
   * runs and probes keep revisiting it. The session is kept while one row could plausibly come
   * within the limit (up to twice it), so the gate can turn on later; past that it is released.
   */
  private async openInline (v: VariantRuntime): Promise<void> {
    const rows = warmRows(v)
    const buf = new Float32Array(rows * v.model.width)
    const { session, plan } = await openSession(v.file, { ...this.cfg, execution_provider: 'cpu' }, this.log, v.model.io)
    v.session = session
    v.plan = plan
    const timed = async (rows: number): Promise<number> => { const t0 = performance.now(); await v.runHere(buf, rows); return performance.now() - t0 }
    await timed(1)
    await timed(rows)
    const c = v.inlineCost
    for (let i = 0; i < Math.max(INLINE_SAMPLES, this.cfg.warmup_runs); i++) {
      learn(c, 1, await timed(1))
      learn(c, rows, await timed(rows))
    }
    c.runs = 1
    const limit = this.cfg.inline_max_ms
    const oneRow = expectedMs(c, 1)
    v.inlineGate.start(limit, oneRow)
    const keep = oneRow <= 2 * limit
    this.log.info({ model: v.model.name, variant: v.name, inline: v.inlineGate.on, one_row_ms: round3(oneRow), fixed_ms: round3(c.fixedMs), row_ms: round3(c.rowMs), limit_ms: limit, band_ms: [round3(limit * (1 - v.inlineGate.margin)), round3(limit * (1 + v.inlineGate.margin))], samples: Math.max(INLINE_SAMPLES, this.cfg.warmup_runs), session_kept: keep, inline_rows: v.inlineGate.on ? (c.rowMs > 0 ? Math.min(rows, Math.floor((limit - c.fixedMs) / c.rowMs)) : rows) : 0 }, 'inline decision')
    if (!keep) {
      v.session = null
      await session.release().catch(() => {})
    }
  }

  async close (): Promise<void> {
    for (const m of this.models) {
      for (const v of m.variants) {
        const s = v.session
        v.session = null
        v.pool = null
        if (s !== null && v.owner === null) await s.release().catch(() => {})
      }
    }
    await this.pool?.close()
    this.pool = null
  }
}
