// Issue 14, defect 9: configuration that validated but killed start-up (a RangeError with a stack
// trace, out of memory after ~20 s, 4 GB of buckets, stack traces for a port in use or a bad
// host). Every size has an upper bound from the memory it implies, and listen errors are coded
// (the built CLI's start-up lines are test/cli/startup-errors.test.ts: it runs a gateway process,
// so it stays out of test:unit).
import t from 'tap'
import { validateConfig } from '../../src/config/index.js'

t.test('sizes beyond their memory bound are refused naming the field', async t => {
  const cases: Array<[object, RegExp]> = [
    [{ batching: { max_batch_size: 100_000_000 } }, /batching\.max_batch_size.*memory/],
    [{ monitor: { feedback_store_size: 2_000_000_000 } }, /monitor\.feedback_store_size.*GiB of memory/],
    [{ events: { buffer_size: 1_000_000_000 } }, /events\.buffer_size/],
    [{ events: { buffer_bytes: 64 * 1024 ** 3 } }, /events\.buffer_bytes.*GiB of memory/],
    [{ monitor: { bucket_ms: 1, window_ms: 100_000_000 } }, /monitor\.window_ms \/ monitor\.bucket_ms/],
    [{ batching: { max_queue_rows: 1e9 } }, /batching\.max_queue_rows/],
    [{ http: { body_limit_bytes: 1e12 } }, /http\.body_limit_bytes/]
  ]
  for (const [raw, msg] of cases) t.throws(() => validateConfig(raw), { code: 'FG_ERR_CONFIG_INVALID', message: msg }, JSON.stringify(raw))
  t.doesNotThrow(() => validateConfig({}), 'the defaults are within every bound')
})
