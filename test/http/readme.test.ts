// The curl examples of the README and docs/api.md, sent exactly as written, and the configuration table of
// docs/configuration.md checked against the schema (every key, with its default) so the docs
// cannot drift from the code.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { envNames } from '../../src/config/index.js'
import { ROOT, startGateway } from '../helpers/gateway.js'

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
const apiDoc = readFileSync(join(ROOT, 'docs', 'api.md'), 'utf8')
const configDoc = readFileSync(join(ROOT, 'docs', 'configuration.md'), 'utf8')
// The feedback example refers to the prediction the predict example made.
const ID_PLACEHOLDER = '<id from the answer>'

interface Curl { method: string, path: string, body: string }

function curls (text: string): Curl[] {
  const out: Curl[] = []
  for (const line of text.split('\n')) {
    const m = /^curl -s -X (\w+) localhost:8080(\S+) -H 'content-type: application\/json' -d (?:'(.*)'|@(\S+))$/.exec(line)
    if (m === null) continue
    out.push({ method: m[1]!, path: m[2]!, body: m[3] ?? readFileSync(join(ROOT, m[4]!), 'utf8') })
  }
  return out
}

/**
 * One request through each inference route before the examples: a fresh process compiles the
 * route on its first request, and on a loaded CI machine that alone can outlast the OIP example's
 * 50 ms latency budget (the budget counts from arrival). The examples then run as a user's would.
 */
async function warm (app: Awaited<ReturnType<typeof startGateway>>['app'], examples: Curl[]): Promise<void> {
  for (const c of examples) {
    if (c.path === '/v1/feedback') continue
    const body = JSON.parse(c.body)
    if (body.parameters !== undefined) delete body.parameters.latency_budget_ms
    await app.inject({ method: c.method as 'POST', url: c.path, headers: { 'content-type': 'application/json' }, payload: body })
  }
}

t.test('README curl examples work as written', async t => {
  const examples = curls(readme)
  t.ok(examples.some(c => c.path === '/v2/models/income/infer'), 'an OIP v2 infer example')
  t.ok(examples.some(c => c.path === '/v1/predict'), 'a /v1/predict example')
  t.ok(examples.some(c => c.path === '/v1/feedback' && c.body.includes(ID_PLACEHOLDER)), 'a /v1/feedback example for that prediction')
  const { app } = await startGateway()
  t.teardown(() => app.close())
  await warm(app, examples)
  let predictionId: string | undefined
  for (const c of examples) {
    const body = c.path === '/v1/feedback' ? c.body.replace(ID_PLACEHOLDER, predictionId ?? 'no prediction before the feedback example') : c.body
    const res = await app.inject({ method: c.method as 'POST', url: c.path, headers: { 'content-type': 'application/json' }, body })
    const answer = res.json()
    if (c.path === '/v1/feedback') {
      t.equal(res.statusCode, 202, `${c.path}: ${res.body}`)
      t.equal(answer.joined, 1, 'the label joins the README\'s prediction')
      continue
    }
    t.equal(res.statusCode, 200, `${c.path}: ${res.body}`)
    if (c.path === '/v1/predict') {
      predictionId = answer.id
      t.equal(answer.variant, 'full')
      t.ok(answer.score > 0 && answer.score < 1)
      t.match(readme, new RegExp(`"score":${String(answer.score).slice(0, 4)}`), 'README quotes the score it gets')
    } else t.equal(answer.outputs[0].shape[0], 1)
  }
})

t.test('docs/api.md curl examples work as written', async t => {
  const examples = curls(apiDoc)
  t.ok(examples.some(c => c.path === '/v2/models/income/infer') && examples.some(c => c.path === '/v1/predict'), 'an example of each inference API')
  const { app } = await startGateway()
  t.teardown(() => app.close())
  await warm(app, examples)
  for (const c of examples) {
    const res = await app.inject({ method: c.method as 'POST', url: c.path, headers: { 'content-type': 'application/json' }, body: c.body })
    t.equal(res.statusCode, 200, `${c.path}: ${res.body}`)
  }
})

t.test('docs/configuration.md lists every key of the schema with its default', async t => {
  const rows = new Map<string, string>()
  for (const m of configDoc.matchAll(/^\| `([a-z0-9_.]+)` \| ([^|]+) \|/gm)) rows.set(m[1]!, m[2]!.trim())
  for (const [name, leaf] of envNames()) {
    const key = leaf.path.join('.')
    const cell = rows.get(key)
    t.ok(cell !== undefined, `${key} (${name}) documented`)
    if (cell === undefined || key === 'replica') continue // replica defaults to the host name
    const want = Array.isArray(leaf.sample) ? JSON.stringify(leaf.sample) : leaf.sample === '' ? '(empty)' : String(leaf.sample)
    t.equal(cell.replace(/^`|`$/g, ''), want, `${key}: default ${want}`)
  }
  t.ok(rows.has('replica') && /hostname/.test(rows.get('replica')!), 'replica: the host name')
  const keys = new Set([...envNames().values()].map(l => l.path.join('.')))
  for (const key of rows.keys()) t.ok(keys.has(key), `${key} is a key of the schema`)
})

t.test('README stays short and links the docs', async t => {
  const lines = readme.split('\n').length
  t.ok(lines <= 200, `README.md is ${lines} lines (at most 200)`)
  for (const page of ['api', 'configuration', 'models', 'events', 'monitor', 'policies', 'operations', 'benchmarks']) {
    t.match(readme, `](docs/${page}.md`, `README links docs/${page}.md`)
  }
})
