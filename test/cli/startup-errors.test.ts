// Issue 14, defect 9: start-up mistakes (a size beyond its bound, a port in use, a bad host) end
// the built CLI with one coded line, never a stack trace. It runs `fairgate serve` from dist/ as a
// process, so it is in npm test, not test:unit; the bounds themselves are test/config/bounds.test.ts.
import { spawnSync } from 'node:child_process'
import { createServer } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import { ROOT } from '../helpers/gateway.js'

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
