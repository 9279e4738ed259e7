// OIP v2 answer pieces shared by the HTTP and gRPC transports: the raw bytes of the two
// outputs (FP32 scores, BYTES prediction ids) as the binary extension and raw_output_contents
// lay them out.
import type { InferJob } from '../batching/index.js'

/** The scores' little-endian FP32 bytes, without copying. */
export function scoreBytes (job: InferJob): Buffer {
  const s = job.scores
  return Buffer.from(s.buffer, s.byteOffset, job.rows * 4)
}

/** Bytes of the BYTES tensor of `ids` (idBytes, writeIdBytes). */
export function idBytesLength (ids: string[]): number {
  let size = 0
  for (let i = 0; i < ids.length; i++) size += 4 + (ids[i] as string).length
  return size
}

/** BYTES tensor written at `at`: each element a 4-byte little-endian length, then its bytes (ids are ASCII). Returns the end. */
export function writeIdBytes (ids: string[], out: Buffer, at: number): number {
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as string
    out.writeUInt32LE(id.length, at)
    out.write(id, at + 4, 'latin1')
    at += 4 + id.length
  }
  return at
}

/** The BYTES tensor of `ids` in a buffer of its own. */
export function idBytes (ids: string[]): Buffer {
  const out = Buffer.allocUnsafe(idBytesLength(ids))
  writeIdBytes(ids, out, 0)
  return out
}

export function round3 (x: number): number { return Math.round(x * 1000) / 1000 }
