// `fairgate validate` as an operator runs it (the built CLI): green on the bundled model, and on a
// broken tree it prints every problem, not only the first, and exits 1.
import { execFile } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import YAML from 'yaml'
import { INCOME_DIR, MODELS_DIR, ROOT } from '../helpers/gateway.js'

const run = async (env: Record<string, string>): Promise<{ code: number, out: string }> => {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [join(ROOT, 'dist', 'cli', 'index.js'), 'validate'], { cwd: ROOT, env: { ...process.env, ...env } })
    return { code: 0, out: stdout + stderr }
  } catch (err) {
    const e = err as { code: number, stdout: string, stderr: string }
    return { code: e.code, out: e.stdout + e.stderr }
  }
}

t.test('validate is green on the bundled model and policy', async t => {
  const r = await run({ FAIRGATE_MODELS_DIR: MODELS_DIR, FAIRGATE_POLICY_DIR: join(ROOT, 'policies') })
  t.equal(r.code, 0, r.out)
  for (const v of ['full', 'distilled', 'fair', 'int8']) t.match(r.out, new RegExp(`ok +income/${v}: ready \\(golden 200 rows max \\|Δ\\| [0-9.e+-]+, batch 1 vs 64`), `${v}: golden and batch checks ran`)
  t.match(r.out, /ok +income\/full-eo: ready \(the session of full\)/)
  t.match(r.out, /ok +policy\.dir: 1 policy/)
  t.match(r.out, /^0 errors, 0 warnings$/m)
})

t.test('validate prints every problem and exits 1', async t => {
  const root = mkdtempSync(join(tmpdir(), 'fairgate-validate-'))
  const models = join(root, 'models')
  // income with a wrong checksum on one variant and a golden file whose scores were changed.
  const income = join(models, 'income')
  mkdirSync(income, { recursive: true })
  const m = YAML.parse(readFileSync(join(INCOME_DIR, 'model.yaml'), 'utf8'))
  m.variants = m.variants.filter((v: { name: string }) => v.name === 'distilled' || v.name === 'fair')
  m.variants[1].sha256 = '0'.repeat(64)
  m.baseline.variant = 'distilled'
  for (const v of m.variants) copyFileSync(join(INCOME_DIR, v.file), join(income, v.file))
  writeFileSync(join(income, 'model.yaml'), YAML.stringify(m))
  const golden = JSON.parse(readFileSync(join(INCOME_DIR, 'golden.json'), 'utf8'))
  golden.variants.distilled[3] += 0.01
  writeFileSync(join(income, 'golden.json'), JSON.stringify(golden))
  // a second model whose manifest has a typo'd key
  mkdirSync(join(models, 'typo'))
  writeFileSync(join(models, 'typo', 'model.yaml'), YAML.stringify({ ...m, name: 'typo', treshold: 0.3 }))
  // a policy for a model that is not there
  const policies = join(root, 'policies')
  mkdirSync(policies)
  writeFileSync(join(policies, 'credit.yaml'), 'model: credit\nvariants: [logreg]\n')
  const r = await run({ FAIRGATE_MODELS_DIR: models, FAIRGATE_POLICY_DIR: policies })
  t.equal(r.code, 1, 'exit 1')
  t.match(r.out, /error +\S*typo\/model\.yaml: .*at "treshold": unknown key/, 'the unknown key, named')
  t.match(r.out, /error +policy\.dir: .*unknown model "credit": no .*credit\/model\.yaml \(models\.dir\) for this policy in .*policies \(policy\.dir\)/, 'the policy naming a missing model, with both folders')
  t.match(r.out, /error +income\/distilled: golden\.json: scores differ by up to 1\.00e-2/, 'the golden mismatch')
  t.match(r.out, /error +income\/fair: failed to load: sha256 mismatch/, 'the checksum')
  t.match(r.out, /^4 errors, 0 warnings$/m)
})
