// Issue 14, defect 18: a variant whose ONNX output is an int64 label used to load "ready", and its
// first request crashed the whole gateway. End to end against a real gateway process: output
// dtype and shape are checked at load, a mismatch fails that variant with its reason, and the
// others keep serving.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import YAML from 'yaml'
import { evalRows, INCOME_DIR, ROOT } from '../helpers/gateway.js'
import { serveCli } from '../helpers/process.js'
import { sha256File } from '../../src/models/registry.js'

const rows = evalRows()
const FIXTURES = join(ROOT, 'test', 'fixtures', 'models')

/** A models dir: income with its distilled variant, an int64 variant and a two-column one. */
function modelsDir (): string {
  const root = mkdtempSync(join(tmpdir(), 'fairgate-models-'))
  const dir = join(root, 'income')
  mkdirSync(dir)
  const manifest = YAML.parse(readFileSync(join(INCOME_DIR, 'model.yaml'), 'utf8')) as { variants: Array<Record<string, unknown>>, baseline?: unknown }
  symlinkSync(join(INCOME_DIR, 'distilled.onnx'), join(dir, 'distilled.onnx'))
  const distilled = manifest.variants.find(v => v.name === 'distilled')!
  const variants = [distilled]
  for (const [name, file] of [['label', 'int64-label.onnx'], ['columns', 'two-columns.onnx']] as const) {
    copyFileSync(join(FIXTURES, file), join(dir, file))
    variants.push({ name, file, sha256: sha256File(join(dir, file)) })
  }
  manifest.variants = variants
  delete manifest.baseline
  writeFileSync(join(dir, 'model.yaml'), YAML.stringify(manifest))
  return root
}

t.test('a variant whose output the gateway cannot read fails at load; the rest serve', async t => {
  const policies = mkdtempSync(join(tmpdir(), 'fairgate-policies-'))
  const s = await serveCli({ FAIRGATE_MODELS_DIR: modelsDir(), FAIRGATE_POLICY_DIR: policies })
  t.teardown(() => { s.child.kill('SIGKILL') })
  const v = await (await fetch(`${s.url}/v1/variants`)).json() as { models: Array<{ variants: Array<{ name: string, state: string, error: string | null }> }> }
  const byName = new Map(v.models[0]!.variants.map(x => [x.name, x]))
  t.equal(byName.get('distilled')!.state, 'ready')
  t.match(byName.get('label'), { state: 'failed', error: /output "probability" is int64/ }, 'int64 output: failed, with the reason')
  // Issue 18: [N, 2] is read at output.column, default 1 (test/models/strict-loading.test.ts checks the scores).
  t.match(byName.get('columns'), { state: 'ready' }, '[N, 2] output: ready, read at the documented default column')

  const predict = async (variant?: string): Promise<Response> => await fetch(`${s.url}/v1/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'income', features: rows[0]!.features, ...(variant === undefined ? {} : { variant }) })
  })
  const pinned = await predict('label')
  t.equal(pinned.status, 503, 'a request pinned to the failed variant is told it is not ready')
  t.match(await pinned.json(), { code: 'FG_ERR_MODEL_NOT_READY' })
  const r = await predict()
  t.equal(r.status, 200, 'the ready variant serves')
  t.match(await r.json(), { variant: 'distilled', score: Number })
  t.equal(s.child.exitCode, null, 'the process is alive')
})
