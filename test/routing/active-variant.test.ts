// Issue 14, defect 13: /v1/variants showed active: "full" while full had failed to load and
// int8 served. Active means serving, in /v1/variants, the OIP model metadata and /metrics.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { INCOME_DIR, parseMetrics, startGateway } from '../helpers/gateway.js'

/** The income model with full.onnx's checksum wrong, so full (and full-dp, same file) fail to load. */
function modelsDir (): string {
  const root = mkdtempSync(join(tmpdir(), 'fairgate-models-'))
  const dir = join(root, 'income')
  mkdirSync(dir)
  for (const f of readdirSync(INCOME_DIR)) if (f.endsWith('.onnx')) symlinkSync(join(INCOME_DIR, f), join(dir, f))
  const yaml = readFileSync(join(INCOME_DIR, 'model.yaml'), 'utf8')
  const full = /sha256: "([0-9a-f]{64})"/.exec(yaml)![1]!
  // Every variant of that file: the manifest refuses two checksums for one file.
  writeFileSync(join(dir, 'model.yaml'), yaml.replaceAll(full, '0'.repeat(64)))
  return root
}

t.test('a variant that failed to load is never shown as active', async t => {
  const { app } = await startGateway({ models: { dir: modelsDir() } })
  t.teardown(async () => { await app.close() })
  const v = (await app.inject({ method: 'GET', url: '/v1/variants' })).json().models[0]
  const full = v.variants.find((x: { name: string }) => x.name === 'full')
  t.equal(full.state, 'failed')
  t.not(v.active, 'full', `active is ${v.active as string}, not the failed variant`)
  t.equal(full.active, false)
  const serving = v.variants.find((x: { active: boolean }) => x.active)
  t.equal(serving.state, 'ready', 'the active variant is ready')
  const r = (await app.inject({ method: 'POST', url: '/v1/predict', payload: { model: 'income', features: new Array(112).fill(0) } })).json()
  t.equal(r.variant, v.active, 'and is the one that answers')
  t.equal((await app.inject({ method: 'GET', url: '/v2/models/income' })).json().parameters.active_variant, v.active)
  const m = parseMetrics((await app.inject({ method: 'GET', url: '/metrics' })).body)
  t.equal(m.get('fairgate_active_variant{model="income",variant="full"}'), 0)
  t.equal(m.get(`fairgate_active_variant{model="income",variant="${v.active as string}"}`), 1)
})
