// Issue 14, defect 8: a client that sent its headers and dripped its body a byte every 10 s held
// its connection indefinitely. End to end against a real gateway process: the request timeout
// cuts a dripped body, and the connection cap refuses connections beyond it.
import { connect, type Socket } from 'node:net'
import t from 'tap'
import { serveCli, until } from '../helpers/process.js'

function open (port: number): { sock: Socket, closed: () => boolean, received: () => string } {
  let closed = false
  let received = ''
  const sock = connect(port, '127.0.0.1')
  sock.on('data', (d: Buffer) => { received += d.toString() })
  sock.on('close', () => { closed = true })
  sock.on('error', () => {})
  return { sock, closed: () => closed, received: () => received }
}

t.test('a dripped body is cut by http.request_timeout_ms; connections beyond http.max_connections are refused', async t => {
  const s = await serveCli({ FAIRGATE_HTTP_REQUEST_TIMEOUT_MS: '1000', FAIRGATE_HTTP_HEADERS_TIMEOUT_MS: '500' })
  t.teardown(() => { s.child.kill('SIGKILL') })
  const port = Number(new URL(s.url).port)

  const drip = open(port)
  drip.sock.write('POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{')
  let dripped = 0
  const timer = setInterval(() => { if (!drip.closed()) { drip.sock.write(' '); dripped++ } }, 100)
  t.teardown(() => { clearInterval(timer) })
  await until('the dripping connection to be closed', drip.closed, 30_000)
  clearInterval(timer)
  t.ok(dripped < 1000, `closed before the body was complete (${dripped} bytes dripped)`)
  t.match(drip.received(), /^HTTP\/1\.1 408/, 'with a 408')

  // Three idle connections fill the cap; a fourth is closed at once. (Default timeouts here:
  // the short ones above would close the idle connections too.)
  const capped = await serveCli({ FAIRGATE_HTTP_MAX_CONNECTIONS: '3' })
  t.teardown(() => { capped.child.kill('SIGKILL') })
  const cport = Number(new URL(capped.url).port)
  const idle = [open(cport), open(cport), open(cport)]
  t.teardown(() => { for (const c of idle) c.sock.destroy() })
  await new Promise(resolve => setTimeout(resolve, 200))
  const extra = open(cport)
  await until('the connection beyond the cap to be closed', extra.closed, 10_000)
  // The readiness probe's keep-alive connection (global fetch) may hold one of the three places.
  t.ok(idle.filter(c => !c.closed()).length >= 2, 'the ones within the cap stay open')
  t.equal(extra.received(), '', 'refused without an answer')
})
