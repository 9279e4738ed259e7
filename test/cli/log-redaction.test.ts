// Issue 14, defect 5: fastify's "client error" lines (trace level) logged the raw request as a
// byte array; decoded, they held bodies with group labels. End to end at trace level: requests
// with labels, then malformed HTTP in the same packet; no decoded log byte holds a label.
import { connect } from 'node:net'
import t from 'tap'
import { evalRows } from '../helpers/gateway.js'
import { serveCli, until } from '../helpers/process.js'

const rows = evalRows()
const LABELS = ['Female', 'Amer-Indian-Eskimo', 'Black']

/** The log text plus every byte array in it decoded (pino writes Buffers as {"type":"Buffer","data":[…]}). */
function decoded (out: string): string {
  let text = out
  for (const m of out.matchAll(/"data":\[([\d,]+)\]/g)) text += '\n' + Buffer.from(m[1]!.split(',').map(Number)).toString('latin1')
  return text
}

/** Writes bytes on a fresh connection and waits until the server closes it. */
async function sendRaw (port: number, bytes: string): Promise<void> {
  await new Promise<void>(resolve => {
    const sock = connect(port, '127.0.0.1', () => { sock.end(bytes) })
    sock.on('data', () => {})
    sock.on('close', () => { resolve() })
    sock.on('error', () => { resolve() })
  })
}

t.test('at trace level no log line holds a group label, not even in a raw packet', async t => {
  const s = await serveCli({ FAIRGATE_LOG_LEVEL: 'trace' })
  t.teardown(() => { s.child.kill('SIGKILL') })
  const body = JSON.stringify({ model: 'income', features: rows[0]!.features, group: { sex: 'Female', race: 'Amer-Indian-Eskimo' } })
  const r = await fetch(`${s.url}/v1/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  t.equal(r.status, 200)
  // One packet: a request with labels in its body, then bytes the parser refuses.
  const port = Number(new URL(s.url).port)
  const packet = `POST /v1/feedback HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}` +
    `POST /v1/predict HTTP/1.1\r\nHost: x\r\nX-Group: Black\r\nContent-Length: ${body.length}\r\n\r\n${body}\r\n\u0000BROKEN\u0001 Female\r\n\r\n`
  await sendRaw(port, packet)
  // Both framings at once: refused by the parser with the body bytes in the packet.
  const raw = 'Transfer-Encoding: chunked\r\nContent-Length: 5\r\n'
  await sendRaw(port, `POST /v1/predict HTTP/1.1\r\nHost: x\r\n${raw}\r\n{"sex":"Female"}\r\n\r\n`)
  await until('the client error line', () => s.output().includes('client error'), 10_000)
  const text = decoded(s.output())
  for (const label of LABELS) t.notOk(text.includes(label), `"${label}" appears in no log line, decoded`)
})
