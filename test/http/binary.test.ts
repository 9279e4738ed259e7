// OIP v2 as Triton's and KServe's clients send it: no Content-Type, octet-stream, gzip, the
// binary tensor data extension both ways, requested outputs, versioned routes; and every
// malformed binary body a coded 400 naming the fault, with the gateway serving after each.
import t from 'tap'
import { gzipSync, deflateSync } from 'node:zlib'
import { golden, startGateway } from '../helpers/gateway.js'

const g = golden()
const W = 112
const URL = '/v2/models/income/infer'

function floats (rows: number): Buffer {
  const f = new Float32Array(rows * W)
  for (let r = 0; r < rows; r++) f.set(g.encoded[r]!, r * W)
  return Buffer.from(f.buffer)
}

/** A binary-extension request body and its header length. */
function binaryBody (header: object, tail: Buffer): { payload: Buffer, headers: Record<string, string> } {
  const json = Buffer.from(JSON.stringify(header))
  return { payload: Buffer.concat([json, tail]), headers: { 'inference-header-content-length': String(json.length) } }
}

function input (rows: number, size: number | unknown = rows * W * 4, extra: object = {}): object {
  return { name: 'input', datatype: 'FP32', shape: [rows, W], parameters: { binary_data_size: size }, ...extra }
}

/** Splits a binary-extension answer into its JSON header and its tail. */
function splitAnswer (res: { headers: Record<string, unknown>, rawPayload: Buffer }): { header: any, tail: Buffer } {
  const n = Number(res.headers['inference-header-content-length'])
  return { header: JSON.parse(res.rawPayload.subarray(0, n).toString()), tail: res.rawPayload.subarray(n) }
}

t.test('binary tensors, content types, encodings and outputs', async t => {
  const { app } = await startGateway()
  t.teardown(() => app.close())
  const rows = 5
  const jsonRes = await app.inject({ method: 'POST', url: URL, payload: { inputs: [{ name: 'input', datatype: 'FP32', shape: [rows, W], data: g.encoded.slice(0, rows) }], parameters: { variant: 'full' } } })
  t.equal(jsonRes.statusCode, 200, jsonRes.body)
  const want = jsonRes.json().outputs[0].data as number[]

  // tritonclient.http's default: no Content-Type, binary input, binary_data_output.
  for (const [name, extra] of [['no content-type', {}], ['octet-stream', { 'content-type': 'application/octet-stream' }]] as const) {
    const b = binaryBody({ inputs: [input(rows)], parameters: { binary_data_output: true, variant: 'full' } }, floats(rows))
    const res = await app.inject({ method: 'POST', url: URL, payload: b.payload, headers: { ...b.headers, ...extra } })
    t.equal(res.statusCode, 200, `${name}: ${res.body.slice(0, 300)}`)
    t.equal(res.headers['content-type'], 'application/octet-stream')
    const { header, tail } = splitAnswer(res)
    t.same(header.outputs.map((o: any) => o.name), ['probability', 'prediction_id'])
    t.equal(header.outputs[0].parameters.binary_data_size, rows * 4)
    const scores = new Float32Array(tail.buffer.slice(tail.byteOffset, tail.byteOffset + rows * 4))
    t.same([...scores], want, `${name}: binary scores bit-identical to the JSON path`)
    const ids = tail.subarray(rows * 4)
    t.equal(header.outputs[1].parameters.binary_data_size, ids.length)
    t.equal(ids.readUInt32LE(0), 26, 'BYTES element: 4-byte length then the id')
    t.match(ids.subarray(4, 30).toString(), /^[0-9A-Z]{26}$/)
  }

  // Binary in, JSON out (the output asks binary_data false), and only the requested output.
  const b = binaryBody({ inputs: [input(rows)], outputs: [{ name: 'probability', parameters: { binary_data: false } }], parameters: { variant: 'full' } }, floats(rows))
  const mixed = await app.inject({ method: 'POST', url: URL, payload: b.payload, headers: b.headers })
  t.equal(mixed.statusCode, 200, mixed.body)
  t.equal(mixed.headers['inference-header-content-length'], undefined, 'no binary output: plain JSON')
  t.same(mixed.json().outputs.map((o: any) => o.name), ['probability'], 'outputs leaves prediction_id out')
  t.same(mixed.json().outputs[0].data, want)

  // An unaligned header length still gives the same bits (the tensor is copied once).
  const odd = { inputs: [input(rows)], parameters: { variant: 'full' }, id: 'x' }
  for (let pad = 0; pad < 4; pad++) {
    const bb = binaryBody({ ...odd, id: 'x'.repeat(pad + 1) }, floats(rows))
    const res = await app.inject({ method: 'POST', url: URL, payload: bb.payload, headers: bb.headers })
    t.same(res.json().outputs[0].data, want, `header length ${bb.headers['inference-header-content-length']}`)
  }

  // The tensor is not copied on its way to the batcher: the job's input is a view into the
  // request body, just past the JSON header (the batcher's copy into the batch buffer is its one copy).
  const { gw, app: app2 } = await startGateway()
  t.teardown(() => app2.close())
  const inputs: Float32Array[] = []
  const submit = gw.submit.bind(gw)
  gw.submit = (job) => { inputs.push(job.input); submit(job) }
  for (let pad = 0; pad < 4; pad++) {
    const bb = binaryBody({ ...odd, id: 'y'.repeat(pad + 1) }, floats(rows))
    const res = await app2.inject({ method: 'POST', url: URL, payload: bb.payload, headers: bb.headers })
    t.same(res.json().outputs[0].data, want)
    const input = inputs.at(-1)!
    t.equal(input.byteOffset % 4, 0)
    t.ok(input.buffer.byteLength >= input.byteLength + Number(bb.headers['inference-header-content-length']), `header ${bb.headers['inference-header-content-length']} bytes: the input is a view into the body`)
  }

  // Compressed bodies (tritonclient's request_compression_algorithm).
  const plain = Buffer.from(JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [rows, W], data: g.encoded.slice(0, rows) }], parameters: { variant: 'full' } }))
  for (const [enc, z] of [['gzip', gzipSync], ['deflate', deflateSync]] as const) {
    const res = await app.inject({ method: 'POST', url: URL, payload: z(plain), headers: { 'content-encoding': enc, 'content-type': 'application/json' } })
    t.equal(res.statusCode, 200, `${enc}: ${res.body.slice(0, 200)}`)
    t.same(res.json().outputs[0].data, want, `${enc} body`)
  }
  const gzBinary = binaryBody({ inputs: [input(rows)], parameters: { variant: 'full', binary_data_output: true } }, floats(rows))
  const gzRes = await app.inject({ method: 'POST', url: URL, payload: gzipSync(gzBinary.payload), headers: { ...gzBinary.headers, 'content-encoding': 'gzip' } })
  t.same([...new Float32Array(splitAnswer(gzRes).tail.buffer.slice(splitAnswer(gzRes).tail.byteOffset, splitAnswer(gzRes).tail.byteOffset + rows * 4))], want, 'gzip binary body')

  // Triton's timeout parameter (µs) is a budget: a tiny one expires in the queue or runs, never a 400.
  const timed = await app.inject({ method: 'POST', url: URL, payload: { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, W], data: g.encoded[0] }], parameters: { timeout: 30_000_000 } } })
  t.equal(timed.statusCode, 200, timed.body)

  // Metadata and readiness, versioned and with trailing slashes.
  const server = await app.inject({ method: 'GET', url: '/v2/' })
  t.equal(server.statusCode, 200)
  t.ok(server.json().extensions.includes('binary_tensor_data'))
  const meta = await app.inject({ method: 'GET', url: '/v2/models/income/versions/distilled' })
  t.equal(meta.statusCode, 200, meta.body)
  t.same(meta.json().versions, ['distilled'])
  t.same(meta.json().outputs.map((o: any) => o.name), ['probability', 'prediction_id'])
  t.equal((await app.inject({ method: 'GET', url: '/v2/models/income/versions/distilled/ready' })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/v2/models/income/ready/' })).statusCode, 200)
  const nope = await app.inject({ method: 'GET', url: '/v2/models/income/versions/nope/ready' })
  t.equal(nope.statusCode, 404)
  t.equal(nope.headers['content-type'], 'application/json', 'error content type exactly application/json (KServe reads only that)')
})

t.test('malformed binary bodies: a coded 400 naming the fault, then the gateway still serves', async t => {
  const { app } = await startGateway()
  t.teardown(() => app.close())
  const good = floats(2)
  const hdr = (h: object, tail: Buffer = good) => binaryBody(h, tail)
  const nan = Buffer.from(good)
  nan.writeFloatLE(Number.NaN, 4 * 7)
  const inf = Buffer.from(good)
  inf.writeFloatLE(Number.POSITIVE_INFINITY, 4 * (W + 3))
  const j = (o: object) => Buffer.from(JSON.stringify(o))
  type Case = { name: string, payload: Buffer, headers: Record<string, string>, status?: number, code: string, error: RegExp }
  const withLen = (name: string, payload: Buffer, len: string, error: RegExp): Case => ({ name, payload, headers: { 'inference-header-content-length': len }, code: 'FG_ERR_REQUEST_BINARY', error })
  const body = j({ inputs: [input(2)] })
  const cases: Case[] = [
    withLen('header length past the body', Buffer.concat([body, good]), String(body.length + good.length + 1), /Inference-Header-Content-Length header: is \d+ but the body has only/),
    withLen('header length negative', Buffer.concat([body, good]), '-5', /Inference-Header-Content-Length header: must be one non-negative integer/),
    withLen('header length not a number', Buffer.concat([body, good]), 'abc', /must be one non-negative integer/),
    withLen('header length fractional', Buffer.concat([body, good]), '12.5', /must be one non-negative integer/),
    withLen('header length absurd', Buffer.concat([body, good]), '99999999999999999999', /must be one non-negative integer/),
    withLen('header length zero', Buffer.concat([body, good]), '0', /is 0: the JSON header cannot be empty/),
    { ...withLen('header length cuts the JSON', Buffer.concat([body, good]), String(body.length - 3), /malformed JSON in the first/), code: 'FG_ERR_REQUEST_INVALID' },
    { name: 'truncated tensor', ...hdr({ inputs: [input(2)] }, good.subarray(0, good.length - 10)), code: 'FG_ERR_REQUEST_BINARY', error: /binary_data_size: is \d+ bytes but only \d+ follow the JSON header \(truncated/ },
    { name: 'size not shape × datatype (short)', ...hdr({ inputs: [input(2, 2 * W * 4 - 4)] }, good.subarray(0, 2 * W * 4 - 4)), code: 'FG_ERR_REQUEST_BINARY', error: /has 892 bytes, shape \[2, 112\] × FP32 needs 896/ },
    { name: 'size not shape × datatype (long)', ...hdr({ inputs: [input(1, 2 * W * 4)] }), code: 'FG_ERR_REQUEST_BINARY', error: /has 896 bytes, shape \[1, 112\] × FP32 needs 448/ },
    { name: 'trailing bytes', ...hdr({ inputs: [input(2)] }, Buffer.concat([good, Buffer.alloc(8)])), code: 'FG_ERR_REQUEST_BINARY', error: /body: 8 bytes follow the binary tensors/ },
    { name: 'binary_data_size negative', ...hdr({ inputs: [input(2, -4)] }), code: 'FG_ERR_REQUEST_BINARY', error: /binary_data_size: must be a non-negative integer/ },
    { name: 'binary_data_size fractional', ...hdr({ inputs: [input(2, 1.5)] }), code: 'FG_ERR_REQUEST_BINARY', error: /binary_data_size: must be a non-negative integer/ },
    { name: 'binary_data_size a string', ...hdr({ inputs: [input(2, '896')] }), code: 'FG_ERR_REQUEST_BINARY', error: /binary_data_size: must be a non-negative integer/ },
    { name: 'binary_data_size absurd', ...hdr({ inputs: [input(2, 2 ** 60)] }), code: 'FG_ERR_REQUEST_BINARY', error: /binary_data_size: must be a non-negative integer/ },
    { name: 'binary_data_size without the header', payload: j({ inputs: [input(2)] }), headers: { 'content-type': 'application/json' }, code: 'FG_ERR_REQUEST_BINARY', error: /no Inference-Header-Content-Length header/ },
    { name: 'bytes but no binary_data_size', ...hdr({ inputs: [{ name: 'input', datatype: 'FP32', shape: [2, W], data: g.encoded.slice(0, 2) }] }), code: 'FG_ERR_REQUEST_BINARY', error: /follow the JSON header but no input has parameters.binary_data_size/ },
    { name: 'both data and binary_data_size', ...hdr({ inputs: [input(2, 896, { data: g.encoded.slice(0, 2) })] }), code: 'FG_ERR_REQUEST_BINARY', error: /has both data and parameters.binary_data_size/ },
    { name: 'NaN in the tensor', ...hdr({ inputs: [input(2)] }, nan), code: 'FG_ERR_REQUEST_BINARY', error: /element 7 \(row 0, column 7\) is not a finite number/ },
    { name: 'Infinity in the tensor', ...hdr({ inputs: [input(2)] }, inf), code: 'FG_ERR_REQUEST_BINARY', error: /row 1, column 3\) is not a finite number/ },
    { name: 'datatype FP64', ...hdr({ inputs: [{ ...input(2) as object, datatype: 'FP64' }] }), code: 'FG_ERR_REQUEST_INVALID', error: /inputs\[0\]\.datatype: must be "FP32"/ },
    { name: 'shape row count absurd', ...hdr({ inputs: [{ ...input(2) as object, shape: [1e9, W] }] }), code: 'FG_ERR_REQUEST_INVALID', error: /inputs\[0\]\.shape\[0\]: must be between 1 and/ },
    { name: 'binary_data_output not a boolean', ...hdr({ inputs: [input(2)], parameters: { binary_data_output: 'yes' } }), code: 'FG_ERR_REQUEST_INVALID', error: /parameters.binary_data_output: must be true or false/ },
    { name: 'output binary_data not a boolean', ...hdr({ inputs: [input(2)], outputs: [{ name: 'probability', parameters: { binary_data: 1 } }] }), code: 'FG_ERR_REQUEST_INVALID', error: /outputs\[0\]\.parameters\.binary_data: must be true or false/ },
    { name: 'unknown output name', ...hdr({ inputs: [input(2)], outputs: [{ name: 'logits' }] }), code: 'FG_ERR_REQUEST_INVALID', error: /outputs\[0\]\.name: unknown output "logits"/ },
    { name: 'output requested twice', ...hdr({ inputs: [input(2)], outputs: [{ name: 'probability' }, { name: 'probability' }] }), code: 'FG_ERR_REQUEST_INVALID', error: /outputs\[1\]\.name: "probability" is requested twice/ },
    { name: 'empty body', payload: Buffer.alloc(0), headers: { 'content-type': 'application/octet-stream' }, code: 'FG_ERR_REQUEST_INVALID', error: /body: is empty/ },
    { name: 'no body, no content-type', payload: Buffer.alloc(0), headers: {}, code: 'FG_ERR_REQUEST_INVALID', error: /body: is empty/ },
    { name: 'corrupt gzip', payload: Buffer.from('not gzip at all'), headers: { 'content-encoding': 'gzip' }, code: 'FG_ERR_REQUEST_ENCODING_CORRUPT', error: /body: not valid gzip data/ },
    { name: 'gzip bomb', payload: gzipSync(Buffer.alloc(5 * 1024 * 1024, 0x20)), headers: { 'content-encoding': 'gzip' }, status: 413, code: 'FG_ERR_REQUEST_INFLATED_TOO_LARGE', error: /gzip data inflates past 4194304 bytes/ },
    { name: 'unknown content-encoding', payload: body, headers: { 'content-encoding': 'br' }, status: 415, code: 'FG_ERR_REQUEST_ENCODING', error: /content-encoding header: unsupported "br"/ },
    { name: 'text/plain', payload: body, headers: { 'content-type': 'text/plain' }, status: 415, code: 'FG_ERR_REQUEST_MEDIA_TYPE', error: /content-type header: unsupported "text\/plain"/ }
  ]
  t.ok(cases.filter(c => (c.status ?? 400) === 400).length >= 20, 'at least 20 malformed bodies answered 400')
  for (const c of cases) {
    const res = await app.inject({ method: 'POST', url: URL, payload: c.payload, headers: c.headers })
    t.equal(res.statusCode, c.status ?? 400, `${c.name}: ${res.body.slice(0, 200)}`)
    t.equal(res.headers['content-type'], 'application/json', `${c.name}: JSON error`)
    t.equal(res.json().code, c.code, `${c.name}: code`)
    t.match(res.json().error, c.error, c.name)
    const ok = await app.inject({ method: 'POST', url: URL, ...binaryBody({ inputs: [input(2)] }, good) })
    if (ok.statusCode !== 200) t.fail(`${c.name}: gateway stopped serving: ${ok.body}`)
  }
})
