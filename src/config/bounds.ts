// Upper bounds of every size in the configuration, from the memory each one makes the process
// allocate at start (or hold when full). Without them a value that validates could kill start-up:
// max_batch_size=1e8 (a RangeError allocating the batch buffers), feedback_store_size=2e9 or
// events.buffer_size=1e9 (out of memory after ~20 s), bucket_ms=1 with a 1e8 ms window (4 GB of
// buckets, never serving). Each bound keeps its structure near or under 1 GiB on the bundled
// model; the error names the field, the value and the memory it would take.
import { FG_ERR_CONFIG_INVALID } from '../errors.js'
import type { Config } from './schema.js'

const MiB = 1024 * 1024

interface Bound {
  path: string
  value: (c: Config) => number
  max: number
  /** Bytes one unit of the size costs (an estimate, for the message). */
  bytesPerUnit: number
  unit: string
}

const BOUNDS: Bound[] = [
  // Per run slot and for warm-up: rows × width × 4 B (112 features: 448 B a row).
  { path: 'batching.max_batch_size', value: c => c.batching.max_batch_size, max: 65_536, bytesPerUnit: 448 * 4, unit: 'row' },
  { path: 'batching.max_queue_rows', value: c => c.batching.max_queue_rows, max: 1_000_000, bytesPerUnit: 448 + 8, unit: 'queued row' },
  { path: 'http.max_rows_per_request', value: c => c.http.max_rows_per_request, max: 65_536, bytesPerUnit: 448, unit: 'row' },
  // A parsed JSON body takes several times its size.
  { path: 'http.body_limit_bytes', value: c => c.http.body_limit_bytes, max: 256 * MiB, bytesPerUnit: 4, unit: 'byte' },
  // A ring slot's columns (ids, request id, numbers, group ids: ~85 B measured by
  // test/helpers/heap-probe.ts), with headroom for long request ids; events.buffer_bytes bounds the rest.
  { path: 'events.buffer_size', value: c => c.events.buffer_size, max: 5_000_000, bytesPerUnit: 200, unit: 'event' },
  { path: 'events.buffer_bytes', value: c => c.events.buffer_bytes, max: 4096 * MiB, bytesPerUnit: 1, unit: 'byte' },
  { path: 'events.batch_size', value: c => c.events.batch_size, max: 100_000, bytesPerUnit: 1_000, unit: 'event' },
  // Slot columns, the id string and its Map entry.
  { path: 'monitor.feedback_store_size', value: c => c.monitor.feedback_store_size, max: 5_000_000, bytesPerUnit: 200, unit: 'prediction' },
  // A bucket holds ~3 KB of counters per variant on the bundled model (more with intersections).
  { path: 'monitor.window_ms / monitor.bucket_ms', value: c => c.monitor.window_ms / c.monitor.bucket_ms, max: 10_000, bytesPerUnit: 3 * 3_000, unit: 'bucket' }
]

const size = (bytes: number): string => bytes >= 1024 * MiB ? `${(bytes / 1024 / MiB).toFixed(1)} GiB` : `${Math.ceil(bytes / MiB)} MiB`

/** Throws FG_ERR_CONFIG_INVALID naming the first size beyond its bound. */
export function checkBounds (c: Config): void {
  for (const b of BOUNDS) {
    const v = b.value(c)
    if (v > b.max) {
      throw FG_ERR_CONFIG_INVALID(b.path, `${v} is more than the ${b.max} allowed (~${size(v * b.bytesPerUnit)} of memory at ~${b.bytesPerUnit} B per ${b.unit})`)
    }
  }
}
