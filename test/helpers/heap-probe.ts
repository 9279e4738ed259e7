// Run with --expose-gc (test/events/event-buffer-heap.test.ts spawns it): a real gateway whose
// Kafka broker is unreachable answers EVENTS predictions, all of them buffered for Kafka, and
// prints the heap they retain per event as JSON. Nothing but the buffer and the feedback store
// should hold on to an answered prediction.
import { createServer } from 'node:net'
import { golden, startGateway } from './gateway.js'

const EVENTS = Number(process.env.EVENTS ?? 50_000)
const ROWS = 500

async function closedPort (): Promise<number> {
  // A port that was free a moment ago: connections to it are refused, so Kafka is unreachable.
  const srv = createServer()
  await new Promise<void>(resolve => srv.listen(0, '127.0.0.1', resolve))
  const port = (srv.address() as { port: number }).port
  await new Promise<void>(resolve => srv.close(() => { resolve() }))
  return port
}

function gc (): void {
  const collect = (globalThis as { gc?: () => void }).gc
  if (collect === undefined) throw new Error('run with --expose-gc')
  for (let i = 0; i < 4; i++) collect()
}

const { gw, app } = await startGateway({ kafka: { brokers: [`127.0.0.1:${await closedPort()}`] }, events: { buffer_size: EVENTS + 10 * ROWS, flush_timeout_ms: 100 } })
const g = golden()
const data = Array.from({ length: ROWS }, (_, i) => g.encoded[i % g.encoded.length]!)
const payload = { inputs: [{ name: 'input', datatype: 'FP32', shape: [ROWS, data[0]!.length], data }], parameters: { group: { sex: 'Female', race: 'White' } } }
const infer = async (): Promise<void> => {
  const res = await app.inject({ method: 'POST', url: '/v2/models/income/infer', payload })
  if (res.statusCode !== 200) throw new Error(`infer answered ${res.statusCode}: ${res.body}`)
}
// Warm up: JIT, lazily built lanes and metric children, the first buffered events.
for (let i = 0; i < 4; i++) await infer()
const backlog0 = gw.events!.publisher.backlog
gc()
const before = process.memoryUsage().heapUsed
for (let i = 0; i < EVENTS / ROWS; i++) await infer()
gc()
const after = process.memoryUsage().heapUsed
const buffered = gw.events!.publisher.backlog - backlog0
console.log(JSON.stringify({ events: buffered, bytes_per_event: (after - before) / buffered }))
await app.close()
