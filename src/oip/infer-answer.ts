// OIP v2 answer pieces shared by the HTTP and gRPC transports: the raw bytes of the two
// outputs (FP32 scores, BYTES prediction ids) as the binary extension and raw_output_contents
// lay them out.
import type { InferJob } from '../batching/index.js'

/** The scores' little-endian FP32 bytes, without copying. */
export function scoreBytes (job: InferJob): Buffer {
  const s = job.scores
  return Buffer.from(s.buffer, s.byteOffset, job.rows * 4)
}

/** BYTES tensor: each element a 4-byte little-endian length, then its bytes (ids are ASCII). */
export function idBytes (ids: string[]): Buffer {
  let size = 0
  for (const id of ids) size += 4 + id.length
  const out = Buffer.allocUnsafe(size)
  let at = 0
  for (const id of ids) {
    out.writeUInt32LE(id.length, at)
    out.write(id, at + 4, 'latin1')
    at += 4 + id.length
  }
  return out
}

export function round3 (x: number): number { return Math.round(x * 1000) / 1000 }
