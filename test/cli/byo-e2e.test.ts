// Issue 18: the suite brings a model of its own, the way docs/models.md tells a reader to. The
// recipe's shell blocks are read from docs/models.md and run as written (the set-up block at the
// repository root, the recipe in a scratch folder): a synthetic data set, two scikit-learn models
// exported with skl2onnx, `fairgate init` → `fairgate validate`. The model is then served, the
// evaluation table sent with group labels, its labels posted as feedback, and every per-group
// figure of GET /v1/fairness checked against one computed here from scikit-learn's own
// probabilities (predict_proba, not the ONNX files), independently of the monitor.
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import YAML from 'yaml'
import { FakeClock } from '../helpers/fake-clock.js'
import { ROOT, startGateway } from '../helpers/gateway.js'

const exec = promisify(execFile)
const VENV = join(ROOT, '.venv-sklearn')
const DOC = readFileSync(join(ROOT, 'docs', 'models.md'), 'utf8')

/** The shell block after `<!-- recipe:NAME -->` in docs/models.md. */
function recipe (name: string): string {
  const m = new RegExp(`<!-- recipe:${name} -->\\n\`\`\`sh\\n([\\s\\S]*?)\`\`\``).exec(DOC)
  if (m === null) throw new Error(`docs/models.md has no recipe:${name} block`)
  return m[1]!
}

async function sh (script: string, cwd: string, env: Record<string, string> = {}): Promise<string> {
  try {
    const { stdout, stderr } = await exec('bash', ['-euo', 'pipefail', '-c', script], { cwd, env: { ...process.env, ...env }, maxBuffer: 64 << 20 })
    return stdout + stderr
  } catch (err) {
    const e = err as { message: string, stdout?: string, stderr?: string }
    throw new Error(`${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`)
  }
}

interface Row { income: number, debt: number, years: number, region: string, purpose: string, sex: string, approved: number }
function readCsv (file: string): Row[] {
  const [head, ...lines] = readFileSync(file, 'utf8').trim().split(/\r?\n/)
  const cols = head!.split(',')
  return lines.map(l => {
    const cells = l.split(',')
    const o: Record<string, string> = Object.fromEntries(cols.map((c, i) => [c, cells[i]!]))
    return { income: Number(o.income), debt: Number(o.debt), years: Number(o.years), region: o.region!, purpose: o.purpose!, sex: o.sex!, approved: Number(o.approved) }
  })
}

interface GroupFigures { n: number, selection_rate: number, tpr: number | null, fpr: number | null }
/** Per-group n, selection rate, TPR and FPR of decisions `p >= threshold`, counted directly. */
function reference (rows: readonly Row[], p: readonly number[], threshold: number): Record<string, GroupFigures> {
  const out: Record<string, GroupFigures> = {}
  for (const g of [...new Set(rows.map(r => r.sex))]) {
    let n = 0; let sel = 0; let pos = 0; let tp = 0; let neg = 0; let fp = 0
    rows.forEach((r, i) => {
      if (r.sex !== g) return
      const d = p[i]! >= threshold ? 1 : 0
      n++; sel += d
      if (r.approved === 1) { pos++; tp += d } else { neg++; fp += d }
    })
    out[g] = { n, selection_rate: sel / n, tpr: pos > 0 ? tp / pos : null, fpr: neg > 0 ? fp / neg : null }
  }
  return out
}

const close = (a: number | null | undefined, b: number | null | undefined): boolean => a === b || (typeof a === 'number' && typeof b === 'number' && Math.abs(a - b) <= 1e-12)

t.test('a scikit-learn model of the suite\'s own, by docs/models.md: init → validate → serve → feedback → /v1/fairness', async t => {
  // Test set-up: the pinned venv (created on a fresh clone, reused while the requirements are unchanged).
  await sh('scripts/python-venv.sh examples/sklearn/requirements.txt .venv-sklearn', ROOT)
  t.ok(existsSync(join(VENV, 'bin', 'python')), 'the pinned venv exists')
  // The reader's set-up block, as written, at the repository root (idempotent on that venv).
  await sh(recipe('sklearn-setup'), ROOT)

  // The recipe, as written, from a scratch folder that sees the repository's examples/ and dist/.
  const work = mkdtempSync(join(tmpdir(), 'fairgate-byo-'))
  t.teardown(() => { rmSync(work, { recursive: true, force: true }) })
  for (const d of ['examples', 'dist']) symlinkSync(join(ROOT, d), join(work, d))
  const path = { PATH: `${join(VENV, 'bin')}:${process.env.PATH ?? ''}` }
  const out = await sh(recipe('sklearn'), work, path)
  t.match(out, /wrote \S+my-models\/credit\/model\.yaml: 5 features \(13 columns\), 2 variants, input "input", output "probabilities"/, 'init wrote the manifest')
  t.match(out, /ok +credit\/logreg: ready \(golden 200 rows/, 'validate: logreg ready, golden checked')
  t.match(out, /ok +credit\/mlp: ready \(golden 200 rows/, 'validate: mlp ready, golden checked')
  t.match(out, /^0 errors, 0 warnings$/m, 'validate is green')

  // Stable hashes: a second export of the same training gives the same bytes; its --scores are
  // scikit-learn's predict_proba on the evaluation table, the reference below.
  await sh('python examples/sklearn/train.py --data my-data/train.csv --label approved --numeric income,debt,years --categorical region,purpose --log1p income --out my-data/again --eval my-data/eval.csv --scores my-data/sklearn-scores.json', work, path)
  for (const v of ['logreg', 'mlp']) t.ok(readFileSync(join(work, 'my-data', 'onnx', `${v}.onnx`)).equals(readFileSync(join(work, 'my-data', 'again', `${v}.onnx`))), `${v}: the same bytes on a second export`)
  const sk = JSON.parse(readFileSync(join(work, 'my-data', 'sklearn-scores.json'), 'utf8')) as Record<string, number[]>
  const rows = readCsv(join(work, 'my-data', 'eval.csv'))
  const manifest = YAML.parse(readFileSync(join(work, 'my-models', 'credit', 'model.yaml'), 'utf8'))

  const { app } = await startGateway({
    models: { dir: join(work, 'my-models'), inference_threads: 1 },
    policy: { dir: join(work, 'my-policies'), evaluate: false },
    monitor: { refresh_ms: 0 }
  }, { clock: new FakeClock() })
  t.teardown(async () => { await app.close() })

  for (const variant of ['logreg', 'mlp']) {
    const p = sk[variant]!
    t.equal(p.length, rows.length)
    let maxDiff = 0
    let flipped = 0
    for (let i = 0; i < rows.length; i += 100) {
      const part = rows.slice(i, i + 100)
      const res = await app.inject({
        method: 'POST',
        url: '/v1/predict',
        payload: { model: 'credit', variant, instances: part.map(r => ({ income: r.income, debt: r.debt, years: r.years, region: r.region, purpose: r.purpose })), groups: part.map(r => ({ sex: r.sex })) }
      })
      if (res.statusCode !== 200) t.fail(`${variant} rows ${i}+: ${res.statusCode} ${res.body}`)
      const answers = res.json() as Array<{ id: string, variant: string, score: number, decision: number }>
      answers.forEach((a, j) => {
        if (a.variant !== variant) t.fail(`row ${i + j} served by ${a.variant}`)
        maxDiff = Math.max(maxDiff, Math.abs(a.score - p[i + j]!))
        if (a.decision !== (p[i + j]! >= manifest.threshold ? 1 : 0)) flipped++
      })
      const fb = await app.inject({ method: 'POST', url: '/v1/feedback', payload: answers.map((a, j) => ({ prediction_id: a.id, label: part[j]!.approved })) })
      if (fb.statusCode !== 202) t.fail(`${variant} feedback ${i}+: ${fb.statusCode} ${fb.body}`)
    }
    t.ok(maxDiff < 1e-5, `${variant}: served scores are scikit-learn's predict_proba[:, 1] (max |Δ| ${maxDiff.toExponential(1)}, float32)`)
    t.equal(flipped, 0, `${variant}: every decision is scikit-learn's`)
  }

  const res = await app.inject({ method: 'GET', url: '/v1/fairness?model=credit' })
  t.equal(res.statusCode, 200)
  const live = (res.json() as { models: Array<{ variants: Record<string, { n: number, attributes: Record<string, { groups: Record<string, GroupFigures>, gaps: Record<string, number | null> }> }> }> }).models[0]!
  for (const [i, variant] of ['logreg', 'mlp'].entries()) {
    const want = reference(rows, sk[variant]!, manifest.threshold)
    const lv = live.variants[variant]!
    t.equal(lv.n, rows.length, `${variant}: the monitor saw every row`)
    const got = lv.attributes.sex!
    t.same(Object.keys(got.groups).sort(), Object.keys(want).sort(), `${variant}: both groups reported`)
    for (const [g, w] of Object.entries(want)) {
      const l = got.groups[g]!
      t.ok(l.n === w.n && close(l.selection_rate, w.selection_rate) && close(l.tpr, w.tpr) && close(l.fpr, w.fpr), `${variant}/${g}: /v1/fairness ${JSON.stringify({ n: l.n, selection_rate: l.selection_rate, tpr: l.tpr, fpr: l.fpr })} = reference ${JSON.stringify(w)}`)
      // init --eval computed the manifest's offline metrics through the runtime: the same figures.
      const m = manifest.variants[i].metrics.groups.sex[g]
      t.ok(m.n === w.n && close(m.selection_rate, w.selection_rate) && close(m.tpr, w.tpr) && close(m.fpr, w.fpr), `${variant}/${g}: model.yaml metrics = reference`)
    }
    const rates = Object.values(want).map(w => w.selection_rate)
    t.ok(close(got.gaps.demographic_parity_difference, Math.max(...rates) - Math.min(...rates)), `${variant}: demographic parity difference ${got.gaps.demographic_parity_difference}`)
    t.ok(Math.max(...rates) - Math.min(...rates) > 0.02, `${variant}: the groups differ (the check can tell them apart)`)
  }
  // The serve block's request, as the docs send it (after the report, which it would join).
  const curl = /-d '(\{.*\})'/.exec(DOC.slice(DOC.indexOf('and serve it:')))
  t.ok(curl, 'the docs show a request')
  const one = await app.inject({ method: 'POST', url: '/v1/predict', payload: JSON.parse(curl![1]!) })
  t.equal(one.statusCode, 200, one.body)
  t.match(one.json(), { variant: 'logreg', score: Number, decision: Number }, 'the documented request is served by the first variant')
  // Missing values and numeric strings: a 400 naming the field, as docs/models.md#feature-encoding says.
  const doc = JSON.parse(curl![1]!) as { features: Record<string, unknown> }
  const bad: Array<[string, (f: Record<string, unknown>) => void, RegExp]> = [
    ['a numeric string', f => { f.income = '42000' }, /features\.income: must be a finite number/],
    ['a missing numeric', f => { delete f.debt }, /features\.debt: is required \(a number\)/],
    ['null', f => { f.years = null }, /features\.years: must be a finite number/],
    ['a missing category', f => { delete f.region }, /features\.region: is required \(a string\)/]
  ]
  for (const [what, mutate, re] of bad) {
    const body = structuredClone(doc)
    mutate(body.features)
    const r = await app.inject({ method: 'POST', url: '/v1/predict', payload: body })
    t.equal(r.statusCode, 400, `${what}: 400`)
    t.match(r.json(), { code: 'FG_ERR_REQUEST_INVALID', error: re }, `${what}: named`)
  }
})
