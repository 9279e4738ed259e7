// Issue 14, defect 9: configuration that validated but killed start-up (a RangeError with a stack
// trace, out of memory after ~20 s, 4 GB of buckets, stack traces for a port in use or a bad
// host). Every size has an upper bound from the memory it implies, and listen errors are coded.
import { spawnSync } from 'node:child_process'
import { createServer } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import { validateConfig } from '../../src/config/index.js'
import { ROOT } from '../helpers/gateway.js'

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

function serve (env: Record<string, string>): { status: number | null, stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli', 'index.js'), 'serve'], { cwd: ROOT, env: { ...process.env, FAIRGATE_LOG_LEVEL: 'error', ...env }, encoding: 'utf8', timeout: 60_000 })
  return { status: r.status, stderr: r.stderr }
}

t.test('start-up mistakes are one coded line, never a stack trace', async t => {
  const busy = createServer()
  await new Promise<void>(resolve => busy.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { busy.close() })
  const port = String((busy.address() as { port: number }).port)
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ FAIRGATE_BATCHING_MAX_BATCH_SIZE: '100000000' }, /^fairgate: FG_ERR_CONFIG_INVALID: invalid configuration at "batching\.max_batch_size"/],
    [{ FAIRGATE_HTTP_HOST: '127.0.0.1', FAIRGATE_HTTP_PORT: port }, /^fairgate: FG_ERR_CONFIG_LISTEN: cannot listen on 127\.0\.0\.1:\d+ .*in use/],
    [{ FAIRGATE_HTTP_HOST: '256.1.1.1', FAIRGATE_HTTP_PORT: '0' }, /^fairgate: FG_ERR_CONFIG_LISTEN: cannot listen on 256\.1\.1\.1:0/]
  ]
  for (const [env, msg] of cases) {
    const r = serve(env)
    t.equal(r.status, 1, JSON.stringify(env))
    t.match(r.stderr.trim(), msg)
    t.notMatch(r.stderr, /\n\s+at /, 'no stack trace')
  }
})
