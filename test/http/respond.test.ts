// The binary answer's JSON header is written as a template: it must be the very text
// JSON.stringify gives for the answer object, for every mix of binary and JSON outputs, and for
// ids and names that JSON has to escape.
import t from 'tap'
import { binaryHeader } from '../../src/http/respond.js'
import { OUT_ID, OUT_ID_RAW, OUT_SCORE, OUT_SCORE_RAW, PREDICTION_ID_OUTPUT } from '../../src/oip/index.js'
import type { InferJob } from '../../src/batching/index.js'

function job (requestId: string, queueMs: number): InferJob {
  return {
    rows: 3,
    scores: Float32Array.from([0.1, 0.5, 0.9]),
    ids: ['01A', '01B', 'a"b\\c'],
    model: { name: 'income', manifest: { output: { name: 'probabilities' } } },
    variant: { name: 'dis"tilled' },
    requestId,
    queueMs,
    batchSize: 64
  } as unknown as InferJob
}

/** The object form, as the answer was built before the template. */
function expected (j: InferJob, bits: number, idSize: number): string {
  const outputs: object[] = []
  if ((bits & OUT_SCORE) !== 0) {
    const o: Record<string, unknown> = { name: 'probabilities', datatype: 'FP32', shape: [3, 1] }
    if ((bits & OUT_SCORE_RAW) !== 0) o.parameters = { binary_data_size: 12 }
    else o.data = [...j.scores]
    outputs.push(o)
  }
  if ((bits & OUT_ID) !== 0) {
    const o: Record<string, unknown> = { name: PREDICTION_ID_OUTPUT, datatype: 'BYTES', shape: [3] }
    if ((bits & OUT_ID_RAW) !== 0) o.parameters = { binary_data_size: idSize }
    else o.data = j.ids
    outputs.push(o)
  }
  return JSON.stringify({ model_name: j.model.name, model_version: j.variant!.name, id: j.requestId, parameters: { queue_ms: Math.round(j.queueMs * 1000) / 1000, batch_size: j.batchSize }, outputs })
}

t.test('the template equals JSON.stringify of the answer object', async t => {
  const mixes = [
    OUT_SCORE | OUT_SCORE_RAW | OUT_ID | OUT_ID_RAW,
    OUT_SCORE | OUT_SCORE_RAW,
    OUT_ID | OUT_ID_RAW,
    OUT_SCORE | OUT_SCORE_RAW | OUT_ID,
    OUT_SCORE | OUT_ID | OUT_ID_RAW
  ]
  const cases = [['req-1', 0.1234], ['quote " back \\ slash, é, \u2028', 12.5], ['', 0], ['x', 1e-7]] as const
  for (let c = 0; c < cases.length; c++) {
    const [id, q] = cases[c]!
    const j = job(id, q)
    for (const bits of mixes) {
      const text = binaryHeader(j, bits, 21)
      t.equal(text, expected(j, bits, 21), `bits ${bits}, id case ${c}`)
    }
  }
})

t.test('a queue time that is not a number is null, as JSON.stringify writes it', async t => {
  t.match(binaryHeader(job('r', NaN), OUT_SCORE | OUT_SCORE_RAW, 0), /"queue_ms":null,/)
})
