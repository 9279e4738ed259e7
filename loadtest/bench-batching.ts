// npm run bench:batching — throughput of the full variant with dynamic batching against one row
// per session.run, in the same process, same model, same closed-loop load (64 outstanding
// single-row jobs). Runs alternate A/B and the median of each is reported, because a 2-core
// machine is noisy; the ratio is the figure that matters.
import { Batcher, InferJob } from '../src/batching/index.js'
import { systemClock } from '../src/clock.js'
import { validateConfig } from '../src/config/index.js'
import { ModelRegistry } from '../src/models/index.js'

const ROWS = Number(process.env.BENCH_ROWS ?? 20_000)
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3)
const CONCURRENCY = 64
const log = { info () {}, warn () {}, error (o: unknown) { console.error(o) } }

const cfg = validateConfig({ models: { dir: 'models' } })
const reg = new ModelRegistry(cfg.models, 64, log)
reg.discover()
await reg.load()
const model = reg.model('income')
const variant = model.variant(process.env.BENCH_VARIANT ?? 'full')
const lines = (await import('node:fs')).readFileSync('models/income/eval.jsonl', 'utf8').trim().split('\n').slice(0, 1000)
const inputs = lines.map(l => {
  const row = new Float32Array(model.width)
  model.encoder.encode(JSON.parse(l).features, row, 0, 'features')
  return row
})

async function run (maxBatch: number): Promise<number> {
  let done = 0
  let sent = 0
  let finish: () => void = () => {}
  const finished = new Promise<void>(resolve => { finish = resolve })
  const observer = {
    onBatch () {},
    onJobDone () {
      done++
      if (done === ROWS) finish()
      else if (sent < ROWS) submit()
    }
  }
  const b = new Batcher(variant, { max_batch_size: maxBatch, max_queue_delay_ms: 0, max_queue_rows: 100_000, max_inflight: 2, default_latency_budget_ms: 0 }, systemClock, observer)
  const submit = (): void => {
    const i = sent++
    b.enqueue(new InferJob(model, 1, inputs[i % inputs.length]!, new Int16Array(2), false, 0, Infinity, null, '', systemClock.now()))
  }
  const t0 = performance.now()
  for (let i = 0; i < CONCURRENCY; i++) submit()
  await finished
  return ROWS / ((performance.now() - t0) / 1000)
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
await run(64) // warm-up
const batched: number[] = []
const single: number[] = []
for (let r = 0; r < REPEATS; r++) {
  batched.push(await run(64))
  single.push(await run(1))
}
const b = median(batched)
const s = median(single)
console.log(`variant=${variant.name} rows=${ROWS} concurrency=${CONCURRENCY} repeats=${REPEATS}`)
console.log(`one row per run : ${s.toFixed(0)} rows/s (median of ${single.map(x => x.toFixed(0)).join(', ')})`)
console.log(`dynamic batching: ${b.toFixed(0)} rows/s (median of ${batched.map(x => x.toFixed(0)).join(', ')})`)
console.log(`ratio batching / one-row: ${(b / s).toFixed(2)}x`)
await reg.close()
