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
import { InferencePool } from './inference-pool.js'
import { DecisionRule } from './decision-rule.js'
import { expectedMs, newRunCost, type RunCost } from './run-cost.js'
import { openSession, ort, scoresOf, type Logger, type Provider, type SessionIo } from './session.js'

export type VariantState = 'loading' | 'ready' | 'failed'

export class VariantRuntime {
  state: VariantState = 'loading'
  error: string | null = null
  provider: Provider = 'cpu'
  /** A session on this (the HTTP) thread: the only one without a pool; with one, the inline session for small batches. */
  session: ort.InferenceSession | null = null
  /** Set when inference runs on the pool's threads instead of this one. */
  pool: InferencePool | null = null
  /** With a pool and an inline session: a run's cost on this thread (measured at warm-up), and the most a batch may cost to run here. */
  readonly inlineCost: RunCost
  inlineMaxMs = 0
  /** The pool's name of the session this variant runs on (the owner's, when it shares a file). */
  readonly key: string
  /** How a score becomes this variant's decision. */
  readonly rule: DecisionRule

  constructor (
    readonly model: ModelRuntime,
    readonly index: number,
    readonly spec: VariantSpec,
    readonly file: string,
    /** An earlier variant of the same file: this one runs on its session (loaded once). */
    readonly owner: VariantRuntime | null = null
  ) {
    this.key = owner?.key ?? `${model.name}/${spec.name}`
    this.inlineCost = owner?.inlineCost ?? newRunCost()
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
    this.pool = o.pool
    this.inlineMaxMs = o.inlineMaxMs
  }

  get name (): string { return this.spec.name }

  /** Whether a batch of `rows` rows runs on this thread (no pool, or small enough for the inline session). */
  runsInline (rows: number): boolean {
    return this.pool === null || (this.session !== null && expectedMs(this.inlineCost, rows) <= this.inlineMaxMs)
  }

  /** Expected ms of an inline run of `rows` rows (with a pool and an inline session). */
  inlineMs (rows: number): number { return expectedMs(this.inlineCost, rows) }

  /** Runs rows × width packed floats; resolves to one probability per row. */
  async run (input: Float32Array, rows: number): Promise<Float32Array> {
    if (this.pool !== null && !this.runsInline(rows)) return await this.pool.run(this.key, input, rows, this.model.manifest.input.width)
    return await this.runHere(input, rows)
  }

  /** Runs on this thread's session. */
  async runHere (input: Float32Array, rows: number): Promise<Float32Array> {
    const width = this.model.manifest.input.width
    const session = this.session
    if (session === null) throw FG_ERR_MODEL_INFERENCE(this.model.name, this.name, 'session is not loaded')
    const tensor = new ort.Tensor('float32', rows * width === input.length ? input : input.subarray(0, rows * width), [rows, width])
    const out = await session.run({ [this.model.manifest.input.name]: tensor })
    try {
      return scoresOf(out[this.model.manifest.output.name], this.model.io, rows)
    } catch (err) {
      throw FG_ERR_MODEL_INFERENCE(this.model.name, this.name, (err as Error).message)
    }
  }
}

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

  constructor (readonly manifest: Manifest, readonly dir: string) {
    this.name = manifest.name
    this.encoder = new FeatureEncoder(manifest.features)
    this.groups = new GroupIndex(manifest.groups)
    this.io = { input: manifest.input.name, output: manifest.output.name }
    this.variants = []
    for (const [i, v] of manifest.variants.entries()) {
      const owner = this.variants.find(u => u.owner === null && u.spec.file === v.file) ?? null
      this.variants.push(new VariantRuntime(this, i, v, join(dir, v.file), owner))
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

export function sha256File (file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex')
}

export class ModelRegistry {
  readonly models: ModelRuntime[] = []
  private readonly byName = new Map<string, ModelRuntime>()
  private pool: InferencePool | null = null

  constructor (private readonly cfg: Config['models'], private readonly maxBatch: number, private readonly log: Logger) {}

  /** Reads every manifest under the models directory. A broken manifest stops start-up. */
  discover (): void {
    const root = resolve(this.cfg.dir)
    if (!existsSync(root)) throw FG_ERR_MODEL_DIR_MISSING(root)
    for (const entry of readdirSync(root, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const file = join(root, entry.name, 'model.yaml')
      if (!entry.isDirectory() || !existsSync(file)) continue
      this.add(new ModelRuntime(readManifest(file), join(root, entry.name)))
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
  }

  private async loadVariant (v: VariantRuntime): Promise<void> {
    try {
      if (this.cfg.verify_sha256) {
        const got = sha256File(v.file)
        if (got !== v.spec.sha256) throw FG_ERR_MODEL_CHECKSUM(v.file, v.spec.sha256, got)
      }
      if (this.pool !== null) {
        const m = v.model.manifest
        v.provider = await this.pool.open(v.key, v.file, m.input.name, m.output.name, m.input.width)
        v.pool = this.pool
      } else {
        const { session, provider } = await openSession(v.file, this.cfg, this.log, v.model.io)
        v.session = session
        v.provider = provider
      }
      // Warm-up pays the first-run allocation and kernel selection before a client does,
      // at both the smallest and the largest batch the batcher will send.
      const width = v.model.width
      const buf = new Float32Array(this.maxBatch * width)
      if (v.pool !== null) await v.pool.warm(v.key, buf, width, [1, this.maxBatch], this.cfg.warmup_runs)
      else {
        for (let i = 0; i < this.cfg.warmup_runs; i++) {
          await v.run(buf, 1)
          await v.run(buf, this.maxBatch)
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
   * Opens a second session of a pooled variant on this thread and times it: the fastest of a few
   * runs of one row gives the fixed cost, of a full batch the cost per row (the fastest, because
   * the run costs the same later and a start-up hiccup would keep a small model off this thread
   * for good). Kept only if a one-row batch, as runsInline predicts it, fits models.inline_max_ms.
   */
  private async openInline (v: VariantRuntime): Promise<void> {
    const buf = new Float32Array(this.maxBatch * v.model.width)
    const { session } = await openSession(v.file, { ...this.cfg, execution_provider: 'cpu' }, this.log, v.model.io)
    v.session = session
    const timed = async (rows: number): Promise<number> => { const t0 = performance.now(); await v.runHere(buf, rows); return performance.now() - t0 }
    await timed(1)
    await timed(this.maxBatch)
    let one = Infinity
    let all = Infinity
    for (let i = 0; i < Math.max(3, this.cfg.warmup_runs); i++) {
      one = Math.min(one, await timed(1))
      all = Math.min(all, await timed(this.maxBatch))
    }
    const c = v.inlineCost
    c.fixedMs = one
    // A full batch no slower than one row (distilled: both ~0.05 ms) puts the per-row cost below
    // the timer's noise; its upper bound then keeps a long queue from being predicted as free.
    c.rowMs = all > one ? (all - one) / Math.max(1, this.maxBatch - 1) : all / this.maxBatch
    c.runs = c.sizedRuns = c.fixedRuns = 1
    // Kept by the rule runsInline applies (fixed + one row's cost), not by the one-row time alone:
    // a session kept at 0.24 + 0.018 ms against a 0.25 ms limit would never take even one row.
    if (expectedMs(c, 1) > this.cfg.inline_max_ms) {
      v.session = null
      await session.release().catch(() => {})
      return
    }
    v.inlineMaxMs = this.cfg.inline_max_ms
    this.log.info({ model: v.model.name, variant: v.name, one_row_ms: round3(one), max_batch_ms: round3(all), thread_one_row_ms: round3(v.pool?.runMs(v.key, 1) ?? 0), inline_rows: c.rowMs > 0 ? Math.min(this.maxBatch, Math.floor((this.cfg.inline_max_ms - one) / c.rowMs)) : this.maxBatch }, 'small batches of this variant run on the HTTP thread')
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
