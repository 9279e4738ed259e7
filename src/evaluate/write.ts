// The files of an evaluation: report.json (everything), report.md (the tables a reader needs),
// and the plots. Written into one directory, which is made if missing.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { OBJECTIVES, OBJECTIVE_INFO } from './frontier.js'
import type { Report } from './run.js'
import { frontierSvg, groupsSvg } from './svg.js'

const n4 = (x: number | null | undefined): string => x === null || x === undefined ? '—' : x.toFixed(4)
const n3 = (x: number | null | undefined): string => x === null || x === undefined ? '—' : x.toFixed(3)
const ci = (c: [number, number] | null | undefined): string => c === null || c === undefined ? '' : ` [${c[0].toFixed(3)}, ${c[1].toFixed(3)}]`
const mb = (b: number): string => (b / 1048576).toFixed(2)

export const FILES = ['report.json', 'report.md', 'frontier.svg', 'selection-rates.svg', 'tpr.svg'] as const

export function writeReport (rep: Report, dir: string, command: string): string[] {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'report.json'), JSON.stringify(rep, null, 2) + '\n')
  writeFileSync(join(dir, 'report.md'), markdown(rep, command))
  writeFileSync(join(dir, 'frontier.svg'), frontierSvg(rep))
  writeFileSync(join(dir, 'selection-rates.svg'), groupsSvg(rep, 'selection_rate'))
  writeFileSync(join(dir, 'tpr.svg'), groupsSvg(rep, 'tpr'))
  return FILES.map(f => join(dir, f))
}

function markdown (rep: Report, command: string): string {
  const names = Object.keys(rep.variants)
  const L: string[] = []
  L.push(`# Evaluation of \`${rep.model}\``, '')
  L.push(`Reproduce: \`${command}\` (${rep.generated_at}). Data: ${rep.data.rows} rows (${rep.data.labelled} labelled)` +
    (rep.train_sample === null ? '; no training sample, so no membership test.' : `; membership test against ${rep.train_sample.rows} training rows.`))
  L.push(`Runtime: ${rep.runtime.execution_provider}, ${rep.runtime.inference_threads} inference threads, intra-op ${rep.runtime.intra_op_threads}, inter-op ${rep.runtime.inter_op_threads}, inline up to ${rep.runtime.inline_max_ms} ms. ` +
    'Latency is a measurement on this machine at this moment; accuracy, rates, gaps and membership figures are deterministic.', '')
  L.push('![frontier](frontier.svg)', '')
  L.push('## Frontier and choice', '')
  L.push(`Objectives: ${OBJECTIVES.map(o => `${OBJECTIVE_INFO[o].label} (${OBJECTIVE_INFO[o].better} is better)`).join('; ')}. ` +
    `The gap is the largest of ${rep.gap_metrics.join(', ')} over ${rep.gap_attributes.join(', ')}. Weights (${rep.weights_from}): ${OBJECTIVES.map(o => `${o}=${rep.weights[o]}`).join(', ')}; ` +
    'each objective is scaled over the variants to 0 (worst) … 1 (best) before weighting.', '')
  L.push('| variant | accuracy | ms / 32 rows | max gap | membership advantage | frontier | weighted score |', '|---|---:|---:|---:|---:|:-:|---:|')
  for (const n of names) {
    const v = rep.variants[n]!
    L.push(`| ${n}${rep.choice.variant === n ? ' **(choice)**' : ''} | ${n4(v.objectives.accuracy)} | ${n3(v.objectives.latency)} | ${n4(v.objectives.gap)} | ${n4(v.objectives.privacy)} | ${v.on_frontier ? 'yes' : 'dominated'} | ${n3(v.score)} |`)
  }
  L.push('', `Choice: **${rep.choice.variant}**` + (rep.choice.runner_up === null ? '.' : `, ahead of ${rep.choice.runner_up} by ${n3(rep.choice.margin)}.`))
  L.push('', 'Suggested policy order (frontier first, then by weighted score):', '', '```yaml', `variants: [${rep.suggested_variants.join(', ')}]`, '```', '')
  const byGroup = names.filter(n => typeof rep.variants[n]!.decision === 'object' && rep.variants[n]!.decision !== null && 'by_group' in (rep.variants[n]!.decision as object))
  // The order is arithmetic; deciding by a protected attribute is a legal question it cannot answer.
  if (byGroup.length > 0) L.push(`${byGroup.join(', ')} decide${byGroup.length === 1 ? 's' : ''} with the row's group label (disparate treatment in some jurisdictions): the suggestion ranks ${byGroup.length === 1 ? 'it' : 'them'} by the numbers alone.`, '')
  L.push('### Sensitivity', '')
  const g = rep.sensitivity.grid
  L.push(`Over ${g.combinations} weightings (each weight in ${g.weights.join(', ')}), the share each variant wins:`, '')
  L.push(`| ${names.join(' | ')} |`, `|${names.map(() => '---:').join('|')}|`, `| ${names.map(n => `${Math.round(100 * (g.wins[n] ?? 0) / g.combinations)}%`).join(' | ')} |`, '')
  L.push('The winner as one weight moves, the others held at the chosen weights:', '')
  const sweep = rep.sensitivity.sweeps
  const ws = sweep.accuracy.map(s => s.weight)
  L.push(`| weight | ${ws.join(' | ')} |`, `|---|${ws.map(() => '---').join('|')}|`)
  for (const o of OBJECTIVES) L.push(`| ${o} | ${sweep[o].map(s => s.winner).join(' | ')} |`)
  L.push('')
  if (rep.budgets !== null) {
    L.push('## Offline budgets', '')
    L.push(`From the policy of ${rep.policy}: \`${JSON.stringify(rep.budgets)}\`.`, '')
    if (rep.breaches.length === 0) L.push('Every variant of the policy is within its budgets.', '')
    else for (const b of rep.breaches) L.push(`- ${b.message}`)
    L.push('')
  }
  L.push('## Quality', '')
  L.push('| variant | accuracy | AUC | log loss | Brier | ECE |', '|---|---:|---:|---:|---:|---:|')
  for (const n of names) { const q = rep.variants[n]!.quality; L.push(`| ${n} | ${n4(q.accuracy)} | ${n4(q.auc)} | ${n4(q.log_loss)} | ${n4(q.brier)} | ${n4(q.ece)} |`) }
  L.push('', '## Cost', '')
  L.push('Median (p99) µs per row of one batch run alone through the gateway\'s runtime; variants of one file share its session.', '')
  const sizes = rep.variants[names[0]!]!.cost.latency.map(l => l.rows)
  L.push(`| variant | ${sizes.map(s => `batch ${s}`).join(' | ')} | runs per size | model MB | session MB |`, `|---|${sizes.map(() => '---:').join('|')}|---:|---:|---:|`)
  for (const n of names) {
    const c = rep.variants[n]!.cost
    L.push(`| ${n} | ${c.latency.map(l => `${l.median_us_per_row.toFixed(1)} (${l.p99_us_per_row.toFixed(1)})`).join(' | ')} | ${c.latency[0]?.repeats ?? 0} | ${mb(c.model_bytes)} | ${mb(c.session_memory_bytes)} |`)
  }
  L.push('', '## Fairness', '')
  L.push(`The live monitor's code and definitions (Fairlearn's); ${Math.round(rep.monitor.confidence * 100)}% Wilson intervals per group, Newcombe for the gaps. ` +
    `Groups under ${rep.monitor.min_samples} rows are "insufficient" and left out of gaps; under ${rep.monitor.report_min} rows not shown; TPR/FPR need ${rep.monitor.min_labelled} labelled positives/negatives.`, '')
  L.push('![selection rates](selection-rates.svg)', '', '![TPR](tpr.svg)', '')
  const attrs = Object.keys(rep.variants[names[0]!]!.attributes)
  for (const a of attrs) {
    L.push(`### ${a}`, '')
    L.push('| variant | DPD | DP ratio | EOD | FPR diff | equalized odds |', '|---|---:|---:|---:|---:|---:|')
    for (const n of names) {
      const x = rep.variants[n]!.attributes[a]!.gaps
      L.push(`| ${n} | ${n4(x.demographic_parity_difference)}${ci(x.demographic_parity_difference_ci)} | ${n3(x.demographic_parity_ratio)} | ${n4(x.equal_opportunity_difference)}${ci(x.equal_opportunity_difference_ci)} | ${n4(x.false_positive_rate_difference)}${ci(x.false_positive_rate_difference_ci)} | ${n4(x.equalized_odds_difference)} |`)
    }
    L.push('', '| variant | group | n | selection rate | TPR | FPR | calibration |', '|---|---|---:|---:|---:|---:|---:|')
    for (const n of names) {
      for (const [gname, r] of Object.entries(rep.variants[n]!.attributes[a]!.groups)) {
        L.push(`| ${n} | ${gname}${r.status === 'ok' ? '' : ' (insufficient)'} | ${r.n} | ${n3(r.selection_rate)}${ci(r.selection_rate_ci)} | ${n3(r.tpr)}${ci(r.tpr_ci)} | ${n3(r.fpr)}${ci(r.fpr_ci)} | ${n3(r.calibration_error)} |`)
      }
    }
    L.push('')
  }
  L.push('## Privacy: membership inference', '')
  L.push('The loss-threshold attack (Yeom et al., 2018) on a balanced sample of training rows and held-out rows: AUC 0.5 and advantage 0 mean the loss tells nothing of membership. Variants of one file share the losses.', '')
  L.push('| variant | members | held out | AUC | advantage | per group: AUC (advantage) |', '|---|---:|---:|---:|---:|---|')
  for (const n of names) {
    const p = rep.variants[n]!.privacy
    if (p === null) { L.push(`| ${n} | — | — | — | — | — |`); continue }
    const per = Object.entries(p.groups).flatMap(([a, gs]) => Object.entries(gs).map(([gname, x]) => `${a}=${gname} ${n3(x.auc)} (${n3(x.advantage)})`)).join('; ')
    L.push(`| ${n} | ${p.members} | ${p.nonmembers} | ${n4(p.auc)} | ${n4(p.advantage)} | ${per} |`)
  }
  if (Object.keys(rep.failed).length > 0) {
    L.push('', '## Variants that did not load', '')
    for (const [n, why] of Object.entries(rep.failed)) L.push(`- ${n}: ${why}`)
  }
  return L.join('\n') + '\n'
}
