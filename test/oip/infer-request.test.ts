// Raw FP32 tensor bytes into the input (the binary extension's tensor, gRPC's
// raw_input_contents): every finite value passes and every Inf or NaN is found, wherever it
// is (the check takes four words a step, then the rest one by one), with its row and column.
import t from 'tap'
import { floatsFromBytes } from '../../src/oip/index.js'
import { FairgateError } from '../../src/errors.js'

const W = 7

function bytesOf (values: number[], offset = 0): Uint8Array {
  const buf = new Uint8Array(offset + values.length * 4)
  const view = new DataView(buf.buffer)
  values.forEach((v, i) => { view.setFloat32(offset + i * 4, v, true) })
  return buf.subarray(offset)
}

function rowsOf (rows: number): number[] {
  return Array.from({ length: rows * W }, (_, i) => (i % 5 - 2) * 1.5 ** (i % 40))
}

/** The FG_ERR_REQUEST_BINARY of floatsFromBytes, or null when it passes. */
function fault (bytes: Uint8Array, rows: number): FairgateError | null {
  try {
    floatsFromBytes(bytes, rows, W, 'inputs[0]')
    return null
  } catch (err) {
    return err as FairgateError
  }
}

t.test('finite values pass, the extremes too: largest, smallest subnormal, -0, negative', async t => {
  const values = [3.4028234663852886e38, -3.4028234663852886e38, 1.401298464324817e-45, -0, -1, 0, 1e-40]
  const out = floatsFromBytes(bytesOf(values), 1, W, 'inputs[0]')
  t.same([...out], values.map(v => Math.fround(v)))
})

t.test('an aligned slice is used in place; an unaligned one is copied once, with the same values', async t => {
  const values = rowsOf(3)
  const aligned = bytesOf(values, 8)
  const a = floatsFromBytes(aligned, 3, W, 'inputs[0]')
  t.equal(a.buffer, aligned.buffer, 'a view of the body')
  const unaligned = bytesOf(values, 3)
  const u = floatsFromBytes(unaligned, 3, W, 'inputs[0]')
  t.not(u.buffer, unaligned.buffer, 'a copy')
  t.same([...u], [...a])
})

t.test('NaN, Infinity and -Infinity are found at every position, first one named', async t => {
  const rows = 3 // 21 words: five steps of four and one word left over
  for (const bad of [NaN, Infinity, -Infinity]) {
    for (let e = 0; e < rows * W; e++) {
      const values = rowsOf(rows)
      values[e] = bad
      if (e + 5 < values.length) values[e + 5] = NaN // a later one is not the one named
      const err = fault(bytesOf(values), rows)
      t.equal(err?.code, 'FG_ERR_REQUEST_BINARY')
      t.equal(err?.message, `inputs[0]: element ${e} (row ${Math.floor(e / W)}, column ${e % W}) is not a finite number`)
    }
  }
})

t.test('a NaN with payload bits and the sign bit set is not finite either', async t => {
  const buf = bytesOf(rowsOf(1))
  new DataView(buf.buffer).setUint32(4 * 6, 0xffc00001, true)
  t.match(fault(buf, 1)?.message, /element 6 \(row 0, column 6\)/)
})

t.test('a byte count other than rows × width × 4 names both', async t => {
  t.equal(fault(bytesOf(rowsOf(2)).subarray(0, 55), 2)?.message, 'inputs[0]: has 55 bytes, shape [2, 7] × FP32 needs 56')
})
