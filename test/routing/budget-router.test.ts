// The latency-budget router: unit rules on stub estimates, then the real models beyond the full
// variant's capacity — budgeted requests keep their latency with adaptive routing, and do not
// when pinned to full (direction asserted with generous margins; loadtest/bench-routing.ts
// measures it over HTTP).
import t from 'tap'
import type { InferJob } from '../../src/batching/index.js'
import { ActiveVariants, BudgetRouter } from '../../src/routing/index.js'
import { evalRows, startGateway } from '../helpers/gateway.js'

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

const rows = evalRows()
const instances = rows.slice(0, 64).map(r => r.features)

async function load (app: any, body: object, clients: number, ms: number): Promise<{ p99: number, codes: Record<number, number>, variants: Record<string, number> }> {
  const lat: number[] = []
  const codes: Record<number, number> = {}
  const variants: Record<string, number> = {}
  const end = Date.now() + ms
  await Promise.all(Array.from({ length: clients }, async () => {
    while (Date.now() < end) {
      const t0 = performance.now()
      const res = await app.inject({ method: 'POST', url: '/v1/predict', payload: body })
      lat.push(performance.now() - t0)
      codes[res.statusCode] = (codes[res.statusCode] ?? 0) + 1
      if (res.statusCode === 200) { const v = res.json()[0].variant as string; variants[v] = (variants[v] ?? 0) + 1 }
    }
  }))
  lat.sort((a, b) => a - b)
  return { p99: lat[Math.floor(lat.length * 0.99)]!, codes, variants }
}

t.test('beyond full capacity: 20 ms budgets hold with adaptive routing, not pinned to full', async t => {
  const { app } = await startGateway({ batching: { max_inflight: 1, max_batch_size: 64 } })
  t.teardown(() => app.close())
  await load(app, { model: 'income', instances }, 4, 500) // warm the estimates
  const pinned = await load(app, { model: 'income', instances, latency_budget_ms: 20, variant: 'full' }, 24, 3000)
  const adaptive = await load(app, { model: 'income', instances, latency_budget_ms: 20 }, 24, 3000)
  t.comment(`pinned to full: p99 ${pinned.p99.toFixed(1)} ms, codes ${JSON.stringify(pinned.codes)}`)
  t.comment(`adaptive: p99 ${adaptive.p99.toFixed(1)} ms, codes ${JSON.stringify(adaptive.codes)}, variants ${JSON.stringify(adaptive.variants)}`)
  t.ok(pinned.p99 > 20, `pinned to full misses the 20 ms budget (p99 ${pinned.p99.toFixed(1)} ms)`)
  t.ok(adaptive.p99 < pinned.p99 / 1.5, 'adaptive routing cuts the p99 by a wide margin')
  t.ok(Object.keys(adaptive.variants).some(v => v !== 'full'), 'by moving load off full')
  t.ok((adaptive.codes[504] ?? 0) <= (pinned.codes[504] ?? 0), 'and fewer budgets expire')
})
