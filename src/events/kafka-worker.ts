// The Kafka worker thread: owns the kafkajs client (EventProducer, kafka-producer.ts) and turns
// each WireBatch into records, so record encoding, headers, CRC32C, murmur2 partitioning, socket
// writes and the garbage they make stay off the gateway's main thread. It holds no state that
// matters for delivery: the ring, the one-outstanding-send rule, retries, backoff, stall
// detection and every metric live in KafkaPublisher on the main thread, which drives this
// worker by RPC (kafka-transport.ts). If this thread dies, the main thread starts a new one
// and re-sends the batch that was in flight.
import { parentPort, workerData } from 'node:worker_threads'
import { ContentError, EventProducer } from './kafka-producer.js'
import type { FromWorker, ToWorker, WorkerInit } from './wire.js'

const port = parentPort
if (port === null) throw new Error('kafka-worker.ts must run in a worker thread')

const post = (m: FromWorker): void => { port.postMessage(m) }
const producer = new EventProducer(workerData as WorkerInit, (level, obj, msg) => { post({ t: 'log', level, obj, msg }) })

port.on('message', (m: ToWorker) => {
  const p = m.t === 'send' ? producer.send(m.batch) : m.t === 'connect' ? producer.connect() : producer.disconnect()
  p.then(() => { post({ t: 'done', id: m.id }) }, (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err)
    post(err instanceof ContentError ? { t: 'error', id: m.id, message, content: err.refusal } : { t: 'error', id: m.id, message })
  })
})
