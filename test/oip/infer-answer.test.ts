// The answer bytes both transports send: the BYTES tensor of prediction ids (each element a
// 4-byte little-endian length, then its bytes) against a reference written element by element,
// and the FP32 scores as a view of the job's scores.
import t from 'tap'
import { idBytes, idBytesLength, jobIdBytes, jobIdBytesLength, scoreBytes, writeIdBytes, writeJobIdBytes } from '../../src/oip/index.js'
import { predictionId, reservePredictionIds } from '../../src/prediction-id.js'
import { InferJob } from '../../src/batching/index.js'

/** The layout spelled out: one length, then one id, at a time. */
function reference (ids: string[]): Buffer {
  return Buffer.concat(ids.flatMap(id => {
    const len = Buffer.alloc(4)
    len.writeUInt32LE(id.length)
    return [len, Buffer.from(id, 'latin1')]
  }))
}

t.test('64 prediction ids: the same bytes as one length and one id at a time', async t => {
  const first = reservePredictionIds(64)
  const ids = Array.from({ length: 64 }, (_, i) => predictionId(Date.now(), first + i))
  t.same(idBytes(ids), reference(ids))
  t.equal(idBytesLength(ids), 64 * (4 + 26))
})

t.test('ids of different lengths, one of 300 characters (a length past one byte), and none', async t => {
  const ids = ['a', '', 'abc', 'x'.repeat(300), 'abc', 'Z']
  t.same(idBytes(ids), reference(ids))
  t.same(idBytes([]), Buffer.alloc(0))
})

t.test('written at an offset into a larger buffer: returns the end, leaves the bytes around alone', async t => {
  const ids = ['01JABCDEFGHJKMNPQRSTVWXYZ0', '01JABCDEFGHJKMNPQRSTVWXYZ1']
  const out = Buffer.alloc(7 + idBytesLength(ids) + 3, 0xee)
  const end = writeIdBytes(ids, out, 7)
  t.equal(end, 7 + idBytesLength(ids))
  t.same(out.subarray(7, end), reference(ids))
  t.same([...out.subarray(0, 7), ...out.subarray(end)], new Array(10).fill(0xee))
})

/** A job as the gateway's assignIds leaves it (n ids from predictionId(wall, first + i)), with the strings beside. */
function idJob (wall: number, first: number, n: number): InferJob {
  return { ids: Array.from({ length: n }, (_, i) => predictionId(wall, first + i)), completedAtWall: wall, firstIdSeq: first, rows: n, idsAssigned: true } as unknown as InferJob
}

/** A job whose ids came from elsewhere: written from its strings. */
function stringJob (ids: string[], wall: number, first: number): InferJob {
  return { ids, completedAtWall: wall, firstIdSeq: first, rows: ids.length, idsAssigned: false } as unknown as InferJob
}

t.test("a job's ids written from its numbers: the same bytes as from its strings, across blocks of 1024", async t => {
  const wall = Date.now()
  // Blocks of 1024 sequence numbers share their first 24 characters: runs that start inside a
  // block, end on its last number, cross one boundary, and span several.
  for (const [first, n] of [[5, 64], [1024 * 7 + 960, 64], [1024 * 9 + 1000, 50], [1024 * 3 - 1, 1], [1024 * 20 + 17, 2500]] as const) {
    const job = idJob(wall, first, n)
    t.same(jobIdBytes(job), reference(job.ids), `first ${first}, ${n} ids`)
  }
  const job = idJob(wall, 1024 * 5 + 1020, 8)
  const out = Buffer.alloc(5 + 8 * 30 + 2, 0xee)
  t.equal(writeJobIdBytes(job, out, 5), 5 + 8 * 30, 'returns the end')
  t.same(out.subarray(5, 5 + 8 * 30), reference(job.ids))
  t.same([...out.subarray(0, 5), ...out.subarray(5 + 8 * 30)], new Array(7).fill(0xee), 'leaves the bytes around alone')
})

t.test('ids that are not the numbers\' ids (set by other code, or none) are written from the strings', async t => {
  const wall = Date.now()
  const ids = idJob(wall, 100, 3).ids
  ids[2] = 'x'.repeat(5)
  t.same(jobIdBytes(stringJob(ids, wall, 100)), reference(ids), 'the last one differs')
  const other = idJob(wall, 100, 3).ids
  t.same(jobIdBytes(stringJob(other, wall + 1, 100)), reference(other), 'another wall time')
  t.same(jobIdBytes(idJob(wall, 100, 0)), Buffer.alloc(0), 'no ids')
})

t.test('scoreBytes is the first rows × 4 bytes of the scores, little-endian, not a copy', async t => {
  const scores = Float32Array.from([0.25, 0.5, 0.75, 1])
  const bytes = scoreBytes({ scores, rows: 3 } as unknown as InferJob)
  t.equal(bytes.length, 12)
  t.same([0, 4, 8].map(at => bytes.readFloatLE(at)), [0.25, 0.5, 0.75])
  scores[0] = 0.125
  t.equal(bytes.readFloatLE(0), 0.125, 'a view of the scores')
})

t.test('a real job given its ids by assignIds: bytes from the numbers, the strings made only when read, once', async t => {
  const wall = Date.now()
  const first = 1024 * 11 + 1000 // crosses a block of 1024
  const job = new InferJob({} as never, 64, new Float32Array(0), new Int16Array(0), false, 0, 0, null, 'r', 0)
  t.same(job.ids, [], 'no ids before assignIds')
  job.assignIds(wall, first)
  const expected = Array.from({ length: 64 }, (_, i) => predictionId(wall, first + i))
  t.equal(jobIdBytesLength(job), 64 * 30)
  t.same(jobIdBytes(job), reference(expected), 'the bytes of predictionId(wall, first + i)')
  t.same(job.ids, expected, 'the strings, when read')
  t.equal(job.ids, job.ids, 'made once: the same array on every read')
})
