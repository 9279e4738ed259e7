// Scoring a packed table through one ready variant, as the gateway scores a batch: the variant's
// own session on rows × width features, then its decision rule's per-row thresholds on the group
// ids. fairgate evaluate and fairgate init --eval both score through here, so their figures come
// from the same code path.
import type { VariantRuntime } from '../models/index.js'
import type { Dataset } from './dataset.js'

/** Every row's score, `batch` rows per run. */
export async function scoreAll (v: VariantRuntime, ds: Dataset, batch: number): Promise<Float32Array> {
  const out = new Float32Array(ds.rows)
  for (let r = 0; r < ds.rows; r += batch) {
    const rows = Math.min(batch, ds.rows - r)
    const s = await v.run(ds.input.subarray(r * ds.width, (r + rows) * ds.width), rows)
    out.set(s.subarray(0, rows), r)
  }
  return out
}

/** Every row's decision (score ≥ the rule's threshold for the row's groups). */
export function decide (v: VariantRuntime, ds: Dataset, scores: Float32Array): Uint8Array {
  const thr = new Float64Array(ds.rows)
  v.rule.thresholds(ds.groups, ds.attrs, true, thr, ds.rows)
  const d = new Uint8Array(ds.rows)
  for (let r = 0; r < ds.rows; r++) d[r] = scores[r]! >= thr[r]! ? 1 : 0
  return d
}
