// Per-variant metrics and the drift baseline of a model on a labelled table, computed by running
// every variant through fairgate's own runtime (encoder, session, decision rule), so the figures
// in model.yaml are those of the served model, not of the training framework (`fairgate init --eval`).
// Scored, decided and AUC-ranked by the offline evaluation's own code (score.ts, roc.ts).
import type { Manifest, ModelRuntime, VariantRuntime } from '../models/index.js'
import type { Dataset } from './dataset.js'
import { rocAuc } from './roc.js'
import { decide, scoreAll } from './score.js'

export interface LabelledRecord {
  record: Record<string, unknown>
  label: 0 | 1
  /** Group labels of the row ({} when it has none). */
  group: Record<string, string>
}

type GroupStats = NonNullable<NonNullable<Manifest['variants'][number]['metrics']>['groups']>[string][string]
type Metrics = NonNullable<Manifest['variants'][number]['metrics']>

/** Ten equal bins over [0, 1], as the bundled model's baseline (docs/models.md). */
export const BASELINE_EDGES = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]

const CHUNK = 256

/** Scores and decisions of one ready variant on every row, in row order. */
export async function scoreRows (model: ModelRuntime, v: VariantRuntime, rows: readonly LabelledRecord[]): Promise<{ scores: Float32Array, decisions: Uint8Array }> {
  const ds = packRows(model, rows)
  const scores = await scoreAll(v, ds, CHUNK)
  return { scores, decisions: decide(v, ds, scores) }
}

/** The rows encoded as evaluate's table, with the model's own encoder and group index. */
function packRows (model: ModelRuntime, rows: readonly LabelledRecord[]): Dataset {
  const width = model.width
  const attrs = model.groups.size
  const ds: Dataset = { file: '(rows)', rows: rows.length, width, attrs, input: new Float32Array(rows.length * width), groups: new Int16Array(rows.length * attrs), labels: new Int8Array(rows.length) }
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!
    model.encoder.encode(row.record, ds.input, r * width, `row ${r + 1}`)
    model.groups.parse(row.group, ds.groups, r * attrs, `row ${r + 1} groups`)
    ds.labels[r] = row.label
  }
  return ds
}

/** accuracy, AUC and per-group n, selection rate, TPR, FPR and accuracy of one variant. */
export function metricsOf (model: ModelRuntime, rows: readonly LabelledRecord[], scores: Float32Array, decisions: Uint8Array): Metrics {
  const labels = rows.map(r => r.label)
  let correct = 0
  for (let i = 0; i < rows.length; i++) if (decisions[i] === labels[i]) correct++
  const groups: Record<string, Record<string, GroupStats>> = {}
  model.groups.attributes.forEach((attr, a) => {
    groups[attr] = {}
    for (const value of model.groups.values[a]!) {
      let n = 0; let sel = 0; let p = 0; let tp = 0; let fp = 0; let ok = 0
      for (let i = 0; i < rows.length; i++) {
        if (rows[i]!.group[attr] !== value) continue
        n++
        sel += decisions[i]!
        if (labels[i] === 1) { p++; tp += decisions[i]! } else fp += decisions[i]!
        if (decisions[i] === labels[i]) ok++
      }
      if (n === 0) continue
      groups[attr][value] = { n, selection_rate: sel / n, ...(p > 0 ? { tpr: tp / p } : {}), ...(n - p > 0 ? { fpr: fp / (n - p) } : {}), accuracy: ok / n }
    }
  })
  const a = rocAuc(scores, labels)
  return { accuracy: correct / rows.length, ...(a === null ? {} : { auc: a }), groups }
}

/** The drift baseline of one variant's scores: per group, n, selection rate and the histogram. */
export function baselineOf (model: ModelRuntime, variant: string, rows: readonly LabelledRecord[], scores: Float32Array, decisions: Uint8Array): NonNullable<Manifest['baseline']> {
  const bins = BASELINE_EDGES.length - 1
  const groups: NonNullable<Manifest['baseline']>['groups'] = {}
  model.groups.attributes.forEach((attr, a) => {
    groups[attr] = {}
    for (const value of model.groups.values[a]!) {
      const histogram = new Array<number>(bins).fill(0)
      let n = 0; let sel = 0
      for (let i = 0; i < rows.length; i++) {
        if (rows[i]!.group[attr] !== value) continue
        n++
        sel += decisions[i]!
        // bin i holds edges[i] <= p < edges[i+1]; p = 1 goes into the last bin.
        histogram[Math.min(bins - 1, Math.max(0, Math.floor(scores[i]! * bins)))]!++
      }
      if (n > 0) groups[attr][value] = { n, selection_rate: sel / n, histogram }
    }
  })
  return { variant, bin_edges: BASELINE_EDGES, groups }
}
