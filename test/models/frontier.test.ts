// The income family as models/income/model.yaml describes it: every variant is a point of the
// frontier on (accuracy ↑, cost per row at batch 32 ↓, max(DPD, EOD) for sex ↓) and the
// acceptance figures of the family hold.
import t from 'tap'
import { join } from 'node:path'
import { readManifest, type VariantSpec } from '../../src/models/index.js'
import { INCOME_DIR } from '../helpers/gateway.js'

const manifest = readManifest(join(INCOME_DIR, 'model.yaml'))

interface Point { name: string, accuracy: number, cost: number, dpd: number, eod: number, gap: number }

function pointOf (v: VariantSpec): Point {
  const m = v.metrics!
  const sex = Object.values(m.groups!.sex!)
  const spread = (xs: number[]): number => Math.max(...xs) - Math.min(...xs)
  const dpd = spread(sex.map(g => g.selection_rate))
  const eod = Math.max(spread(sex.map(g => g.tpr!)), spread(sex.map(g => g.fpr!)))
  return { name: v.name, accuracy: m.accuracy!, cost: m.cost_us_per_row_b32!, dpd, eod, gap: Math.max(dpd, eod) }
}

const points = manifest.variants.map(pointOf)
const at = (name: string): Point => points.find(p => p.name === name)!

t.test('no variant is dominated', async t => {
  for (const a of points) {
    const by = points.find(b => b !== a && b.accuracy >= a.accuracy && b.cost <= a.cost && b.gap <= a.gap &&
      (b.accuracy > a.accuracy || b.cost < a.cost || b.gap < a.gap))
    t.equal(by?.name, undefined, `${a.name} (acc ${a.accuracy.toFixed(4)}, ${a.cost.toFixed(2)} µs/row, gap ${a.gap.toFixed(4)})`)
  }
})

t.test('acceptance figures', async t => {
  const full = at('full')
  t.ok(full.accuracy >= 0.870, `full accuracy ${full.accuracy.toFixed(4)} >= 0.870`)
  const d = at('distilled')
  t.ok(full.cost / d.cost >= 20, `distilled ${(full.cost / d.cost).toFixed(1)}x cheaper per row than full at batch 32`)
  t.ok(full.accuracy - d.accuracy <= 0.015, `distilled within 1.5 points of full (${((full.accuracy - d.accuracy) * 100).toFixed(2)})`)
  const fair = at('fair')
  t.ok(Math.min(fair.dpd, fair.eod) <= 0.05, `fair: DPD ${fair.dpd.toFixed(4)} or EOD ${fair.eod.toFixed(4)} <= 0.05`)
  for (const v of manifest.variants) {
    if (v.decision === undefined || !('by_group' in v.decision) && v.name !== 'fair') continue
    const p = at(v.name)
    t.ok(full.accuracy - p.accuracy <= 0.03, `${v.name}: ${((full.accuracy - p.accuracy) * 100).toFixed(2)} points below full (<= 3)`)
    // The group-threshold variants are what the shipped parity rule (DPD <= 0.10) switches among.
    if ('by_group' in v.decision) t.ok(p.dpd <= 0.10, `${v.name}: DPD ${p.dpd.toFixed(4)} <= 0.10`)
  }
  t.notOk(manifest.variants[0]!.decision !== undefined && 'by_group' in manifest.variants[0]!.decision, 'the default variant reads no group label')
})
