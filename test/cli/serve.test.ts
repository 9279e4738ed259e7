// The built CLI, run as a process: it becomes ready, and a SIGTERM under load answers every
// request it accepted before it exits. (How fast it starts is a benchmark's business, not a test's.)
import t from 'tap'
import { evalRows } from '../helpers/gateway.js'
import { serveCli } from '../helpers/process.js'

const rows = evalRows()

t.test('fairgate serve becomes ready and drains on SIGTERM under load', async t => {
  const s = await serveCli({ FAIRGATE_LOG_LEVEL: 'info' })
  t.teardown(() => { s.child.kill('SIGKILL') })
  t.comment(`ready in ${s.readyMs} ms`)

  const outcomes = { ok: 0, refused: 0, draining: 0, other: [] as string[] }
  let sent = 0
  let signalled = false
  const total = 600
  const worker = async (): Promise<void> => {
    while (sent < total) {
      const i = sent++
      if (i === 150 && !signalled) { signalled = true; s.child.kill('SIGTERM') }
      try {
        const r = await fetch(`${s.url}/v1/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'income', instances: rows.slice(i % 1000, i % 1000 + 8).map(r => r.features) })
        })
        const body = await r.text()
        if (r.status === 200 && JSON.parse(body).length === 8) outcomes.ok++
        else if (r.status === 503) outcomes.draining++
        else outcomes.other.push(`${r.status} ${body.slice(0, 100)}`)
      } catch (err) {
        // Refused, or a keep-alive socket the server closed before reading the request: the
        // server never accepted it (checked below against the server's own count).
        const code = (err as { cause?: { code?: string } }).cause?.code
        if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') outcomes.refused++
        else outcomes.other.push(String(code ?? err))
      }
    }
  }
  await Promise.all(Array.from({ length: 32 }, worker))
  const code = await s.exited
  t.equal(code, 0, `clean exit; output: ${s.output().slice(-500)}`)
  t.ok(outcomes.ok >= 100, `answered ${outcomes.ok} requests`)
  t.same(outcomes.other, [], 'no 5xx other than 503, no hung request')
  const last = s.output().split('\n').filter(l => l.includes('drained; bye')).map(l => JSON.parse(l))[0]
  t.ok(last, 'logged its drain summary')
  t.equal(last.answered, last.accepted, 'the server answered every request it accepted')
  t.equal(last.answered, outcomes.ok, 'and every answer reached its client')
  t.equal(outcomes.ok + outcomes.refused + outcomes.draining, total)
})

t.test('a bad configuration stops start-up naming the field', async t => {
  const { spawnSync } = await import('node:child_process')
  const { join } = await import('node:path')
  const { ROOT } = await import('../helpers/gateway.js')
  const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli', 'index.js'), 'serve'], { cwd: ROOT, env: { ...process.env, FAIRGATE_BATCHING_MAX_BATCH_SIZE: '0' }, encoding: 'utf8' })
  t.equal(r.status, 1)
  t.match(r.stderr, /FG_ERR_CONFIG_INVALID: invalid configuration at "batching\.max_batch_size"/)
})
