// The choice among variants: dominance, the weighted choice and its weights flag, and the AUC's
// handling of ties (mid-ranks, as scikit-learn's trapezoids).
import t from 'tap'
import { advantage, choose, dominates, frontier, parseWeights, rocAuc, DEFAULT_WEIGHTS } from '../../src/evaluate/index.js'

const p = (name: string, accuracy: number, latency: number, gap: number, privacy: number | null): { name: string, values: { accuracy: number, latency: number, gap: number, privacy: number | null } } =>
  ({ name, values: { accuracy, latency, gap, privacy } })

t.test('dominance and the frontier', async t => {
  const a = p('a', 0.87, 1.0, 0.17, 0.02)
  const b = p('b', 0.86, 0.1, 0.17, 0.02)
  const worse = p('worse', 0.85, 0.2, 0.18, 0.03) // b is better on every objective
  const tie = p('tie', 0.86, 0.1, 0.17, 0.02)
  t.ok(dominates(b, worse))
  t.notOk(dominates(a, b), 'a trade-off is not dominance')
  t.notOk(dominates(b, tie), 'equal is not dominance')
  t.same([...frontier([a, b, worse, tie])].sort(), ['a', 'b', 'tie'])
  t.ok(dominates(b, p('unmeasured', 0.86, 0.1, 0.17, null)), 'a missing value counts as the worst')
})

t.test('the weighted choice follows the weights', async t => {
  const accurate = p('accurate', 0.87, 1.0, 0.17, 0.02)
  const fast = p('fast', 0.84, 0.05, 0.17, 0.02)
  t.equal(choose([accurate, fast], { ...DEFAULT_WEIGHTS, latency: 0 }).variant, 'accurate')
  t.equal(choose([accurate, fast], { ...DEFAULT_WEIGHTS, accuracy: 0 }).variant, 'fast')
  const c = choose([accurate, fast], { accuracy: 2, latency: 1, gap: 0, privacy: 0 })
  t.equal(c.variant, 'accurate')
  t.equal(c.runner_up, 'fast')
  t.ok(Math.abs(c.margin! - 1 / 3) < 1e-12, 'scores are weighted means of the normalised objectives (2/3 vs 1/3)')
})

t.test('--weights is parsed strictly', async t => {
  t.same(parseWeights('accuracy=1,latency=0.5,gap=2,privacy=1', DEFAULT_WEIGHTS), { accuracy: 1, latency: 0.5, gap: 2, privacy: 1 })
  t.same(parseWeights('gap=3', DEFAULT_WEIGHTS), { ...DEFAULT_WEIGHTS, gap: 3 })
  t.match(parseWeights('speed=1', DEFAULT_WEIGHTS), /unknown objective "speed"/)
  t.match(parseWeights('gap=-1', DEFAULT_WEIGHTS), /not name=number/)
  t.match(parseWeights('accuracy=0,latency=0,gap=0,privacy=0', DEFAULT_WEIGHTS), /at least one weight/)
})

t.test('AUC with ties and the advantage', async t => {
  // sklearn.metrics.roc_auc_score([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.4, 0.4]) = 0.6666666666666667 (6 of 9 pairs, ties as halves)
  t.ok(Math.abs(rocAuc([0.1, 0.4, 0.35, 0.8, 0.4, 0.4], [0, 0, 1, 1, 0, 1])! - 0.6666666666666667) < 1e-12)
  t.equal(rocAuc([0.5, 0.5], [1, 0]), 0.5, 'all tied: chance')
  t.equal(rocAuc([0.1, 0.9], [1, 1]), null, 'one class: undefined')
  t.equal(advantage([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]), 1, 'perfect separation')
  t.equal(advantage([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1]), 0, 'no separation')
})
