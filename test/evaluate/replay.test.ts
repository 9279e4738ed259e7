// evaluate and a running gateway agree: the rows evaluate scores offline, replayed through an
// in-process gateway (POST /v1/predict pinned to each variant, their labels through
// POST /v1/feedback), give the same per-group selection rates, TPR and FPR in /v1/fairness as
// evaluate's report — one monitor, one definition, whether the rows came over HTTP or not.
import t from 'tap'
import { EVAL_FILE, jsonlLines, runEvaluate, tempJsonl } from '../helpers/evaluate.js'
import { startGateway, type EvalRow } from '../helpers/gateway.js'

const ROWS = 1200
const CHUNK = 100

t.test('per-group rates in /v1/fairness equal evaluate\'s', async t => {
  const lines = jsonlLines(EVAL_FILE).slice(0, ROWS)
  const { report } = await runEvaluate({}, { data: tempJsonl(lines), trainSample: tempJsonl(jsonlLines(EVAL_FILE).slice(ROWS, ROWS + 200)) })
  const rows = lines.map(l => JSON.parse(l) as EvalRow)
  // No policy engine: pinned requests, nothing switching while the rows go in.
  const { app } = await startGateway({ policy: { evaluate: false } })
  t.teardown(async () => { await app.close() })
  const variants = Object.keys(report.variants)
  t.equal(variants.length, 6, 'every variant of the manifest evaluated')
  for (const variant of variants) {
    for (let i = 0; i < ROWS; i += CHUNK) {
      const part = rows.slice(i, i + CHUNK)
      const res = await app.inject({ method: 'POST', url: '/v1/predict', payload: { model: 'income', variant, instances: part.map(r => r.features), groups: part.map(r => r.group) } })
      t.equal(res.statusCode, 200, res.body)
      const answers = res.json() as Array<{ id: string, variant: string }>
      if (answers.some(a => a.variant !== variant)) t.fail(`${variant}: a row was served by another variant`)
      const fb = await app.inject({ method: 'POST', url: '/v1/feedback', payload: answers.map((a, j) => ({ prediction_id: a.id, label: part[j]!.label })) })
      t.equal(fb.statusCode, 202, fb.body)
    }
  }
  const res = await app.inject({ method: 'GET', url: '/v1/fairness?model=income' })
  t.equal(res.statusCode, 200)
  const live = (res.json() as { models: Array<{ variants: Record<string, { n: number, attributes: Record<string, { groups: Record<string, { n: number, selection_rate: number, tpr: number | null, fpr: number | null }>, gaps: Record<string, number | null> }> }> }> }).models[0]!
  let compared = 0
  for (const variant of variants) {
    const lv = live.variants[variant]!
    t.equal(lv.n, ROWS, `${variant}: the gateway saw every row`)
    for (const [attr, table] of Object.entries(report.variants[variant]!.attributes)) {
      const la = lv.attributes[attr]!
      t.same(Object.keys(la.groups).sort(), Object.keys(table.groups).sort(), `${variant}/${attr}: the same groups shown`)
      for (const [g, row] of Object.entries(table.groups)) {
        const lg = la.groups[g]!
        if (lg.n !== row.n || lg.selection_rate !== row.selection_rate || lg.tpr !== row.tpr || lg.fpr !== row.fpr) {
          t.fail(`${variant}/${attr}/${g}: live ${JSON.stringify(lg)} vs evaluate ${JSON.stringify(row)}`)
        }
        compared++
      }
      t.equal(la.gaps.demographic_parity_difference, table.gaps.demographic_parity_difference, `${variant}/${attr}: the same DPD`)
      t.equal(la.gaps.equalized_odds_difference, table.gaps.equalized_odds_difference, `${variant}/${attr}: the same equalized odds`)
    }
  }
  t.ok(compared >= variants.length * 5, `${compared} group rows compared`)
  // Not trivially equal: the variants differ from each other, so the comparison can tell them apart.
  const female = (v: string): number => report.variants[v]!.attributes.sex!.groups.Female!.selection_rate
  t.not(female('full'), female('full-eo'), 'the decision-rule variant has its own rates')
})
