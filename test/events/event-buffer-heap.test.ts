// A buffered prediction event holds only what its message needs: with Kafka unreachable, 50,000
// buffered events retain at most 500 bytes of heap each (measured with global.gc before and
// after, in a child started with --expose-gc: test/helpers/heap-probe.ts).
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import t from 'tap'
import { ROOT } from '../helpers/gateway.js'

t.test('50,000 events buffered while Kafka is unreachable retain ≤ 500 bytes each', async t => {
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(ROOT, 'test', 'helpers', 'heap-probe.ts')], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, EVENTS: '50000' } })
  t.equal(r.status, 0, r.stderr)
  const line = r.stdout.trim().split('\n').pop() ?? '{}'
  const m = JSON.parse(line) as { events: number, bytes_per_event: number }
  // The backlog counts every topic: a policy decision may be buffered alongside the predictions.
  t.ok(m.events >= 50_000 && m.events < 50_100, `every prediction event is buffered, none dropped or sent (${m.events})`)
  t.ok(m.bytes_per_event <= 500, `retained heap per buffered event: ${m.bytes_per_event.toFixed(0)} bytes`)
})
