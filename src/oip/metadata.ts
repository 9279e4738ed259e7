// OIP v2 server and model metadata and readiness, the same over HTTP and gRPC.
import type { ModelRuntime } from '../models/index.js'
import { PREDICTION_ID_OUTPUT } from './infer-request.js'

/** What metadata and readiness read: the gateway's HealthApi has this shape. */
export interface ModelState {
  readonly draining: boolean
  model: (name: string) => ModelRuntime
  active: (model: string) => string | undefined
}

/** Extensions this server implements, as GET /v2 and ServerMetadata list them. */
export const EXTENSIONS = ['binary_tensor_data', 'parameters']

export function modelMetadata (state: ModelState, name: string, version: string | undefined): object {
  const m = state.model(name)
  if (version !== undefined) m.variant(version) // 404 for an unknown version
  return {
    name: m.name,
    versions: version !== undefined ? [version] : m.variants.map(v => v.name),
    platform: 'onnxruntime_onnx',
    inputs: [{ name: m.manifest.input.name, datatype: 'FP32', shape: [-1, m.width] }],
    outputs: [{ name: m.manifest.output.name, datatype: 'FP32', shape: [-1, 1] }, { name: PREDICTION_ID_OUTPUT, datatype: 'BYTES', shape: [-1] }],
    parameters: {
      threshold: m.manifest.threshold,
      features: m.manifest.features.map(f => f.kind === 'numeric' ? { name: f.name, kind: f.kind } : { name: f.name, kind: f.kind, values: f.vocabulary }),
      groups: m.manifest.groups,
      active_variant: state.active(m.name),
      variants: m.variants.map(v => ({ name: v.name, state: v.state, provider: v.provider, error: v.error }))
    }
  }
}

/** Ready: the gateway takes requests and the model (or the named version) can serve. */
export function modelReady (state: ModelState, name: string, version: string | undefined): boolean {
  const m = state.model(name)
  const ready = version === undefined ? m.ready : m.variant(version).state === 'ready'
  return ready && !state.draining
}
