// `fairgate init`: writes models/<name>/model.yaml for ONNX files of one's own, from the training
// table the model was fitted on (vocabularies with the unknown bucket, means and standard
// deviations, sha256s, input and output names read from the model) and, given --eval, every
// variant's metrics, the drift baseline and a golden file, computed through fairgate's own
// runtime. Optionally a policy skeleton. Nothing is written unless the whole manifest validates.
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import YAML from 'yaml'
import { validateConfig } from '../config/index.js'
import { FG_ERR_INIT_ARGS } from '../errors.js'
import { cellCategory, describeAll, fitFeatures, inspectModel, ModelRegistry, ModelRuntime, recordOf, scoreOutput, sha256File, sortedValues, validateManifest, ZIPMAP_HINT } from '../models/index.js'
import { baselineOf, metricsOf, scoreRows, type LabelledRecord } from '../evaluate/index.js'
import { validatePolicy } from '../policy/index.js'
import { readTable, type Row } from './read-table.js'

export const INIT_USAGE = `usage: fairgate init --name NAME --data TRAIN.csv|.jsonl --label COLUMN [options] FILE.onnx[=VARIANT] ...

  --numeric a,b        numeric feature columns: (x - mean) / std
  --categorical c,d    categorical feature columns: one-hot over the sorted values + unknown
  --log1p a            numeric columns taken as log1p(x) first
  --groups g,h         sensitive attributes (columns; never features unless listed above too)
  --positive V         the label's positive value (default 1)
  --eval EVAL.csv      labelled table: per-variant metrics, drift baseline and golden.json
  --out DIR            the model folder (default models/NAME)
  --policy FILE        also write a policy skeleton there (e.g. policies/NAME.yaml)
  --input N, --output N  tensor names (default: read from the first ONNX file)
  --threshold T        decision threshold (default 0.5)
  --force              overwrite existing files`

const list = (s: string | undefined): string[] => (s ?? '').split(',').map(x => x.trim()).filter(x => x.length > 0)

/** The first rows the golden file holds. */
const GOLDEN_ROWS = 200

const quietLog = { info () {}, warn () {}, error () {} }

export async function init (argv: string[]): Promise<void> {
  const { values: o, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' }, data: { type: 'string' }, label: { type: 'string' }, positive: { type: 'string' },
      numeric: { type: 'string' }, categorical: { type: 'string' }, log1p: { type: 'string' }, groups: { type: 'string' },
      eval: { type: 'string' }, out: { type: 'string' }, policy: { type: 'string' }, input: { type: 'string' },
      output: { type: 'string' }, threshold: { type: 'string' }, force: { type: 'boolean' }
    }
  })
  // Options first: every mistake in the command line is named before a file is read.
  if (o.name === undefined || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(o.name)) throw FG_ERR_INIT_ARGS('--name', 'required: letters, digits, _ . - (the model\'s name in URLs)')
  if (o.data === undefined) throw FG_ERR_INIT_ARGS('--data', 'required: the training table (CSV with a header, or JSONL)')
  if (o.label === undefined) throw FG_ERR_INIT_ARGS('--label', 'required: the label column')
  const spec = { numeric: list(o.numeric), categorical: list(o.categorical), log1p: list(o.log1p) }
  const groups = list(o.groups)
  if (spec.numeric.length + spec.categorical.length === 0) throw FG_ERR_INIT_ARGS('--numeric/--categorical', 'at least one feature column is required')
  const bad = spec.log1p.find(c => !spec.numeric.includes(c))
  if (bad !== undefined) throw FG_ERR_INIT_ARGS('--log1p', `"${bad}" is not one of --numeric`)
  const twice = [...spec.numeric, ...spec.categorical].find((c, i, all) => all.indexOf(c) !== i)
  if (twice !== undefined) throw FG_ERR_INIT_ARGS('--numeric/--categorical', `"${twice}" is listed twice`)
  const threshold = o.threshold === undefined ? 0.5 : Number(o.threshold)
  if (!(threshold >= 0 && threshold <= 1)) throw FG_ERR_INIT_ARGS('--threshold', 'must be a number within [0, 1]')
  if (positionals.length === 0) throw FG_ERR_INIT_ARGS('FILE.onnx', 'name at least one ONNX file (one variant each, in order of preference)')
  const positive = o.positive ?? '1'
  const out = resolve(o.out ?? join('models', o.name))
  const manifestFile = join(out, 'model.yaml')
  if (existsSync(manifestFile) && o.force !== true) throw FG_ERR_INIT_ARGS('--out', `${manifestFile} exists (--force overwrites it)`)
  if (o.policy !== undefined && existsSync(o.policy) && o.force !== true) throw FG_ERR_INIT_ARGS('--policy', `${o.policy} exists (--force overwrites it)`)
  const files = positionals.map(p => {
    const eq = p.lastIndexOf('=')
    const file = eq > 0 ? p.slice(0, eq) : p
    const name = eq > 0 ? p.slice(eq + 1) : basename(file).replace(/\.onnx$/i, '')
    if (!existsSync(file)) throw FG_ERR_INIT_ARGS(p, 'no such file')
    return { file: resolve(file), name }
  })

  const rows = readTable(o.data)
  const header = rows[0]!
  for (const [flag, cols] of [['--numeric', spec.numeric], ['--categorical', spec.categorical], ['--groups', groups], ['--label', [o.label]]] as const) {
    const missing = cols.find(c => !(c in header))
    if (missing !== undefined) throw FG_ERR_INIT_ARGS(flag, `"${missing}" is not a column of ${o.data} (columns: ${Object.keys(header).join(', ')})`)
  }
  const features = fitFeatures(rows, spec)
  features.forEach(f => { if (f.kind === 'categorical' && f.vocabulary.length === 0) throw FG_ERR_INIT_ARGS('--categorical', `"${f.name}" has no values in ${o.data}`) })
  const groupValues: Record<string, string[]> = {}
  for (const g of groups) {
    groupValues[g] = sortedValues(rows, g)
    if (groupValues[g].length === 0) throw FG_ERR_INIT_ARGS('--groups', `"${g}" has no values in ${o.data}`)
  }
  const width = features.reduce((w, f) => w + (f.kind === 'numeric' ? 1 : f.vocabulary.length + 1), 0)

  const io = await inspectModel(files[0]!.file)
  const input = o.input ?? io.inputs[0]?.name
  const output = o.output ?? scoreOutput(io.outputs)
  if (input === undefined) throw FG_ERR_INIT_ARGS(files[0]!.file, 'has no input')
  if (output === undefined) {
    const zipmap = io.outputs.some(m => !m.isTensor) ? `; ${ZIPMAP_HINT}` : ''
    throw FG_ERR_INIT_ARGS(files[0]!.file, `has no float [N], [N, 1] or [N, 2] output (outputs: ${describeAll(io.outputs)})${zipmap}`)
  }

  mkdirSync(out, { recursive: true })
  const variants = files.map(f => {
    const dest = join(out, basename(f.file))
    if (dest !== f.file) copyFileSync(f.file, dest)
    return { name: f.name, file: basename(f.file), sha256: sha256File(dest) } as Record<string, unknown>
  })
  const manifest: Record<string, unknown> = {
    name: o.name,
    description: `written by fairgate init from ${basename(o.data)}`,
    input: { name: input, width },
    output: { name: output },
    threshold,
    label: { field: o.label, positive },
    features,
    groups: groupValues,
    variants
  }
  if (o.eval !== undefined) await evaluate(manifest, out, o.eval, o.label, positive, groups)
  const m = validateManifest(manifest, manifestFile)
  writeFileSync(manifestFile, `# Written by fairgate init; reference: docs/models.md#the-manifest.\n${YAML.stringify(manifest, { lineWidth: 0 })}`)
  console.log(`wrote ${manifestFile}: ${m.features.length} features (${width} columns), ${m.variants.length} variants, input "${input}", output "${output}"`)
  if (o.policy !== undefined) {
    const policy = policySkeleton(o.name, m.variants.map(v => v.name), groups, m.baseline !== undefined)
    validatePolicy(policy, o.policy, new Map([[o.name, { variants: m.variants.map(v => v.name), attributes: groups }]]))
    writeFileSync(o.policy, `# A starting point written by fairgate init; see docs/policies.md.\n${YAML.stringify(policy)}`)
    console.log(`wrote ${o.policy}`)
  }
}

/** Fills in each variant's metrics, the baseline (first variant) and golden.json, through the runtime. */
async function evaluate (manifest: Record<string, unknown>, dir: string, file: string, label: string, positive: string, groups: string[]): Promise<void> {
  const m = validateManifest(structuredClone(manifest), join(dir, 'model.yaml'))
  const cfg = validateConfig({ models: { dir, warmup_runs: 1, inference_threads: 0 } })
  const registry = new ModelRegistry(cfg.models, cfg.batching.max_batch_size, quietLog)
  const model = new ModelRuntime(m, dir, cfg.batching.max_batch_size)
  registry.add(model)
  try {
    await registry.load()
    const failed = model.variants.find(v => v.state !== 'ready')
    if (failed !== undefined) throw FG_ERR_INIT_ARGS(join(dir, failed.spec.file), `variant "${failed.name}" does not load: ${failed.error ?? 'unknown'}`)
    const table = readTable(file)
    const rows: LabelledRecord[] = []
    let skipped = 0
    for (const r of table) {
      const lr = labelled(r, m.features, label, positive, groups, m.groups)
      if (lr === undefined) skipped++
      else rows.push(lr)
    }
    if (rows.length === 0) throw FG_ERR_INIT_ARGS('--eval', `no row of ${file} has every numeric feature and a label`)
    const golden: { rows: number, encoded: number[][], variants: Record<string, number[]> } = { rows: Math.min(GOLDEN_ROWS, rows.length), encoded: [], variants: {} }
    const enc = new Float32Array(model.width)
    for (const r of rows.slice(0, golden.rows)) {
      model.encoder.encode(r.record, enc, 0, 'golden')
      golden.encoded.push(Array.from(enc))
    }
    const variants = manifest.variants as Array<Record<string, unknown>>
    for (const [i, v] of model.variants.entries()) {
      const { scores, decisions } = await scoreRows(model, v, rows)
      variants[i]!.metrics = metricsOf(model, rows, scores, decisions)
      golden.variants[v.name] = Array.from(scores.subarray(0, golden.rows))
      if (i === 0) manifest.baseline = baselineOf(model, v.name, rows, scores, decisions)
    }
    writeFileSync(join(dir, 'golden.json'), JSON.stringify(golden))
    console.log(`evaluated ${model.variants.length} variants on ${rows.length} rows of ${file}${skipped > 0 ? ` (${skipped} rows without every numeric feature or a label skipped)` : ''}; wrote ${join(dir, 'golden.json')}`)
  } finally {
    await registry.close()
  }
}

function labelled (r: Row, features: Parameters<typeof recordOf>[1], label: string, positive: string, groups: string[], values: Record<string, string[]>): LabelledRecord | undefined {
  const record = recordOf(r, features)
  const y = cellCategory(r[label])
  if (record === undefined || y === undefined) return undefined
  const group: Record<string, string> = {}
  for (const g of groups) {
    const v = cellCategory(r[g])
    // A value the training table did not have is no group of the manifest: the row counts for the others.
    if (v !== undefined && values[g]!.includes(v)) group[g] = v
  }
  return { record, label: y === positive ? 1 : 0, group }
}

function policySkeleton (model: string, variants: string[], groups: string[], baseline: boolean): Record<string, unknown> {
  const policy: Record<string, unknown> = { model, variants }
  if (groups.length > 0) {
    policy.fairness = [{ name: `${groups[0]}-demographic-parity`, metric: 'demographic_parity_difference', attribute: groups[0], threshold: 0.1, min_samples: 200, action: { type: 'alert' } }]
    // Drift is measured against the manifest's baseline, which only --eval writes.
    if (baseline) policy.drift = [{ name: `${groups[0]}-score-psi`, metric: 'psi', attribute: groups[0], threshold: 0.25, min_samples: 500, action: { type: 'alert' } }]
  }
  return policy
}
