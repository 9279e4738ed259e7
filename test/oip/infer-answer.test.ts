// The answer bytes both transports send: the BYTES tensor of prediction ids (each element a
// 4-byte little-endian length, then its bytes) against a reference written element by element,
// and the FP32 scores as a view of the job's scores.
import t from 'tap'
import { idBytes, idBytesLength, scoreBytes, writeIdBytes } from '../../src/oip/index.js'
import { predictionId, reservePredictionIds } from '../../src/prediction-id.js'
import type { InferJob } from '../../src/batching/index.js'

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

t.test('scoreBytes is the first rows × 4 bytes of the scores, little-endian, not a copy', async t => {
  const scores = Float32Array.from([0.25, 0.5, 0.75, 1])
  const bytes = scoreBytes({ scores, rows: 3 } as unknown as InferJob)
  t.equal(bytes.length, 12)
  t.same([0, 4, 8].map(at => bytes.readFloatLE(at)), [0.25, 0.5, 0.75])
  scores[0] = 0.125
  t.equal(bytes.readFloatLE(0), 0.125, 'a view of the scores')
})
