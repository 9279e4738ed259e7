// `fairgate evaluate --check` (the built CLI, as CI runs it): a model family with a deliberately
// broken variant fails with exit 1, each breach naming the variant, the budget and the value; the
// same family without it passes; a policy with no offline budgets has nothing to check (exit 2).
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse, stringify } from 'yaml'
import { INCOME_DIR, ROOT } from '../helpers/gateway.js'
import { EVAL_FILE, jsonlLines } from '../helpers/evaluate.js'

const CLI = join(ROOT, 'dist', 'cli', 'index.js')

/** A models dir holding income plus `extra` variants (the ONNX files linked, not copied), and a policies dir. */
function family (extra: object[], policy: Record<string, unknown>): { config: string, out: string } {
  const root = mkdtempSync(join(tmpdir(), 'fg-check-'))
  const dir = join(root, 'models', 'income')
  mkdirSync(dir, { recursive: true })
  for (const f of ['full.onnx', 'distilled.onnx', 'fair.onnx', 'int8.onnx', 'train-sample.jsonl']) symlinkSync(join(INCOME_DIR, f), join(dir, f))
  const manifest = parse(readFileSync(join(INCOME_DIR, 'model.yaml'), 'utf8')) as { variants: object[] }
  manifest.variants.push(...extra)
  writeFileSync(join(dir, 'model.yaml'), stringify(manifest))
  mkdirSync(join(root, 'policies'))
  writeFileSync(join(root, 'policies', 'income.yaml'), stringify({ model: 'income', ...policy }))
  writeFileSync(join(root, 'eval.jsonl'), jsonlLines(EVAL_FILE).slice(0, 3000).join('\n') + '\n')
  const config = join(root, 'fairgate.yaml')
  writeFileSync(config, stringify({ log: { level: 'error' }, models: { dir: join(root, 'models'), warmup_runs: 1 }, policy: { dir: join(root, 'policies') } }))
  return { config, out: join(root, 'out') }
}

function check (f: { config: string, out: string }): { status: number | null, stderr: string } {
  const data = join(f.config, '..', 'eval.jsonl')
  const r = spawnSync(process.execPath, [CLI, 'evaluate', '--check', '--config', f.config, '--data', data, '--out', f.out, '--repeats', '5'], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 })
  return { status: r.status, stderr: r.stderr }
}

const distilled = parse(readFileSync(join(INCOME_DIR, 'model.yaml'), 'utf8')).variants.find((v: { name: string }) => v.name === 'distilled')
// Far apart thresholds for the two sexes: a selection-rate gap no budget allows.
const unfair = { ...distilled, name: 'unfair', decision: { by_group: { attribute: 'sex', thresholds: { Female: 0.95, Male: 0.2 }, default: 0.5 } } }
// A threshold that calls everyone negative: accuracy falls to the share of negatives (0.76).
const blunt = { ...distilled, name: 'blunt', decision: { threshold: 1 } }
const offline = { min_accuracy: 0.8, max_latency_ms: 10_000, max_gap: { equalized_odds_difference: 0.15 }, max_membership_advantage: 0.2 }
const fairness = [{ name: 'sex-dp', metric: 'demographic_parity_difference', attribute: 'sex', threshold: 0.1, action: { type: 'alert' } }]

t.before(() => {
  if (!existsSync(CLI)) throw new Error('dist/cli/index.js is missing: run npm run build first (npm test does)')
})

t.test('a broken variant fails the check, naming the variant, the budget and the value', async t => {
  const r = check(family([unfair, blunt], { variants: ['full', 'distilled', 'unfair', 'blunt'], fairness, offline }))
  t.equal(r.status, 1, r.stderr)
  t.match(r.stderr, /income\/unfair breaks offline\.max_gap\.equalized_odds_difference: equalized_odds_difference 0\.\d+ > 0\.15/)
  t.match(r.stderr, /income\/blunt breaks offline\.min_accuracy: accuracy 0\.\d+ < 0\.8/)
  t.notMatch(r.stderr, /income\/(full|distilled) breaks/, 'the sound variants pass')
})

t.test('the same family without the broken variants passes', async t => {
  const f = family([unfair], { variants: ['full', 'distilled'], fairness, offline })
  const r = check(f)
  t.equal(r.status, 0, r.stderr)
  t.match(r.stderr, /every variant of the policy is within offline\.min_accuracy, offline\.max_latency_ms, offline\.max_gap, offline\.max_membership_advantage/)
  // The report is written whatever the check says, unfair included (the policy does not serve it).
  const rep = JSON.parse(readFileSync(join(f.out, 'report.json'), 'utf8')) as { variants: Record<string, unknown>, breaches: unknown[] }
  t.ok('unfair' in rep.variants)
  t.same(rep.breaches, [])
  for (const file of ['report.md', 'frontier.svg', 'selection-rates.svg', 'tpr.svg']) t.ok(existsSync(join(f.out, file)), file)
})

t.test('a policy without offline budgets has nothing to check', async t => {
  const r = check(family([], { variants: ['full'] }))
  t.equal(r.status, 2, r.stderr)
  t.match(r.stderr, /declares no offline budgets/)
})
