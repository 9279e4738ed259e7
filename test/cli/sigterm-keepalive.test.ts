// Issue 14, defect 16: SIGTERM under load used to end ~2 requests per run in ECONNRESET: the
// close destroyed idle keep-alive sockets while clients were writing their next request on them.
// End to end against a real gateway process, with keep-alive clients: every request gets an
// answer, a 503, or a refused connection (never reached the server) — none is reset.
import t from 'tap'
import { Agent, request } from 'undici'
import { evalRows } from '../helpers/gateway.js'
import { serveCli } from '../helpers/process.js'

const rows = evalRows()

t.test('SIGTERM under keep-alive load resets no request', async t => {
  const runs = 3
  const totals = { ok: 0, draining: 0, refused: 0, reset: [] as string[], other: [] as string[] }
  for (let run = 0; run < runs; run++) {
    const s = await serveCli()
    t.teardown(() => { s.child.kill('SIGKILL') })
    const agent = new Agent({ connections: 16, keepAliveTimeout: 60_000, pipelining: 1 })
    let exited = false
    void s.exited.then(() => { exited = true })
    let sent = 0
    const worker = async (): Promise<void> => {
      while (!exited) {
        const i = sent++
        if (i === 400) s.child.kill('SIGTERM')
        try {
          const r = await request(`${s.url}/v1/predict`, {
            method: 'POST',
            dispatcher: agent,
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ model: 'income', features: rows[i % rows.length]!.features })
          })
          await r.body.text()
          if (r.statusCode === 200) totals.ok++
          else if (r.statusCode === 503) totals.draining++
          else totals.other.push(String(r.statusCode))
        } catch (err) {
          const code = (err as { code?: string }).code ?? String(err)
          if (code === 'ECONNREFUSED') totals.refused++
          else if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') totals.reset.push(code)
          else totals.other.push(code)
          // Refused: the listener is gone; wait for the exit rather than spin.
          await new Promise(resolve => setTimeout(resolve, 5))
        }
      }
    }
    await Promise.all(Array.from({ length: 16 }, worker))
    t.equal(await s.exited, 0, `run ${run}: clean exit`)
    await agent.close()
  }
  t.ok(totals.ok >= runs * 300, `${totals.ok} answered, ${totals.draining} told 503, ${totals.refused} refused`)
  t.same(totals.reset, [], 'no request was reset')
  t.same(totals.other, [], 'nothing else went wrong')
})
