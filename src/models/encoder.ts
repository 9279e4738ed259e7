// Turns a raw record ({"age": 39, "workclass": "State-gov", ...}) into the model's input row,
// exactly as models/train.py did: numeric = (x or log1p(x) - mean) / std, categorical = one-hot
// over the vocabulary with a trailing unknown bucket. Arithmetic is float64, stored as float32,
// like numpy's astype(float32) on the float64 result, so golden files match to the last bit.
import { FG_ERR_REQUEST_INVALID } from '../errors.js'
import type { FeatureSpec } from './manifest.js'

const NUMERIC = 0
const CATEGORICAL = 1

export class FeatureEncoder {
  readonly width: number
  readonly names: readonly string[]
  // Struct-of-arrays plan: one entry per feature, no objects touched while encoding.
  private readonly kinds: Uint8Array
  private readonly offsets: Int32Array
  private readonly means: Float64Array
  private readonly stds: Float64Array
  private readonly logs: Uint8Array
  private readonly vocab: Array<Map<string, number> | null>
  private readonly unknown: Int32Array

  constructor (features: readonly FeatureSpec[]) {
    const n = features.length
    this.names = features.map(f => f.name)
    this.kinds = new Uint8Array(n)
    this.offsets = new Int32Array(n)
    this.means = new Float64Array(n)
    this.stds = new Float64Array(n)
    this.logs = new Uint8Array(n)
    this.vocab = new Array(n).fill(null)
    this.unknown = new Int32Array(n)
    let off = 0
    features.forEach((f, i) => {
      this.offsets[i] = off
      if (f.kind === 'numeric') {
        this.kinds[i] = NUMERIC
        this.means[i] = f.mean
        this.stds[i] = f.std
        this.logs[i] = f.log1p ? 1 : 0
        off += 1
      } else {
        this.kinds[i] = CATEGORICAL
        this.vocab[i] = new Map(f.vocabulary.map((v, j) => [v, j]))
        this.unknown[i] = f.vocabulary.length
        off += f.vocabulary.length + 1
      }
    })
    this.width = off
  }

  /**
   * Encodes one record into out[at .. at+width). `field` names the record in error messages
   * (e.g. "features" or "instances[3]"). Missing or mistyped fields are a client error; extra
   * fields are ignored because real records carry ids and labels the model never sees.
   */
  encode (record: Record<string, unknown>, out: Float32Array, at: number, field: string): void {
    out.fill(0, at, at + this.width)
    const names = this.names
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string
      const v = record[name]
      if (this.kinds[i] === NUMERIC) {
        if (typeof v !== 'number' || !Number.isFinite(v)) {
          throw FG_ERR_REQUEST_INVALID(`${field}.${name}`, v === undefined ? 'is required (a number)' : 'must be a finite number')
        }
        let x = v
        if (this.logs[i] === 1) {
          if (x <= -1) throw FG_ERR_REQUEST_INVALID(`${field}.${name}`, 'must be > -1')
          x = Math.log1p(x)
        }
        const o = at + (this.offsets[i] as number)
        out[o] = (x - (this.means[i] as number)) / (this.stds[i] as number)
        // Finite as a double, ±Infinity as float32 (e.g. 1e308): the model would answer null.
        if (!Number.isFinite(out[o])) throw FG_ERR_REQUEST_INVALID(`${field}.${name}`, 'is beyond the FP32 range of the model input once encoded')
      } else {
        if (typeof v !== 'string') {
          throw FG_ERR_REQUEST_INVALID(`${field}.${name}`, v === undefined ? 'is required (a string)' : 'must be a string')
        }
        const j = (this.vocab[i] as Map<string, number>).get(v.trim())
        out[at + (this.offsets[i] as number) + (j ?? (this.unknown[i] as number))] = 1
      }
    }
  }
}
