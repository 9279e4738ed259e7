// The inference pool's scheduling: one batch per thread, and a short batch overtakes a long one
// queued just before it (the latency router depends on it: a distilled batch must not wait
// behind every queued full batch). Real models, one thread.
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { validateConfig } from '../../src/config/index.js'
import { InferencePool, KEEP_SHORT_MS } from '../../src/models/inference-pool.js'
import { golden, INCOME_DIR, silentLog } from '../helpers/gateway.js'

const WIDTH = 112
const g = golden()

async function pool (t: { teardown: (fn: () => unknown) => void }, threads = 1, clock = { now: () => 0 }): Promise<InferencePool> {
  const p = new InferencePool(threads, validateConfig({}).models, silentLog, clock)
  t.teardown(() => p.close())
  for (const v of ['full', 'distilled']) await p.open(`income/${v}`, join(INCOME_DIR, `${v}.onnx`), { input: 'input', output: 'probability', width: WIDTH })
  return p
}

/**
 * Known costs, far from SHORT_RUN_MS either way: full × 256 runs 256 ms, distilled × 8 0.05 ms
 * (costs learned from real runs would move with the machine's load), primed after the run.
 */
async function teach (p: InferencePool): Promise<void> {
  // A short batch queued now opens the keep-short window, as live traffic would.
  await p.run('income/distilled', rows(1), 1, WIDTH)
  p.prime('income/full', 1, 1)
  p.prime('income/distilled', 0.01, 0.005)
}

function rows (n: number): Float32Array {
  const x = new Float32Array(n * WIDTH)
  for (let i = 0; i < n; i++) x.set(g.encoded[i % g.rows]!, i * WIDTH)
  return x
}

t.test('answers are the golden probabilities', async t => {
  const p = await pool(t, 2)
  const input = rows(16)
  const [full, dist] = await Promise.all([p.run('income/full', input, 16, WIDTH), p.run('income/distilled', input, 16, WIDTH)])
  for (let i = 0; i < 16; i++) {
    t.ok(Math.abs(full[i]! - g.variants.full![i]!) < 1e-5, `full row ${i}`)
    t.ok(Math.abs(dist[i]! - g.variants.distilled![i]!) < 1e-5, `distilled row ${i}`)
  }
})

t.test('a distilled batch overtakes a full batch queued before it; order is FIFO within a variant', async t => {
  const p = await pool(t)
  const big = rows(256)
  await teach(p)
  const order: string[] = []
  const track = (name: string, pr: Promise<Float32Array>): Promise<void> => pr.then(() => { order.push(name) })
  const all = [
    track('full-1', p.run('income/full', big, 256, WIDTH)), // runs at once: the thread is idle
    track('full-2', p.run('income/full', big, 256, WIDTH)), // waits
    track('full-3', p.run('income/full', big, 256, WIDTH)), // waits
    track('distilled', p.run('income/distilled', big, 256, WIDTH))
  ]
  t.equal(p.queued, 3, 'one batch on the thread, three waiting')
  await Promise.all(all)
  t.same(order, ['full-1', 'distilled', 'full-2', 'full-3'])
})

t.test('closing rejects the batches still waiting', async t => {
  const p = new InferencePool(1, validateConfig({}).models, silentLog)
  await p.open('income/full', join(INCOME_DIR, 'full.onnx'), { input: 'input', output: 'probability', width: WIDTH })
  const big = rows(256)
  const first = p.run('income/full', big, 256, WIDTH)
  const second = p.run('income/full', big, 256, WIDTH).then(() => 'ran', (err: Error) => err.message)
  const closed = p.close()
  await t.resolves(first, 'the running batch finishes')
  t.match(await second, /closed/, 'the waiting one is rejected')
  await closed
})

t.test('two threads: a short batch runs at once on the kept thread while long ones queue', async t => {
  const p = await pool(t, 2)
  const big = rows(256)
  await teach(p)
  const order: string[] = []
  const track = (name: string, pr: Promise<Float32Array>): Promise<void> => pr.then(() => { order.push(name) })
  const all = [
    track('full-1', p.run('income/full', big, 256, WIDTH)),
    track('full-2', p.run('income/full', big, 256, WIDTH)),
    track('distilled', p.run('income/distilled', rows(8), 8, WIDTH))
  ]
  t.equal(p.queued, 1, 'full-2 waits: the second thread is kept for short batches, distilled is not queued')
  await Promise.all(all)
  // full-1 against distilled is a race the machine's load decides (CI once saw full-1 first);
  // full-2 cannot start before full-1 ends, so distilled ending first is the pool's doing.
  t.ok(order.indexOf('distilled') < order.indexOf('full-2'), `distilled did not wait behind full-2 (order ${order.join(', ')})`)
})

t.test('two threads: with no short batch for a while the kept thread takes long ones, until a short one comes', async t => {
  let now = 0
  const p = await pool(t, 2, { now: () => now })
  const big = rows(256)
  await teach(p)
  t.ok(p.runMs('income/distilled', 8) <= 1 && p.runMs('income/full', 256) > 1, 'distilled × 8 is a short batch, full × 256 a long one')
  now += KEEP_SHORT_MS + 1
  t.equal(p.longLanes, 2, 'no short batch lately: long batches may use both threads')
  const order: string[] = []
  const track = (name: string, pr: Promise<Float32Array>): Promise<void> => pr.then(() => { order.push(name) })
  const first = [track('full-1', p.run('income/full', big, 256, WIDTH)), track('full-2', p.run('income/full', big, 256, WIDTH))]
  t.equal(p.queued, 0, 'both full batches run at once')
  first.push(track('distilled', p.run('income/distilled', rows(8), 8, WIDTH)))
  t.equal(p.queued, 1, 'the short batch waits for a thread')
  t.equal(p.longLanes, 1, 'and the last thread is kept for short batches again')
  await Promise.all(first)
  t.ok(order.indexOf('distilled') > 0, `it waited for a long batch to end (order ${order.join(', ')})`)
  const again = [p.run('income/full', big, 256, WIDTH), p.run('income/full', big, 256, WIDTH)]
  t.equal(p.queued, 1, 'within the window, a second long batch waits instead of taking the kept thread')
  now += KEEP_SHORT_MS + 1
  await Promise.all(again)
})

t.test('two threads: a long variant\'s own one-row batches do not keep the kept thread from its long ones', async t => {
  let now = 0
  const p = await pool(t, 2, { now: () => now })
  // full's largest batch seen is 256 rows; a one-row batch of it is expected at 0.35 ms (under
  // SHORT_RUN_MS), but the lane is the variant's: every full batch is long.
  await p.run('income/full', rows(256), 256, WIDTH)
  p.prime('income/full', 0.3, 0.05)
  t.ok(p.runMs('income/full', 1) <= 1, 'one row of full is expected under 1 ms')
  t.equal(p.laneOf('income/full'), 'long', 'yet full is a long variant')
  now += KEEP_SHORT_MS + 1
  const all = [p.run('income/full', rows(1), 1, WIDTH), p.run('income/full', rows(256), 256, WIDTH), p.run('income/full', rows(256), 256, WIDTH)]
  t.equal(p.longLanes, 2, 'no short variant around: long batches may use both threads')
  t.equal(p.queued, 1, 'the one-row batch and a 256-row one run at once; only the last waits')
  await Promise.all(all)
})

/** Niceness of each thread of this process (Linux /proc/self/task/<tid>/stat, field 19). */
function niceness (): number[] {
  return readdirSync('/proc/self/task').map(tid => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])
  })
}

t.test('the long-batch threads run niced, the kept one does not', { skip: process.platform !== 'linux' }, async t => {
  const before = niceness().filter(n => n === 7).length
  const p = new InferencePool(3, validateConfig({ models: { inference_nice: 7 } }).models, silentLog)
  t.teardown(() => p.close())
  await p.open('income/distilled', join(INCOME_DIR, 'distilled.onnx'), { input: 'input', output: 'probability', width: WIDTH })
  t.equal(niceness().filter(n => n === 7).length - before, 2, 'two of three threads at nice 7')
})

t.test('variants warmed at the same time warm one after the other', async t => {
  const p = await pool(t)
  // Every message posted to the thread, in order (the pool's one thread, seen from outside).
  const worker = (p as unknown as { threads: Array<{ worker: { postMessage: (m: { t: string, key?: string }, tr?: unknown) => void } }> }).threads[0]!.worker
  const posted: string[] = []
  const post = worker.postMessage.bind(worker)
  worker.postMessage = (m, tr) => { if (m.t === 'run') posted.push(m.key!); post(m, tr) }
  const buf = rows(64)
  // The registry warms every variant concurrently. Interleaved in the thread's port, each run
  // would be timed behind the other variant's and the pool would learn the wrong costs.
  // Seven rounds: the costs are medians of the six timed ones, so two runs preempted on a loaded
  // machine (a 64-row distilled run stretched past full's) cannot reorder the two variants.
  await Promise.all([p.warm('income/full', buf, WIDTH, [1, 64], 7), p.warm('income/distilled', buf, WIDTH, [1, 64], 7)])
  t.same(posted, [...Array(14).fill('income/full'), ...Array(14).fill('income/distilled')], 'all of full\'s warm-up runs, then distilled\'s')
  t.ok(p.runMs('income/distilled', 64) < p.runMs('income/full', 64), 'distilled learned as the cheaper one')
})
