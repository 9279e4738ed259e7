// Acceptance of the model variants issue: every variant in the manifest loads with a verified
// sha256, and the TypeScript encoder + onnxruntime-node reproduce the golden probabilities.
import t from 'tap'
import { join } from 'node:path'
import { ModelRegistry, readManifest, sha256File } from '../../src/models/index.js'
import { validateConfig } from '../../src/config/index.js'
import { evalRows, golden, INCOME_DIR, MODELS_DIR, silentLog } from '../helpers/gateway.js'

const manifest = readManifest(join(INCOME_DIR, 'model.yaml'))
const g = golden()
const rows = evalRows().slice(0, g.rows)

t.test('manifest checksums match the committed files', async t => {
  for (const v of manifest.variants) t.equal(sha256File(join(INCOME_DIR, v.file)), v.sha256, v.name)
  t.same(manifest.variants.map(v => v.name), ['full', 'distilled', 'int8'])
})

t.test('encoder reproduces training-time encoding of the first 200 eval rows', async t => {
  const reg = new ModelRegistry(validateConfig({ models: { dir: MODELS_DIR } }).models, 32, silentLog)
  reg.discover()
  const m = reg.model('income')
  const out = new Float32Array(m.width)
  let worst = 0
  for (let i = 0; i < rows.length; i++) {
    m.encoder.encode(rows[i]!.features, out, 0, 'features')
    const want = g.encoded[i]!
    t.equal(want.length, m.width)
    for (let c = 0; c < m.width; c++) worst = Math.max(worst, Math.abs(out[c]! - Math.fround(want[c]!)))
  }
  t.equal(worst, 0, 'bit-identical float32 encoding')
})

t.test('every variant matches the golden probabilities within 1e-5', async t => {
  const cfg = validateConfig({ models: { dir: MODELS_DIR, warmup_runs: 0 } })
  const reg = new ModelRegistry(cfg.models, 256, silentLog)
  reg.discover()
  await reg.load()
  t.teardown(() => reg.close())
  const m = reg.model('income')
  const input = new Float32Array(rows.length * m.width)
  rows.forEach((r, i) => { m.encoder.encode(r.features, input, i * m.width, 'features') })
  for (const v of m.variants) {
    t.equal(v.state, 'ready', `${v.name} loaded`)
    const p = await v.run(input, rows.length)
    const want = g.variants[v.name]!
    let worst = 0
    for (let i = 0; i < rows.length; i++) worst = Math.max(worst, Math.abs(p[i]! - want[i]!))
    t.ok(worst <= 1e-5, `${v.name}: max abs diff ${worst}`)
  }
})

t.test('with inference threads, small batches of a cheap variant run on the HTTP thread', async t => {
  const cfg = validateConfig({ models: { dir: MODELS_DIR, inference_threads: 1, warmup_runs: 1 } })
  t.equal(cfg.models.inline_max_ms, 0.25, 'the default limit')
  const reg = new ModelRegistry(cfg.models, 64, silentLog)
  reg.discover()
  await reg.load()
  t.teardown(() => reg.close())
  const m = reg.model('income')
  const full = m.variant('full')
  const distilled = m.variant('distilled')
  t.equal(full.session, null, `full (${full.inlineMs(1).toFixed(3)} ms for one row) keeps no inline session`)
  t.notOk(full.runsInline(1), 'so every full batch goes to a thread')
  t.ok(distilled.runsInline(1), `distilled runs one row inline (${distilled.inlineMs(1).toFixed(3)} ms)`)
  t.notOk(distilled.runsInline(1_000_000), 'but not a batch past the limit')
  // Take the threads away: what still answers ran here.
  const pool = distilled.pool!
  const run = pool.run
  pool.run = () => Promise.reject(new Error('the pool was used'))
  t.teardown(() => { pool.run = run })
  const input = new Float32Array(m.width)
  m.encoder.encode(rows[0]!.features, input, 0, 'features')
  const p = await distilled.run(input, 1)
  t.ok(Math.abs(p[0]! - g.variants.distilled![0]!) < 1e-5, 'the inline answer is the golden probability')
  await t.rejects(full.run(input, 1), /the pool was used/, 'full went to the pool')
})

t.test('a variant whose sha256 does not match is not ready; the others serve', async t => {
  const cfg = validateConfig({ models: { dir: MODELS_DIR, warmup_runs: 0 } })
  const reg = new ModelRegistry(cfg.models, 8, silentLog)
  reg.discover()
  const m = reg.model('income')
  ;(m.variants[2]!.spec as { sha256: string }).sha256 = '0'.repeat(64)
  await reg.load()
  t.teardown(() => reg.close())
  t.equal(m.variants[2]!.state, 'failed')
  t.match(m.variants[2]!.error, /sha256 mismatch/)
  t.equal(m.variants[0]!.state, 'ready')
  t.ok(m.ready)
})
