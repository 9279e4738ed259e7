// The prediction producer of loadtest/bench-shard.ts, run as a child process of it
// (startPacedProducer), so that making and sending events never shares an event loop or a
// timer with the shards it measures: in the bench's own process it reached 2,500 events/s of
// the 20,000 asked, and its late ticks were counted as the shards' lag.
//
// Open loop: event i is due at t0 + i / rate, whatever the broker or the shards do; every tick
// the events due by then are built and sent in one batch (several sends may be outstanding), so
// a slow send makes the next batch larger instead of slowing the offered rate. rate 0 sends
// `count` events as fast as the sends allow (filling a topic). Events are made as the gateway's
// PredictionEncoder writes them (value and CloudEvents headers), from a ring of pre-built tails
// (variant, score, groups, …): per event only the id (a fresh prediction id, so each one is
// distinct) and the time change. kafkajs is the gateway's, with its produce encoder swapped
// (src/events/kafkajs-fast-path.ts); acks 1 and a partition per event round robin, no
// partitioner, since the bench measures the consumer side.
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export interface PacedRun {
  brokers: string[]
  topic: string
  partitions: number
  /** Events per second; 0 = as fast as possible. */
  rate: number
  count: number
  tickMs: number
}

export interface PacedDone {
  t0: number
  /** When the last ack arrived, wall ms. */
  end: number
  sent: number
  acked: number
  failed: number
  /** Most events due but not yet handed to kafkajs at a tick (the producer's own backlog). */
  maxBacklog: number
  /** CPU of the producer process while it ran, µs (user + system). */
  cpuUs: number
  fastPath: boolean
  /** Each distinct send error, with how many sends failed with it. */
  errors: string[]
}

type FromChild = { type: 'started', t0: number } | { type: 'progress', acked: number, at: number } | ({ type: 'done' } & PacedDone)

export interface PacedProducer {
  /** Wall ms at which event 0 was due (known once the run starts). */
  started: Promise<number>
  /** Events acked by the broker so far (updated about every 200 ms). */
  acked: () => number
  done: Promise<PacedDone>
}

/** Forks this file and runs one paced send in it; the child exits when done. */
export function startPacedProducer (run: PacedRun): PacedProducer {
  const child = fork(fileURLToPath(import.meta.url), ['--child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  let acked = 0
  let onStart: (t0: number) => void = () => {}
  const started = new Promise<number>(resolve => { onStart = resolve })
  const done = new Promise<PacedDone>((resolve, reject) => {
    child.on('message', (m: FromChild) => {
      if (m.type === 'started') onStart(m.t0)
      else if (m.type === 'progress') acked = m.acked
      else { acked = m.acked; resolve(m) }
    })
    child.on('exit', code => { reject(new Error(`paced producer exited with ${code} before it was done`)) })
  })
  child.send(run)
  return { started, acked: () => acked, done }
}

const SEX = ['Female', 'Male']
const RACE = ['Amer-Indian-Eskimo', 'Asian-Pac-Islander', 'Black', 'Other', 'White']
const VARIANTS = ['full', 'distilled', 'fair']
/** 3 variants × 2 × 5 groups × 2 scores: every combination, each tail written once. */
const RING = 60

/** The value after `"ts":<ms>` of ring entry r, as PredictionEncoder writes it. */
function tail (r: number): string {
  const score = r % 4 < 2 ? 0.25 + (r % 7) / 100 : 0.75 - (r % 7) / 100
  return `,"model":"income","variant":"${VARIANTS[r % 3]}","score":${score},"decision":${score >= 0.5 ? 1 : 0},"threshold":0.5,"latency_ms":${(r % 97) / 10},"queue_ms":0.1,"batch_size":8,"request_rows":1,"replica":"bench","groups":{"sex":"${SEX[r % 2]}","race":"${RACE[r % 5]}"}}`
}

async function child (run: PacedRun): Promise<void> {
  // Before anything else loads kafkajs: the swap only applies to a fresh kafkajs.
  const { kafkajs, fastPath } = await import('../../src/events/kafkajs-fast-path.js')
  const { nextPredictionId } = await import('../../src/prediction-id.js')
  const tails = Array.from({ length: RING }, (_, r) => tail(r))
  const kafka = new kafkajs.Kafka({ clientId: 'bench-paced-producer', brokers: run.brokers, logLevel: kafkajs.logLevel.NOTHING })
  const producer = kafka.producer({ allowAutoTopicCreation: false })
  await producer.connect()
  const unpaced = run.rate === 0
  // A send per tick; at most this many outstanding, then the due events wait for the next tick.
  const MAX_IN_FLIGHT = 4
  // ~1.8 MB a send, ~300 kB a partition: well within the broker's 1 MB per record batch.
  const MAX_BATCH = 4_000
  let built = 0
  let acked = 0
  let failed = 0
  const errors = new Map<string, number>()
  let inFlight = 0
  let maxBacklog = 0
  let end = 0
  let isoMs = NaN
  let iso = ''
  const cpu0 = process.cpuUsage()
  const t0 = Date.now()
  process.send!({ type: 'started', t0 })
  let finish: () => void = () => {}
  const finished = new Promise<void>(resolve => { finish = resolve })

  const sendUpTo = (due: number): void => {
    while (built < due && inFlight < MAX_IN_FLIGHT) {
      const n = Math.min(MAX_BATCH, due - built)
      const ts = Date.now()
      if (ts !== isoMs) { isoMs = ts; iso = new Date(ts).toISOString() }
      const tsStr = String(ts)
      const messages = new Array(n)
      for (let k = 0; k < n; k++) {
        const i = built + k
        const id = nextPredictionId(ts)
        messages[k] = {
          key: id,
          value: `{"id":"${id}","request_id":"${id}","ts":${tsStr}${tails[i % RING]!}`,
          partition: i % run.partitions,
          headers: { ce_specversion: '1.0', ce_id: id, ce_type: 'io.fairgate.prediction.v1', ce_source: 'fairgate/bench', ce_time: iso, 'content-type': 'application/json' },
          timestamp: tsStr
        }
      }
      built += n
      inFlight++
      producer.send({ topic: run.topic, acks: 1, messages }).then(() => { acked += n }, (err: Error) => {
        failed += n
        const key = `${err.name}: ${err.message}`
        errors.set(key, (errors.get(key) ?? 0) + 1)
      }).finally(() => {
        inFlight--
        if (acked + failed >= run.count) { end = Date.now(); finish() } else if (unpaced) sendUpTo(run.count)
      })
    }
  }
  const progress = setInterval(() => { process.send!({ type: 'progress', acked, at: Date.now() }) }, 200)
  if (unpaced) sendUpTo(run.count)
  else {
    // Ticks aligned to t0 so that a late one does not shift the schedule.
    let tick = 0
    const step = (): void => {
      const due = Math.min(run.count, Math.floor((Date.now() - t0) * run.rate / 1000))
      sendUpTo(due)
      maxBacklog = Math.max(maxBacklog, due - built)
      if (built < run.count) setTimeout(step, Math.max(0, t0 + ++tick * run.tickMs - Date.now()))
    }
    step()
  }
  await finished
  clearInterval(progress)
  const c = process.cpuUsage(cpu0)
  await producer.disconnect()
  const done: { type: 'done' } & PacedDone = { type: 'done', t0, end, sent: built, acked, failed, maxBacklog, cpuUs: c.user + c.system, fastPath: fastPath.active, errors: [...errors].map(([e, sends]) => `${sends}× ${e}`) }
  process.send!(done, () => { process.exit(0) })
}

if (process.argv[2] === '--child') process.once('message', (run: PacedRun) => { void child(run) })
