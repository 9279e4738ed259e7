// models/<name>/model.yaml: what the gateway knows of a model without opening its ONNX files.
// The schema is the contract with models/train.py; a manifest that does not validate is refused
// with the field that is wrong.
import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { FG_ERR_MODEL_MANIFEST } from '../errors.js'

const finite = z.number().refine(Number.isFinite, 'must be a finite number')

// Every object is strict: an unknown key is refused with its path, as in policies. A typo such as
// `log1P` or `treshold` used to be dropped and the model served with the default instead.
const numericFeature = z.strictObject({
  name: z.string().min(1),
  kind: z.literal('numeric'),
  mean: finite,
  std: finite.refine(v => v > 0, 'must be > 0'),
  log1p: z.boolean().default(false)
})
const categoricalFeature = z.strictObject({
  name: z.string().min(1),
  kind: z.literal('categorical'),
  vocabulary: z.array(z.string()).min(1)
})
export const featureSchema = z.discriminatedUnion('kind', [numericFeature, categoricalFeature])

const groupStats = z.strictObject({
  n: z.number().int().min(0),
  selection_rate: finite,
  tpr: finite.optional(),
  fpr: finite.optional(),
  accuracy: finite.optional()
})

const unit = finite.refine(v => v >= 0 && v <= 1, 'must be within [0, 1]')

/**
 * How a score becomes a decision: score ≥ threshold, or score ≥ the threshold of the row's group
 * (by_group; a row without the attribute gets the default). Absent: the manifest's threshold.
 */
export const decisionSchema = z.union([
  z.strictObject({ threshold: unit }),
  z.strictObject({
    by_group: z.strictObject({
      attribute: z.string().min(1),
      thresholds: z.record(z.string().min(1), unit),
      default: unit
    })
  })
])

/** batching.max_batch_size's bound (src/config/bounds.ts), for a variant's own. */
const MAX_VARIANT_BATCH = 65_536

const variantSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, _ . - only'),
  file: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits'),
  params: z.number().int().min(0).optional(),
  flops_per_row: z.number().int().min(0).optional(),
  /**
   * Rows per run of this variant, in place of batching.max_batch_size (as Triton's per-model
   * max_batch_size): a cheap variant gains from larger batches (each run and each wake-up of the
   * HTTP thread has a fixed cost) where an expensive one would hold its queue too long.
   */
  max_batch_size: z.number().int().positive().max(MAX_VARIANT_BATCH).optional(),
  decision: decisionSchema.optional(),
  metrics: z.strictObject({
    accuracy: finite.optional(),
    auc: finite.optional(),
    /** µs per row at batch 32 through onnxruntime on one thread (models/income/latency.json). */
    cost_us_per_row_b32: finite.optional(),
    groups: z.record(z.string(), z.record(z.string(), groupStats)).optional()
  }).optional()
})

const baselineSchema = z.strictObject({
  variant: z.string().optional(),
  bin_edges: z.array(finite).min(2),
  groups: z.record(z.string(), z.record(z.string(), z.strictObject({
    n: z.number().int().min(0),
    selection_rate: finite,
    histogram: z.array(z.number().min(0))
  })))
})

/** The largest encoded row a manifest may declare (columns): every size has an upper bound. */
export const MAX_INPUT_WIDTH = 65_536

export const manifestSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, _ . - only'),
  description: z.string().optional(),
  input: z.strictObject({ name: z.string().min(1), width: z.number().int().positive().max(MAX_INPUT_WIDTH) }),
  output: z.strictObject({
    name: z.string().min(1),
    /**
     * The positive class's column of a two-column output ([N, 2], as skl2onnx's probabilities);
     * absent: column 1. Refused for a one-column output, where there is nothing to choose.
     */
    column: z.number().int().min(0).max(1).optional()
  }),
  threshold: unit.default(0.5),
  label: z.strictObject({ field: z.string(), positive: z.string() }).optional(),
  /** Rows the variants were trained on (jsonl like eval.jsonl), for fairgate evaluate's membership test. */
  train_sample: z.string().min(1).optional(),
  features: z.array(featureSchema).min(1),
  groups: z.record(z.string().min(1), z.array(z.string().min(1)).min(1)),
  variants: z.array(variantSchema).min(1),
  baseline: baselineSchema.optional()
})

export type Manifest = z.output<typeof manifestSchema>
export type FeatureSpec = z.output<typeof featureSchema>
export type VariantSpec = Manifest['variants'][number]
export type DecisionSpec = z.output<typeof decisionSchema>

function fail (file: string, path: string, why: string): never {
  throw FG_ERR_MODEL_MANIFEST(file, path, why)
}

/** Validates and cross-checks a parsed manifest (widths add up, names unique, baseline shapes). */
export function validateManifest (raw: unknown, file = 'model.yaml'): Manifest {
  const res = manifestSchema.safeParse(raw)
  if (!res.success) {
    const issue = res.error.issues[0]!
    if (issue.code === 'unrecognized_keys') fail(file, [...issue.path, issue.keys[0]].join('.'), `unknown key (allowed here: ${allowedKeys(issue.path)})`)
    fail(file, issue.path.length === 0 ? '(root)' : issue.path.join('.'), issue.message)
  }
  const m = res.data
  let width = 0
  const seen = new Set<string>()
  m.features.forEach((f, i) => {
    if (seen.has(f.name)) fail(file, `features.${i}.name`, `duplicate feature "${f.name}"`)
    seen.add(f.name)
    if (f.kind === 'categorical') {
      const dup = f.vocabulary.findIndex((v, j) => f.vocabulary.indexOf(v) !== j)
      if (dup >= 0) fail(file, `features.${i}.vocabulary.${dup}`, `duplicate value "${f.vocabulary[dup]}" (each value needs its own column)`)
    }
    width += f.kind === 'numeric' ? 1 : f.vocabulary.length + 1
  })
  if (width !== m.input.width) fail(file, 'input.width', `is ${m.input.width} but the features encode to ${width} columns`)
  const names = new Set<string>()
  m.variants.forEach((v, i) => {
    if (names.has(v.name)) fail(file, `variants.${i}.name`, `duplicate variant "${v.name}"`)
    names.add(v.name)
    const files = m.variants.slice(0, i).filter(u => u.file === v.file)
    if (files.some(u => u.sha256 !== v.sha256)) fail(file, `variants.${i}.sha256`, `differs from another variant of file "${v.file}"`)
    const bg = v.decision !== undefined && 'by_group' in v.decision ? v.decision.by_group : undefined
    if (bg === undefined) return
    // Deciding by a protected attribute is disparate treatment in some jurisdictions: opt-in only.
    if (i === 0) fail(file, 'variants.0.decision', 'the first (default) variant must not decide by group')
    const values = m.groups[bg.attribute]
    if (values === undefined) fail(file, `variants.${i}.decision.by_group.attribute`, 'not a group attribute of this model')
    for (const g of Object.keys(bg.thresholds)) {
      if (!values.includes(g)) fail(file, `variants.${i}.decision.by_group.thresholds.${g}`, `not a value of "${bg.attribute}"`)
    }
  })
  for (const [attr, values] of Object.entries(m.groups)) {
    if (new Set(values).size !== values.length) fail(file, `groups.${attr}`, 'duplicate group value')
  }
  if (m.baseline !== undefined) {
    const bins = m.baseline.bin_edges.length - 1
    for (let i = 1; i <= bins; i++) {
      if (!(m.baseline.bin_edges[i]! > m.baseline.bin_edges[i - 1]!)) fail(file, `baseline.bin_edges.${i}`, 'edges must increase')
    }
    if (m.baseline.variant !== undefined && !names.has(m.baseline.variant)) fail(file, 'baseline.variant', `"${m.baseline.variant}" is not a variant of this model (${[...names].join(', ')})`)
    for (const [attr, groups] of Object.entries(m.baseline.groups)) {
      const values = m.groups[attr]
      if (values === undefined) fail(file, `baseline.groups.${attr}`, `not a group attribute of this model (groups: ${Object.keys(m.groups).join(', ')})`)
      for (const [g, s] of Object.entries(groups)) {
        // A misspelt value would leave the real group without a baseline: its PSI silently null.
        if (!values.includes(g)) fail(file, `baseline.groups.${attr}.${g}`, `not a value of "${attr}" in groups (${values.length} values)`)
        if (s.histogram.length !== bins) fail(file, `baseline.groups.${attr}.${g}.histogram`, `has ${s.histogram.length} bins, bin_edges define ${bins}`)
      }
    }
  }
  return m
}

/** The keys the schema allows at a path of the raw manifest, for the unknown-key message. */
function allowedKeys (path: readonly PropertyKey[]): string {
  const shapes: Record<string, readonly string[]> = {
    '': Object.keys(manifestSchema.shape),
    input: ['name', 'width'],
    output: ['name', 'column'],
    label: ['field', 'positive'],
    'features.*': ['name', 'kind', 'mean', 'std', 'log1p', 'vocabulary'],
    'variants.*': Object.keys(variantSchema.shape),
    'variants.*.metrics': ['accuracy', 'auc', 'cost_us_per_row_b32', 'groups'],
    'variants.*.metrics.groups.*.*': Object.keys(groupStats.shape),
    'variants.*.decision': ['threshold', 'by_group'],
    'variants.*.decision.by_group': ['attribute', 'thresholds', 'default'],
    baseline: Object.keys(baselineSchema.shape),
    'baseline.groups.*.*': ['n', 'selection_rate', 'histogram']
  }
  const key = path.map(p => typeof p === 'number' ? '*' : String(p)).join('.')
    .replace(/^(variants\.\*\.metrics\.groups|baseline\.groups)\.[^.]+\.[^.]+$/, '$1.*.*')
  return (shapes[key] ?? []).join(', ')
}

export function readManifest (file: string): Manifest {
  let raw: unknown
  try {
    raw = parseYaml(readFileSync(file, 'utf8'))
  } catch (err) {
    fail(file, '(file)', (err as Error).message)
  }
  return validateManifest(raw, file)
}
