// Request bodies of the protocol benchmark and profile, encoded once up front: the same rows
// (models/income/golden.json's encoded rows) as OIP JSON, as binary tensor data (as
// tritonclient.http sends it) and as a gRPC ModelInferRequest, each pinned to one variant.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as protoLoader from '@grpc/proto-loader'

export const W = 112
const encoded = (JSON.parse(readFileSync('models/income/golden.json', 'utf8')) as { encoded: number[][] }).encoded

function rows (n: number, offset: number): number[][] {
  return Array.from({ length: n }, (_, i) => encoded[(offset + i) % encoded.length]!)
}

function floats (n: number, offset: number): Float32Array {
  const f = new Float32Array(n * W)
  rows(n, offset).forEach((r, i) => { f.set(r, i * W) })
  return f
}

export interface HttpBody { body: Buffer, headers: Record<string, string> }

export function jsonBody (n: number, offset: number): HttpBody {
  const body = Buffer.from(JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [n, W], data: rows(n, offset) }] }))
  return { body, headers: { 'content-type': 'application/json' } }
}

export function binaryBody (n: number, offset: number): HttpBody {
  const f = floats(n, offset)
  // As tritonclient.http sends it: binary input, binary outputs, no Content-Type.
  const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [n, W], parameters: { binary_data_size: f.byteLength } }], parameters: { binary_data_output: true } }))
  return { body: Buffer.concat([header, Buffer.from(f.buffer)]), headers: { 'inference-header-content-length': String(header.length) } }
}

const def = protoLoader.loadSync(join('proto', 'grpc_predict_v2.proto'), { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true })
const inferMethod = (def['inference.GRPCInferenceService'] as Record<string, protoLoader.MethodDefinition<object, object>>).ModelInfer!

export function grpcBody (n: number, offset: number, variant: string): Buffer {
  return inferMethod.requestSerialize({ model_name: 'income', model_version: variant, inputs: [{ name: 'input', datatype: 'FP32', shape: [n, W] }], raw_input_contents: [Buffer.from(floats(n, offset).buffer)] })
}
