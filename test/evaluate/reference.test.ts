// fairgate evaluate against Fairlearn and scikit-learn on the bundled model's own predictions
// (test/fixtures/evaluate/income-reference.json, made by make_fixture.py there): the same rows
// scored by the gateway's runtime give the same scores; every per-group rate and gap equals
// Fairlearn's, accuracy/AUC/log loss/Brier/ECE scikit-learn's (and numpy's), and the membership
// attack's AUC equals roc_auc_score on the same losses — each within 1e-9.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { advantage, rocAuc } from '../../src/evaluate/index.js'
import { ROOT } from '../helpers/gateway.js'
import { EVAL_FILE, TRAIN_FILE, jsonlLines, runEvaluate, tempJsonl } from '../helpers/evaluate.js'

interface Expected {
  groups: Record<string, { n: number, selection_rate: number, labelled: number, tpr: number | null, fpr: number | null, positives: number, negatives: number }>
  demographic_parity_difference: number | null
  demographic_parity_ratio: number | null
  equal_opportunity_difference: number | null
  equalized_odds_difference: number | null
}
interface Attack { auc: number, advantage: number }
interface Fixture {
  eval_rows: number[]
  train_rows: number
  scores: Record<string, number[]>
  variants: Record<string, { file: string, quality: Record<string, number>, expected: Record<string, Expected> }>
  membership: Record<string, Attack & { members: number[], nonmembers: number[], groups: Record<string, Record<string, Attack & { members: number, nonmembers: number }>> }>
}

const fx = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'evaluate', 'income-reference.json'), 'utf8')) as Fixture
const TOL = 1e-9
const close = (a: number | null | undefined, b: number | null | undefined): boolean => (a === null || a === undefined || b === null || b === undefined) ? a === b : Math.abs(a - b) <= TOL

t.test('the attack AUC and advantage of the fixture losses equal scikit-learn\'s', async t => {
  for (const [file, m] of Object.entries(fx.membership)) {
    const score = [...m.members, ...m.nonmembers].map(x => -x)
    const truth = [...m.members.map(() => 1), ...m.nonmembers.map(() => 0)]
    t.ok(close(rocAuc(score, truth), m.auc), `${file}: AUC ${rocAuc(score, truth)} vs roc_auc_score ${m.auc}`)
    t.ok(close(advantage(score, truth), m.advantage), `${file}: advantage ${advantage(score, truth)} vs roc_curve ${m.advantage}`)
  }
})

t.test('evaluate on the fixture rows matches Fairlearn and scikit-learn', async t => {
  const evalLines = jsonlLines(EVAL_FILE)
  const data = tempJsonl(fx.eval_rows.map(i => evalLines[i]!), 'held-out.jsonl')
  const trainSample = tempJsonl(jsonlLines(TRAIN_FILE).slice(0, fx.train_rows), 'train.jsonl')
  const { report, rows } = await runEvaluate({ monitor: { min_samples: 1, min_labelled: 1, report_min: 1 } }, { data, trainSample })
  t.equal(report.data.rows, fx.eval_rows.length)
  t.same(Object.keys(report.variants).sort(), Object.keys(fx.variants).sort(), 'every variant evaluated')

  for (const [name, want] of Object.entries(fx.variants)) {
    const got = report.variants[name]!
    const r = rows.get(name)!
    // The same predictions: onnxruntime-node through the gateway's runtime vs onnxruntime in Python.
    const ref = fx.scores[want.file]!
    let maxDiff = 0
    for (let i = 0; i < ref.length; i++) maxDiff = Math.max(maxDiff, Math.abs(r.scores[i]! - ref[i]!))
    t.ok(maxDiff <= 1e-6, `${name}: scores equal the fixture's (max |Δ| ${maxDiff})`)

    for (const k of ['accuracy', 'auc', 'log_loss', 'brier', 'ece'] as const) {
      t.ok(close(got.quality[k], want.quality[k]), `${name} ${k}: ${got.quality[k]} vs ${want.quality[k]}`)
    }

    for (const [attr, w] of Object.entries(want.expected)) {
      const a = got.attributes[attr]!
      t.same(Object.keys(a.groups).sort(), Object.keys(w.groups).sort(), `${name}/${attr}: the same groups`)
      for (const [g, wg] of Object.entries(w.groups)) {
        const x = a.groups[g]!
        const ok = x.n === wg.n && close(x.selection_rate, wg.selection_rate) && x.positives === wg.positives && x.negatives === wg.negatives && close(x.tpr, wg.tpr) && close(x.fpr, wg.fpr)
        if (!ok) t.fail(`${name}/${attr}/${g}: got ${JSON.stringify(x)} want ${JSON.stringify(wg)}`)
      }
      const gaps = a.gaps
      t.ok(close(gaps.demographic_parity_difference, w.demographic_parity_difference), `${name}/${attr} DPD ${gaps.demographic_parity_difference} vs ${w.demographic_parity_difference}`)
      t.ok(close(gaps.demographic_parity_ratio, w.demographic_parity_ratio), `${name}/${attr} DPR`)
      t.ok(close(gaps.equal_opportunity_difference, w.equal_opportunity_difference), `${name}/${attr} EOD ${gaps.equal_opportunity_difference} vs ${w.equal_opportunity_difference}`)
      t.ok(close(gaps.equalized_odds_difference, w.equalized_odds_difference), `${name}/${attr} equalized odds`)
    }

    // Membership: the same losses, and the report's AUC is roc_auc_score's.
    const m = fx.membership[want.file]!
    let lossDiff = 0
    for (let i = 0; i < m.members.length; i++) lossDiff = Math.max(lossDiff, Math.abs(r.members![i]! - m.members[i]!))
    for (let i = 0; i < m.nonmembers.length; i++) lossDiff = Math.max(lossDiff, Math.abs(r.nonmembers![i]! - m.nonmembers[i]!))
    t.ok(lossDiff <= TOL, `${name}: losses equal the fixture's (max |Δ| ${lossDiff})`)
    const p = got.privacy!
    t.equal(p.members, m.members.length)
    t.ok(close(p.auc, m.auc), `${name}: membership AUC ${p.auc} vs roc_auc_score ${m.auc}`)
    t.ok(close(p.advantage, m.advantage), `${name}: membership advantage ${p.advantage} vs ${m.advantage}`)
    for (const [attr, groups] of Object.entries(m.groups)) {
      t.same(Object.keys(p.groups[attr] ?? {}).sort(), Object.keys(groups).sort(), `${name}/${attr}: membership groups`)
      for (const [g, wg] of Object.entries(groups)) {
        const x = p.groups[attr]![g]!
        if (!(x.members === wg.members && x.nonmembers === wg.nonmembers && close(x.auc, wg.auc) && close(x.advantage, wg.advantage))) t.fail(`${name} membership ${attr}/${g}: ${JSON.stringify(x)} vs ${JSON.stringify(wg)}`)
      }
    }
  }
})
