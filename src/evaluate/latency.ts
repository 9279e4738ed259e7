// What a variant costs to serve, through the gateway's own runtime (the registry's sessions, its
// inference threads and inline path, the configured provider and thread counts): the time of one
// batch of 1, 8, 32 and 64 rows run alone, median and p99 over repeats; the model file's size; and
// the resident memory one session adds when it is opened.
import { statSync } from 'node:fs'
import type { Config } from '../config/index.js'
import { openSession, ort, type Logger, type VariantRuntime } from '../models/index.js'
import type { Dataset } from './dataset.js'

export const BATCH_SIZES = [1, 8, 32, 64] as const
/** The batch size of the frontier's latency objective and of offline.max_latency_ms. */
export const FRONTIER_BATCH = 32

export interface BatchLatency { rows: number, repeats: number, median_ms: number, p99_ms: number, median_us_per_row: number, p99_us_per_row: number }

export interface Cost {
  model_bytes: number
  /** Resident memory added by opening one session of the file and running a batch (approximate: RSS moves with the allocator). */
  session_memory_bytes: number
  latency: BatchLatency[]
}

export interface LatencyOptions {
  /** Timed runs per batch size at most … */
  repeats: number
  /** … and at most this long per batch size (at least 5 runs). */
  maxMsPerSize: number
}

function quantile (sorted: number[], q: number): number {
  // The nearest-rank quantile: an observed time, not an interpolation between two.
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[i]!
}

/** Times batches of each size of real rows (the first rows of the data, repeated if it is short). */
export async function timeBatches (v: VariantRuntime, ds: Dataset, opt: LatencyOptions, onRun?: () => void): Promise<BatchLatency[]> {
  const out: BatchLatency[] = []
  for (const rows of BATCH_SIZES) {
    const buf = new Float32Array(rows * ds.width)
    for (let r = 0; r < rows; r++) buf.set(ds.input.subarray((r % ds.rows) * ds.width, (r % ds.rows + 1) * ds.width), r * ds.width)
    // Two untimed runs: a size's first run pays allocations the next ones do not.
    await v.run(buf, rows)
    await v.run(buf, rows)
    const times: number[] = []
    const until = performance.now() + opt.maxMsPerSize
    while (times.length < opt.repeats && (times.length < 5 || performance.now() < until)) {
      const t0 = performance.now()
      await v.run(buf, rows)
      times.push(performance.now() - t0)
      onRun?.()
    }
    times.sort((a, b) => a - b)
    const median = quantile(times, 0.5)
    const p99 = quantile(times, 0.99)
    out.push({ rows, repeats: times.length, median_ms: median, p99_ms: p99, median_us_per_row: median * 1000 / rows, p99_us_per_row: p99 * 1000 / rows })
  }
  return out
}

/** Opens the file once more on this thread, runs one batch, and reports the RSS it added; then releases it. */
export async function sessionMemory (v: VariantRuntime, cfg: Config['models'], log: Logger): Promise<number> {
  const before = process.memoryUsage().rss
  const { session } = await openSession(v.file, cfg, log, v.model.io)
  try {
    const rows = 64
    const input = new ort.Tensor('float32', new Float32Array(rows * v.model.width), [rows, v.model.width])
    await session.run({ [v.model.manifest.input.name]: input })
    return Math.max(0, process.memoryUsage().rss - before)
  } finally {
    await session.release().catch(() => {})
  }
}

export function modelBytes (v: VariantRuntime): number { return statSync(v.file).size }
