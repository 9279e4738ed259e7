// The README's curl examples, sent exactly as written, and its configuration table checked
// against the schema so the docs cannot drift from the code.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { envNames } from '../../src/config/index.js'
import { ROOT, startGateway } from '../helpers/gateway.js'

// docs/protocol.md documents the OIP transports' keys (HTTP binary and gRPC) in the same table form.
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8') + readFileSync(join(ROOT, 'docs', 'protocol.md'), 'utf8')

interface Curl { method: string, path: string, body: string }

function curls (): Curl[] {
  const out: Curl[] = []
  for (const line of readme.split('\n')) {
    const m = /^curl -s -X (\w+) localhost:8080(\S+) -H 'content-type: application\/json' -d (?:'(.*)'|@(\S+))$/.exec(line)
    if (m === null) continue
    out.push({ method: m[1]!, path: m[2]!, body: m[3] ?? readFileSync(join(ROOT, m[4]!), 'utf8') })
  }
  return out
}

t.test('README curl examples work as written', async t => {
  const examples = curls()
  t.ok(examples.some(c => c.path === '/v2/models/income/infer'), 'an OIP v2 infer example')
  t.ok(examples.some(c => c.path === '/v1/predict'), 'a /v1/predict example')
  const { app } = await startGateway()
  t.teardown(() => app.close())
  for (const c of examples) {
    const res = await app.inject({ method: c.method as 'POST', url: c.path, headers: { 'content-type': 'application/json' }, body: c.body })
    t.equal(res.statusCode, 200, `${c.path}: ${res.body}`)
    const body = res.json()
    if (c.path === '/v1/predict') {
      t.equal(body.variant, 'full')
      t.ok(body.score > 0 && body.score < 1)
      t.match(readme, new RegExp(`"score":${String(body.score).slice(0, 4)}`), 'README quotes the score it gets')
    } else t.equal(body.outputs[0].shape[0], 1)
  }
})

t.test('README configuration table lists every key of the schema', async t => {
  for (const [name, leaf] of envNames()) {
    t.ok(readme.includes(`| \`${leaf.path.join('.')}\` |`), `${leaf.path.join('.')} (${name}) documented`)
  }
})
