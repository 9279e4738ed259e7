// Acceptance of the model variants issue: every variant in the manifest loads with a verified
// sha256, and the TypeScript encoder + onnxruntime-node reproduce the golden probabilities.
import t from 'tap'
import { join } from 'node:path'
import { ModelRegistry, readManifest, sha256File, type ModelRuntime } from '../../src/models/index.js'
import { PROBE_EVERY, PROBE_REACH } from '../../src/models/registry.js'
import { seed } from '../../src/models/run-cost.js'
import { validateConfig, type Config } from '../../src/config/index.js'
import { evalRows, golden, INCOME_DIR, MODELS_DIR, parseMetrics, silentLog, startGateway } from '../helpers/gateway.js'

const manifest = readManifest(join(INCOME_DIR, 'model.yaml'))
const g = golden()
const rows = evalRows().slice(0, g.rows)

/** The income model's registry with these models options and batch size, closed at the test's end. */
async function loadIncome (t: { teardown: (fn: () => Promise<void>) => void }, models: object, maxBatch: number): Promise<{ cfg: Config, m: ModelRuntime }> {
  const cfg = validateConfig({ models: { dir: MODELS_DIR, ...models } })
  const reg = new ModelRegistry(cfg.models, maxBatch, silentLog)
  reg.discover()
  await reg.load()
  t.teardown(async () => { await reg.close() })
  return { cfg, m: reg.model('income') }
}

t.test('manifest checksums match the committed files', async t => {
  for (const v of manifest.variants) t.equal(sha256File(join(INCOME_DIR, v.file)), v.sha256, v.name)
  t.same(Object.keys(g.variants), manifest.variants.map(v => v.name), 'golden.json covers every variant')
  t.equal(manifest.variants[0]!.decision !== undefined && 'by_group' in manifest.variants[0]!.decision, false, 'the default variant decides without group labels')
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

t.test('every variant matches the golden probabilities within 1e-5, in any batching', async t => {
  const { m } = await loadIncome(t, { warmup_runs: 0, inference_threads: 0 }, 256)
  const w = m.width
  const input = new Float32Array(rows.length * w)
  rows.forEach((r, i) => { m.encoder.encode(r.features, input, i * w, 'features') })
  for (const v of m.variants) {
    t.equal(v.state, 'ready', `${v.name} loaded`)
    const whole = Float32Array.from(await v.run(input, rows.length))
    const want = g.variants[v.name]!
    let worst = 0
    for (let i = 0; i < rows.length; i++) worst = Math.max(worst, Math.abs(whole[i]! - want[i]!))
    t.ok(worst <= 1e-5, `${v.name}: max abs diff ${worst}`)
    // Batch invariance: a row's score does not depend on its batch mates.
    let moved = 0
    for (const size of [1, 7]) {
      for (let at = 0; at < rows.length; at += size) {
        const n = Math.min(size, rows.length - at)
        const p = await v.run(input.slice(at * w, (at + n) * w), n)
        for (let i = 0; i < n; i++) moved = Math.max(moved, Math.abs(p[i]! - whole[at + i]!))
      }
    }
    t.ok(moved <= 1e-6, `${v.name}: batches of 1 and 7 give the one-batch scores (max diff ${moved})`)
  }
})

t.test('variants of one file share one session', async t => {
  const { m } = await loadIncome(t, { warmup_runs: 0, inference_threads: 0 }, 8)
  const files = new Set(m.variants.map(v => v.spec.file))
  t.ok(files.size < m.variants.length, 'the manifest has variants sharing a file')
  for (const v of m.variants) {
    const owner = m.variants.find(u => u.spec.file === v.spec.file)!
    t.equal(v.session, owner.session, `${v.name} runs on ${owner.name}'s session`)
    t.equal(v.state, 'ready')
  }
})

t.test('every variant decides the golden rows as golden.json says, with their group labels', async t => {
  const { gw, app } = await startGateway({ models: { warmup_runs: 0 } })
  t.teardown(async () => { await app.close(); await gw.close() })
  for (const v of manifest.variants) {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/predict',
      payload: { model: 'income', variant: v.name, instances: rows.map(r => r.features), groups: g.groups }
    })
    t.equal(res.statusCode, 200, `${v.name}: ${res.body.slice(0, 200)}`)
    const out = res.json() as Array<{ variant: string, score: number, decision: number, threshold: number }>
    t.same(out.map(o => o.decision), g.decisions[v.name], `${v.name}: decisions`)
    t.same(out.map(o => o.threshold), g.thresholds[v.name], `${v.name}: thresholds`)
  }
  const metrics = parseMetrics(await (await app.inject({ method: 'GET', url: '/metrics' })).body)
  const unlabelled = g.groups.filter(x => x === null).length
  for (const v of manifest.variants) {
    const byGroup = v.decision !== undefined && 'by_group' in v.decision
    t.equal(metrics.get(`fairgate_decisions_without_group_total{model="income",variant="${v.name}"}`) ?? 0, byGroup ? unlabelled : 0,
      `${v.name}: ${byGroup ? 'rows without the attribute are counted' : 'a plain threshold needs no group'}`)
  }
})

t.test('with inference threads, small batches of a cheap variant run on the HTTP thread', async t => {
  const { cfg, m } = await loadIncome(t, { inference_threads: 1, warmup_runs: 1 }, 64)
  t.equal(cfg.models.inline_max_ms, 0.25, 'the default limit')
  const distilled = m.variant('distilled')
  for (const v of m.variants) {
    // A variant whose one-row run is not clearly within the limit starts with its gate off (and
    // keeps no inline session past twice the limit); every batch goes to a thread.
    if (v.session === null || !v.inlineGate.on) t.notOk(v.runsInline(1), `${v.name} (${v.inlineMs(1).toFixed(3)} ms for one row) runs on the threads`)
    else t.ok(v.inlineMs(1) <= cfg.models.inline_max_ms * (1 - v.inlineGate.margin), `${v.name} runs one row inline (${v.inlineMs(1).toFixed(3)} ms, clearly within the limit)`)
  }
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
})

t.test('with the gate on, one batch in PROBE_EVERY too large by the estimate still runs inline and re-teaches the per-row cost', async t => {
  const { cfg, m } = await loadIncome(t, { inference_threads: 1, warmup_runs: 1 }, 64)
  const v = m.variant('distilled')
  const limit = cfg.models.inline_max_ms
  // What a busy warm-up left: one row clearly within the limit, 64 rows just past it (the per-row
  // part is learned only from runs on this thread, so nothing else would ever correct it).
  v.inlineGate.start(limit, 0.05)
  seed(v.inlineCost, 0.05, (1.2 * limit - 0.05) / 64)
  t.ok(v.inlineGate.on)
  t.notOk(v.runsInline(64), 'by the estimate, 64 rows are past the limit')
  const pool = v.pool!
  const run = pool.run
  let pooled = 0
  pool.run = async (key, input, rows, width) => { pooled++; return await run.call(pool, key, input, rows, width) }
  t.teardown(() => { pool.run = run })
  const input = new Float32Array(64 * m.width)
  for (let r = 0; r < 64; r++) m.encoder.encode(rows[r % rows.length]!.features, input, r * m.width, 'features')
  const sized = v.inlineCost.sizedRuns
  for (let i = 0; i < 2 * PROBE_EVERY; i++) await v.run(input, 64)
  t.equal(pooled, 2 * PROBE_EVERY - 2, 'all but one in PROBE_EVERY went to the thread')
  t.equal(v.inlineCost.sizedRuns, sized + 2, 'each probe taught the per-row part')
  // Past PROBE_REACH × the limit by the estimate, nothing is probed: a probe may not hold the
  // HTTP thread for much longer than the limit allows.
  seed(v.inlineCost, 0.05, (PROBE_REACH * 1.1 * limit - 0.05) / 64)
  pooled = 0
  for (let i = 0; i < PROBE_EVERY; i++) await v.run(input, 64)
  t.equal(pooled, PROBE_EVERY, 'a batch far past the limit always goes to the thread')
})

t.test('a variant whose sha256 does not match is not ready; the others serve', async t => {
  const cfg = validateConfig({ models: { dir: MODELS_DIR, warmup_runs: 0, inference_threads: 0 } })
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
