// OIP v2 answer pieces shared by the HTTP and gRPC transports: the raw bytes of the two
// outputs (FP32 scores, BYTES prediction ids) as the binary extension and raw_output_contents
// lay them out.
import type { InferJob } from '../batching/index.js'
import { predictionIdElementsLength, writePredictionIdElements } from '../prediction-id.js'

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

/** The 4-byte little-endian length prefix of a BYTES element, as latin1 characters (one per byte). */
function lengthPrefix (n: number): string {
  return String.fromCharCode(n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24)
}

/**
 * BYTES tensor written at `at`: each element a 4-byte little-endian length, then its bytes (ids
 * are ASCII). Returns the end. The prefixes and ids are joined into one latin1 string and written
 * at once: one write into the buffer costs less than two per id (a 64-row answer: ~2 µs against ~7).
 */
export function writeIdBytes (ids: string[], out: Buffer, at: number): number {
  let text = ''
  let len = -1
  let prefix = ''
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as string
    // Prediction ids all have one length: the prefix is made once per answer.
    if (id.length !== len) { len = id.length; prefix = lengthPrefix(len) }
    text += prefix + id
  }
  return at + out.write(text, at, 'latin1')
}

/** Bytes of a job's prediction ids as a BYTES tensor (writeJobIdBytes), without making the strings of assigned ids. */
export function jobIdBytesLength (job: InferJob): number {
  return job.idsAssigned === true ? predictionIdElementsLength(job.rows) : idBytesLength(job.ids)
}

/**
 * A job's prediction ids as a BYTES tensor at `at`; returns the end. Ids the gateway assigned
 * (InferJob.assignIds: predictionId(completedAtWall, firstIdSeq + i)) are written from those
 * numbers, never made as strings (a 64-row answer: about a third of writeIdBytes' cost); any
 * other job's ids from its strings.
 */
export function writeJobIdBytes (job: InferJob, out: Buffer, at: number): number {
  if (job.idsAssigned === true) return writePredictionIdElements(job.completedAtWall, job.firstIdSeq, job.rows, out, at)
  return writeIdBytes(job.ids, out, at)
}

/** A job's prediction ids as a BYTES tensor in a buffer of its own (writeJobIdBytes). */
export function jobIdBytes (job: InferJob): Buffer {
  const out = Buffer.allocUnsafe(jobIdBytesLength(job))
  writeJobIdBytes(job, out, 0)
  return out
}

/** The BYTES tensor of `ids` in a buffer of its own. */
export function idBytes (ids: string[]): Buffer {
  const out = Buffer.allocUnsafe(idBytesLength(ids))
  writeIdBytes(ids, out, 0)
  return out
}

export function round3 (x: number): number { return Math.round(x * 1000) / 1000 }
