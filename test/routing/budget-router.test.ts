// The latency-budget router's rules on stub estimates: which variant fits, how the prediction is
// built from the inference pool's costs, and the slack learned from late answers. Its effect
// under overload, end to end, is in adaptive-routing.test.ts and loadtest/bench-routing.ts.
import t from 'tap'
import type { InferJob } from '../../src/batching/index.js'
import { ActiveVariants, BudgetRouter } from '../../src/routing/index.js'

function stubModel (names: string[]): any {
  const model: any = { name: 'm' }
  const variants = names.map((name, index) => ({ name, index, state: 'ready', pool: null, key: `m/${name}`, model, rule: { usesGroups: name.endsWith('-eo') }, inlineRowMs: 0, runsInline (this: any, _rows: number) { return this.inlineRowMs > 0 }, inlineMs (this: any, rows: number) { return this.inlineRowMs * rows } }))
  return Object.assign(model, { variants, variant: (n: string) => variants.find(v => v.name === n)!, hasVariant: (n: string) => names.includes(n) })
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

t.test('while a fairness switch is in force, only variants satisfying the rule serve; a missed budget is counted', async t => {
  const model = stubModel(['full', 'distilled', 'full-eo', 'distilled-eo'])
  const active = new ActiveVariants()
  active.init(model)
  const predicted: Record<string, number> = { full: 30, distilled: 1, 'full-eo': 30, 'distilled-eo': 12 }
  let allowed: Set<string> | undefined
  const missed: string[] = []
  const router = new BudgetRouter(active, v => ({ estimateWaitMs: () => predicted[v.name]!, ewmaBatchMs: 0 }) as any, {
    preference: () => ['full', 'distilled', 'full-eo', 'distilled-eo'],
    defaultBudget: () => 0,
    allowed: () => allowed,
    missedBudget: (_m, v) => { missed.push(v) }
  })
  const job = (budgetMs: number): InferJob => ({ budgetMs, pinned: null }) as InferJob
  t.equal(router.choose(model, job(20)).name, 'distilled', 'no constraint: the fast variant takes the budget')
  predicted.distilled = 40
  t.equal(router.choose(model, job(20)).name, 'full', 'nothing fits: the fastest, never a group-threshold variant the policy did not select')
  predicted.distilled = 1
  active.set('m', 'full-eo', 1)
  allowed = new Set(['full-eo', 'distilled-eo'])
  t.equal(router.choose(model, job(20)).name, 'distilled-eo', 'constrained: the fast variant that passes the rule')
  t.equal(router.choose(model, job(50)).name, 'full-eo', 'the mitigated (active) variant when it fits')
  t.same(missed, [], 'no budget missed so far')
  t.equal(router.choose(model, job(5)).name, 'distilled-eo', 'nothing allowed fits: the fastest mitigated variant serves, not the fastest (distilled)')
  t.same(missed, ['distilled-eo'], 'and the missed budget is counted')
})

/** A pool stub: fixed run costs per variant and a fixed wait per class (long / short). */
function stubPool (runMs: Record<string, number>, wait: { long: number, short: number }): any {
  return {
    size: 2,
    longLanes: 1,
    runMs: (key: string, rows: number) => runMs[key.split('/')[1]!]! * rows,
    isLong: (ms: number) => ms > 1,
    waitMs: (ms: number) => ms > 1 ? wait.long : wait.short
  }
}

t.test('with inference threads: wait for the work ahead of its class, plus its own run', async t => {
  const model = stubModel(['full', 'int8', 'distilled'])
  const pool = stubPool({ full: 0.2, int8: 0.1, distilled: 0.001 }, { long: 10, short: 0.5 })
  for (const v of model.variants) v.pool = pool
  const queued: Record<string, number> = { full: 0, int8: 0, distilled: 0 }
  const active = new ActiveVariants()
  active.init(model)
  const router = new BudgetRouter(active, v => ({ queuedRows: queued[v.name]! }) as any, { preference: () => ['full', 'int8', 'distilled'], defaultBudget: () => 0 })
  t.equal(router.predict(model.variant('full'), 32), 10 + 6.4, 'full: long wait + 32 rows × 0.2 ms')
  t.equal(router.predict(model.variant('distilled'), 32), 0.5 + 0.032, 'distilled: short wait + its run')
  queued.int8 = 50 // 5 ms of long work still in int8's batcher, on one long lane
  t.equal(router.predict(model.variant('full'), 32), 10 + 5 + 6.4, 'rows queued in another long variant count')
  t.equal(router.predict(model.variant('distilled'), 32), 0.5 + 0.032, 'but not for a short one')
  const job = (rows: number, budgetMs: number): InferJob => ({ rows, budgetMs, pinned: null, receivedAt: 0, predictedMs: -1 }) as unknown as InferJob
  const j = job(32, 20)
  t.equal(router.choose(model, j).name, 'int8', 'full (21.4 ms) misses 20 ms, int8 (18.2 ms) fits')
  t.equal(j.predictedMs, 10 + 5 + 3.2, 'the prediction is kept on the job')
  t.equal(router.choose(model, job(32, 5)).name, 'distilled')
})

t.test('a batch small enough for the HTTP thread waits only for its own variant\'s queued rows', async t => {
  const model = stubModel(['full', 'int8', 'distilled'])
  const pool = stubPool({ full: 0.2, int8: 0.1, distilled: 0.001 }, { long: 10, short: 0.5 })
  for (const v of model.variants) v.pool = pool
  model.variant('distilled').inlineRowMs = 0.002
  const queued: Record<string, number> = { full: 0, int8: 0, distilled: 100 }
  const active = new ActiveVariants()
  active.init(model)
  const router = new BudgetRouter(active, v => ({ queuedRows: queued[v.name]! }) as any, { preference: () => ['full', 'int8', 'distilled'], defaultBudget: () => 0 })
  t.equal(router.predict(model.variant('distilled'), 32), (100 + 32) * 0.002, 'no thread wait: its queued rows and its own, at the inline cost')
  t.equal(router.predict(model.variant('full'), 32), 10 + 6.4, 'rows queued for the HTTP thread are not ahead of a pool batch')
})

t.test('slack: a late answer makes the router careful with every variant, and it fades', async t => {
  const model = stubModel(['full', 'distilled'])
  const pool = stubPool({ full: 0.1, distilled: 0.001 }, { long: 0, short: 0 })
  for (const v of model.variants) v.pool = pool
  const active = new ActiveVariants()
  active.init(model)
  const router = new BudgetRouter(active, () => ({ queuedRows: 0 }) as any, { preference: () => ['full', 'distilled'], defaultBudget: () => 20 })
  const full = model.variant('full')
  const job = (at: number): InferJob => ({ model, rows: 64, budgetMs: 0, pinned: null, receivedAt: at, predictedMs: -1 }) as unknown as InferJob
  const j = job(0)
  t.equal(router.choose(model, j).name, 'full', 'predicted 6.4 ms: fits the policy\'s 20 ms default')
  // It took 30 ms from arrival: 23.6 ms later than predicted.
  Object.assign(j, { variant: full, error: null, answeredAt: 30 })
  router.observe(j)
  t.equal(router.slackMs(model, 30), 30 - 6.4)
  t.equal(router.choose(model, job(31)).name, 'distilled', '6.4 + 23.6 ms no longer fits')
  t.equal(router.slackMs(model, 3030), (30 - 6.4) / 2, 'halves in three seconds')
  t.equal(router.choose(model, job(3030)).name, 'full', 'and then full fits again (6.4 + 11.8 ms)')
  const early = job(3040)
  router.choose(model, early)
  Object.assign(early, { variant: full, error: null, answeredAt: 3041 })
  router.observe(early)
  t.ok(router.slackMs(model, 3041) <= 11.8, 'an answer earlier than predicted does not raise it')
  // A late answer from the fast variant makes the slow one unwelcome too (they share the cores).
  const late = job(3042)
  router.choose(model, late)
  Object.assign(late, { variant: model.variant('distilled'), predictedMs: 0.1, error: null, answeredAt: 3092 })
  router.observe(late)
  t.equal(router.choose(model, job(3093)).name, 'distilled', 'full no longer fits; when nothing fits, the fastest prediction wins')
})
