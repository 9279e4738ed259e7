// Issue 18's failure table: a model of one's own is served correctly or refused, never answered
// with wrong scores and never a crash. Real skl2onnx exports (test/fixtures/models/make_sklearn.py)
// in real onnxruntime sessions, on this thread and on the inference threads.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import YAML from 'yaml'
import { validateConfig } from '../../src/config/index.js'
import { ModelRegistry, validateManifest, sha256File } from '../../src/models/index.js'
import { ROOT, silentLog } from '../helpers/gateway.js'

const FIXTURES = join(ROOT, 'test', 'fixtures', 'models')
const expected = JSON.parse(readFileSync(join(FIXTURES, 'sk-expected.json'), 'utf8')) as { encoded: number[][], p1: number[] }

/** A manifest of the fixtures' encoding: 2 numeric columns, one categorical of 2 values + unknown = 5. */
function manifest (name: string, file: string, over: { input?: object, output?: object, vocabulary?: string[] } = {}): any {
  return {
    name,
    input: { name: 'X', width: 2 + (over.vocabulary?.length ?? 2) + 1, ...over.input },
    output: { name: 'probabilities', ...over.output },
    features: [
      { name: 'x1', kind: 'numeric', mean: 0, std: 1 },
      { name: 'x2', kind: 'numeric', mean: 0, std: 1 },
      { name: 'c', kind: 'categorical', vocabulary: over.vocabulary ?? ['a', 'b'] }
    ],
    groups: { sex: ['Female', 'Male'] },
    variants: [{ name: 'v', file, sha256: sha256File(join(FIXTURES, file)) }]
  }
}

const CASES: Array<[string, string, Parameters<typeof manifest>[2]]> = [
  ['zipmap', 'sk-zipmap.onnx', { output: { name: 'output_probability' } }],
  ['two-columns', 'sk-proba.onnx', {}],
  ['two-columns-col0', 'sk-proba.onnx', { output: { column: 0 } }],
  ['label', 'sk-proba.onnx', { output: { name: 'label' } }],
  ['float64', 'sk-float64.onnx', { output: { name: 'probability' } }],
  ['one-column-col1', 'sk-float64.onnx', { output: { name: 'probability', column: 1 } }],
  ['input-name', 'sk-proba.onnx', { input: { name: 'input' } }],
  ['input-width', 'sk-proba.onnx', { vocabulary: ['a', 'b', 'c'] }],
  ['output-name', 'sk-proba.onnx', { output: { name: 'probability' } }]
]

function modelsDir (): string {
  const root = mkdtempSync(join(tmpdir(), 'fairgate-strict-'))
  for (const [name, file, over] of CASES) {
    const dir = join(root, name)
    mkdirSync(dir)
    copyFileSync(join(FIXTURES, file), join(dir, file))
    writeFileSync(join(dir, 'model.yaml'), YAML.stringify(manifest(name, file, over)))
  }
  return root
}

for (const threads of [0, 1]) {
  t.test(`each layout is served correctly or failed at load with its reason (inference_threads ${threads})`, async t => {
    const cfg = validateConfig({ models: { dir: modelsDir(), warmup_runs: 1, inference_threads: threads, inline_max_ms: 0 } })
    const reg = new ModelRegistry(cfg.models, 64, silentLog)
    t.teardown(async () => { await reg.close() })
    reg.discover()
    await reg.load()
    const v = (m: string): { state: string, error: string | null } => reg.model(m).variant('v')

    t.match(v('zipmap'), { state: 'failed', error: /"output\.name".*not a tensor \(a ZipMap.*"zipmap": False/ }, 'ZipMap output: failed with the export hint')
    t.match(v('label'), { state: 'failed', error: /"output\.name".*output "label" is int64: a class label.*probabilities \[N, 2\] float32/ }, 'int64 output: failed at load, listing the outputs')
    t.match(v('one-column-col1'), { state: 'failed', error: /"output\.column": is 1 but output probability \[N, 1\] float64 has one column/ })
    t.match(v('input-name'), { state: 'failed', error: /"input\.name": the model has no input "input"; its inputs: X \[N, 5\] float32/ }, 'wrong input name: the manifest key and the model\'s inputs')
    t.match(v('input-width'), { state: 'failed', error: /"input\.width": is 6 but the model's input X \[N, 5\] float32 takes 5 columns/ }, 'wrong input width: the manifest key and the model\'s inputs')
    t.match(v('output-name'), { state: 'failed', error: /"output\.name": the model has no output "probability"; its outputs: label \[N\] int64, probabilities \[N, 2\] float32/ })

    const input = Float32Array.from(expected.encoded.flat())
    const rows = expected.encoded.length
    const close = async (model: string, want: number[], what: string): Promise<void> => {
      t.equal(v(model).state, 'ready', `${what}: ready`)
      const got = await reg.model(model).variant('v').run(input, rows)
      const diff = Math.max(...want.map((p, i) => Math.abs(p - got[i]!)))
      t.ok(diff < 1e-6, `${what}: scikit-learn's scores (max |Δ| ${diff.toExponential(1)})`)
    }
    await close('two-columns', expected.p1, '[N, 2] without output.column reads the documented default, column 1')
    await close('two-columns-col0', expected.p1.map(p => 1 - p), '[N, 2] with output.column 0 reads column 0')
    await close('float64', expected.p1, 'float64 [N, 1]')
  })
}

t.test('manifest mistakes are refused naming the key', async t => {
  const base = manifest('m', 'sk-proba.onnx')
  const cases: Array<[string, (m: any) => void, RegExp]> = [
    ['unknown feature key', m => { m.features[0].log1P = true }, /at "features\.0\.log1P": unknown key \(allowed here: name, kind, mean, std, log1p, vocabulary\)/],
    ['unknown top-level key', m => { m.treshold = 0.3 }, /at "treshold": unknown key/],
    ['unknown output key', m => { m.output.colum = 1 }, /at "output\.colum": unknown key \(allowed here: name, column\)/],
    ['unknown variant key', m => { m.variants[0].sha = 'x' }, /at "variants\.0\.sha": unknown key/],
    ['misspelled baseline group', m => { m.baseline = { bin_edges: [0, 0.5, 1], groups: { sex: { Femal: { n: 1, selection_rate: 0, histogram: [1, 0] } } } } }, /at "baseline\.groups\.sex\.Femal": not a value of "sex"/],
    ['baseline attribute', m => { m.baseline = { bin_edges: [0, 1], groups: { gender: {} } } }, /at "baseline\.groups\.gender": not a group attribute/],
    ['baseline variant', m => { m.baseline = { variant: 'w', bin_edges: [0, 1], groups: {} } }, /at "baseline\.variant": "w" is not a variant/],
    ['duplicate vocabulary value', m => { m.features[2].vocabulary = ['a', 'a']; m.input.width = 5 }, /at "features\.2\.vocabulary\.1": duplicate value "a"/],
    ['threshold out of range', m => { m.threshold = 1.5 }, /at "threshold": must be within \[0, 1\]/],
    ['output column', m => { m.output.column = 2 }, /at "output\.column"/]
  ]
  for (const [name, mutate, re] of cases) {
    const m = structuredClone(base)
    mutate(m)
    t.throws(() => validateManifest(m, 'x.yaml'), { code: 'FG_ERR_MODEL_MANIFEST', message: re }, name)
  }
  t.doesNotThrow(() => validateManifest(structuredClone(base)), 'the unmutated manifest validates')
})
