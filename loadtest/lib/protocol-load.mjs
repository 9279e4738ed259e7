// One load generator of bench-protocol.ts and profile-protocol.ts, in its own worker thread
// (plain JS: no loader), so the client's own cost (grpc-js especially) is spread over threads.
// workerData: { kind: 'http' | 'grpc', target, path (HTTP), bodies: [{ body: Uint8Array, headers }], concurrency, seconds }
//
// HTTP is a minimal keep-alive HTTP/1.1 client over raw sockets, like wrk: each request's bytes
// (request line, headers, body) are built once up front and written whole, and an answer is
// only framed (status, Content-Length, that many bytes), never decoded. A general client
// (undici) spent 300–900 µs of CPU per 64-row request here, as much as the gateway: the load
// generator, not the gateway, then set the figures, and it cost more for the larger JSON bodies.
import { connect } from 'node:net'
import { parentPort, workerData } from 'node:worker_threads'
import * as grpc from '@grpc/grpc-js'

const { kind, target, path, bodies, concurrency, seconds } = workerData
let requests = 0
let errors = 0
let i = 0
const end = Date.now() + seconds * 1000
const t0 = Date.now()

const CRLF2 = Buffer.from('\r\n\r\n')

/** One keep-alive connection sending `requests` (pre-encoded) one after another until `end`. */
function httpConnection (url, wire) {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname)
    socket.setNoDelay(true)
    let pending = Buffer.alloc(0)
    let need = -1 // bytes of the current answer (head + body), once its head is read
    let status = 0
    const next = () => {
      if (Date.now() >= end) { socket.end(); resolve(); return }
      socket.write(wire[i++ % wire.length])
    }
    socket.on('connect', next)
    socket.on('error', reject)
    socket.on('data', (chunk) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
      for (;;) {
        if (need < 0) {
          const head = pending.indexOf(CRLF2)
          if (head < 0) return
          const text = pending.toString('latin1', 0, head)
          status = Number(text.slice(9, 12))
          const m = /\r\ncontent-length:\s*(\d+)/i.exec(text)
          if (m === null) { reject(new Error(`answer without Content-Length: ${text.slice(0, 200)}`)); socket.destroy(); return }
          need = head + 4 + Number(m[1])
        }
        if (pending.length < need) return
        pending = pending.subarray(need)
        need = -1
        if (status === 200) requests++
        else errors++
        next()
      }
    })
  })
}

if (kind === 'http') {
  const url = new URL(target)
  const wire = bodies.map(b => {
    const body = Buffer.from(b.body.buffer, b.body.byteOffset, b.body.byteLength)
    const headers = Object.entries(b.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join('')
    return Buffer.concat([Buffer.from(`POST ${path} HTTP/1.1\r\nhost: ${url.host}\r\ncontent-length: ${body.length}\r\n${headers}\r\n`, 'latin1'), body])
  })
  await Promise.all(Array.from({ length: concurrency }, () => httpConnection(url, wire)))
} else {
  const client = new grpc.Client(target, grpc.credentials.createInsecure())
  const id = (x) => x
  const one = (b) => new Promise(resolve => {
    client.makeUnaryRequest('/inference.GRPCInferenceService/ModelInfer', id, id, b, (err) => { resolve(err === null) })
  })
  const payloads = bodies.map(b => Buffer.from(b.body.buffer, b.body.byteOffset, b.body.byteLength))
  const worker = async () => {
    while (Date.now() < end) {
      if (await one(payloads[i++ % payloads.length])) requests++
      else errors++
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  client.close()
}
parentPort.postMessage({ requests, errors, seconds: (Date.now() - t0) / 1000 })
