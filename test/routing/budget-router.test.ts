// The latency-budget router's rules on stub estimates. Its effect under overload is measured
// over HTTP by loadtest/bench-routing.ts (not asserted here: on a 2-core machine shared with the
// load generator the result is too noisy for a test).
import t from 'tap'
import type { InferJob } from '../../src/batching/index.js'
import { ActiveVariants, BudgetRouter } from '../../src/routing/index.js'

function stubModel (names: string[]): any {
  const variants = names.map((name, index) => ({ name, index, state: 'ready' }))
  return { name: 'm', variants, variant: (n: string) => variants.find(v => v.name === n)!, hasVariant: (n: string) => names.includes(n) }
}

t.test('picks the most preferred variant whose prediction fits the budget', async t => {
  const model = stubModel(['full', 'int8', 'distilled'])
  const active = new ActiveVariants()
  active.init(model)
  const predicted: Record<string, number> = { full: 30, int8: 12, distilled: 2 }
  const router = new BudgetRouter(active, v => ({ estimateWaitMs: () => predicted[v.name]!, ewmaBatchMs: 0 }) as any, { preference: () => ['full', 'int8', 'distilled'], defaultBudget: () => 0 })
  const job = (budgetMs: number, pinned: string | null = null): InferJob => ({ budgetMs, pinned }) as InferJob
  t.equal(router.choose(model, job(0)).name, 'full', 'no budget: the active variant')
  t.equal(router.choose(model, job(20)).name, 'int8', 'full does not fit 20 ms, int8 does')
  t.equal(router.choose(model, job(50)).name, 'full')
  t.equal(router.choose(model, job(1)).name, 'distilled', 'nothing fits: the fastest')
  t.equal(router.choose(model, job(1, 'full')).name, 'full', 'a pinned variant is honoured')
  active.set('m', 'distilled', 1)
  t.equal(router.choose(model, job(50)).name, 'distilled', 'the active variant heads the list')
  model.variants[1].state = 'failed'
  active.set('m', 'full', 2)
  t.equal(router.choose(model, job(20)).name, 'distilled', 'a variant that is not ready is skipped')
})
