// The model as a user would load it by hand: the manifest's feature schema for preprocessing
// (the same encoder fairgate uses, so both sides do identical work per row), one onnxruntime
// session per variant file, single-threaded like fairgate's default (intra_op_threads 1).
import { join } from 'node:path'
import ort from 'onnxruntime-node'
import { FeatureEncoder } from '../../src/models/encoder.js'
import { readManifest } from '../../src/models/manifest.js'

export interface HandModel {
  encoder: FeatureEncoder
  width: number
  inputName: string
  outputName: string
  threshold: number
  sessions: Map<string, ort.InferenceSession>
}

export async function loadHandModel (dir = 'models/income', variants?: string[]): Promise<HandModel> {
  const manifest = readManifest(join(dir, 'model.yaml'))
  const sessions = new Map<string, ort.InferenceSession>()
  for (const v of manifest.variants) {
    if (variants !== undefined && !variants.includes(v.name)) continue
    sessions.set(v.name, await ort.InferenceSession.create(join(dir, v.file), {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      executionProviders: ['cpu']
    }))
  }
  const encoder = new FeatureEncoder(manifest.features)
  return { encoder, width: encoder.width, inputName: manifest.input.name, outputName: manifest.output.name, threshold: manifest.threshold, sessions }
}

/** Scores raw records in one batch (used by the bench to pick high-scoring rows, not per request). */
export async function scoreRecords (m: HandModel, variant: string, records: Array<Record<string, unknown>>): Promise<Float32Array> {
  const session = m.sessions.get(variant)
  if (session === undefined) throw new Error(`variant ${variant} not loaded`)
  const out = new Float32Array(records.length)
  const CHUNK = 1024
  for (let at = 0; at < records.length; at += CHUNK) {
    const n = Math.min(CHUNK, records.length - at)
    const input = new Float32Array(n * m.width)
    for (let i = 0; i < n; i++) m.encoder.encode(records[at + i]!, input, i * m.width, 'features')
    const res = await session.run({ [m.inputName]: new ort.Tensor('float32', input, [n, m.width]) })
    out.set(res[m.outputName]!.data as Float32Array, at)
  }
  return out
}
