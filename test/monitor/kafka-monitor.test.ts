// Two gateway replicas on one broker: `fairgate monitor` (the MonitorService it runs) reports
// per-group counts equal to the sum of both replicas' in-process monitors, joins labels that
// reached another replica, and reports the same again after a restart (rebuilt from the log).
import t from 'tap'
import type { FairnessReport } from '../../src/monitor/index.js'
import { createMonitor } from '../../src/create-monitor.js'
import { validateConfig } from '../../src/config/index.js'
import { evalRows, MODELS_DIR, silentLog, startGateway } from '../helpers/gateway.js'
import { sharedBroker, uniquePrefix } from '../helpers/kafka.js'

const rows = evalRows()
const monitorCfg = { min_samples: 1, report_min: 1, min_labelled: 1, refresh_ms: 0, intersections: [['sex', 'race']] }

interface Counts { n: number, pos: number, positives: number, negatives: number }
function counts (r: FairnessReport): Map<string, Counts> {
  const out = new Map<string, Counts>()
  for (const [v, vr] of Object.entries(r.variants)) {
    for (const [a, ar] of Object.entries(vr.attributes)) {
      for (const [g, gr] of Object.entries(ar.groups)) {
        out.set(`${v}/${a}/${g}`, { n: gr.n, pos: Math.round(gr.selection_rate * gr.n), positives: gr.positives, negatives: gr.negatives })
      }
    }
  }
  return out
}
function add (a: Map<string, Counts>, b: Map<string, Counts>): Map<string, Counts> {
  const out = new Map(a)
  for (const [k, c] of b) {
    const x = out.get(k) ?? { n: 0, pos: 0, positives: 0, negatives: 0 }
    out.set(k, { n: x.n + c.n, pos: x.pos + c.pos, positives: x.positives + c.positives, negatives: x.negatives + c.negatives })
  }
  return out
}
const sorted = (m: Map<string, Counts>): Array<[string, Counts]> => [...m].sort((x, y) => x[0].localeCompare(y[0]))

t.test('monitor over two replicas = sum of their in-process monitors, also after a restart', async t => {
  const brokers = await sharedBroker(t)
  const prefix = uniquePrefix()
  const kafka = { brokers: [brokers], topic_prefix: prefix }
  const a = await startGateway({ kafka, replica: 'a', monitor: monitorCfg })
  const b = await startGateway({ kafka, replica: 'b', monitor: monitorCfg })
  t.teardown(async () => { await a.app.close(); await b.app.close() })

  const variants = ['full', 'distilled', 'fair']
  let joinedHere = 0
  let unknownThere = 0
  const crossLabels: Array<{ id: string, label: number, other: typeof a }> = []
  for (let i = 0; i < 900; i++) {
    const gw = i % 3 === 0 ? b : a // 300 on b, 600 on a
    const r = rows[i]!
    const res = await gw.app.inject({ method: 'POST', url: '/v1/predict', payload: { model: 'income', features: r.features, group: r.group, variant: variants[i % 3] } })
    const id = res.json().id as string
    if (i % 4 === 0) {
      const fb = await gw.app.inject({ method: 'POST', url: '/v1/feedback', payload: { prediction_id: id, label: r.label } })
      joinedHere += fb.json().joined
    } else if (i % 4 === 1) crossLabels.push({ id, label: r.label, other: gw === a ? b : a })
  }
  // Multi-row requests: the monitor counts each once for the latency SLO (the events carry
  // request_rows), as the replicas' own monitors do.
  for (let i = 0; i < 3; i++) {
    const rs = rows.slice(900 + 4 * i, 904 + 4 * i)
    const res = await a.app.inject({ method: 'POST', url: '/v1/predict', payload: { model: 'income', instances: rs.map(r => r.features), groups: rs.map(r => r.group), variant: 'full' } })
    t.equal(res.statusCode, 200, res.body)
  }
  // Labels that reach the OTHER replica: not joined there, joined by the monitor.
  for (const c of crossLabels) {
    const fb = await c.other.app.inject({ method: 'POST', url: '/v1/feedback', payload: { prediction_id: c.id, label: c.label } })
    unknownThere += fb.json().unknown
  }
  t.equal(joinedHere, 225, 'labels sent to the replica that made the prediction are joined there')
  t.equal(unknownThere, crossLabels.length, 'labels sent to the other replica are unknown there, accepted for the monitor')
  await a.gw.events!.publisher.flush(20_000)
  await b.gw.events!.publisher.flush(20_000)
  const local = add(counts(a.gw.monitor!.report('income')!), counts(b.gw.monitor!.report('income')!))
  const requests = (r: FairnessReport): Record<string, [number, number]> => Object.fromEntries(Object.entries(r.variants).map(([v, vr]) => [v, [vr.n, vr.requests]]))
  const ra = requests(a.gw.monitor!.report('income')!)
  const rb = requests(b.gw.monitor!.report('income')!)
  const localRequests = Object.fromEntries(Object.keys(ra).map(v => [v, [ra[v]![0] + (rb[v]?.[0] ?? 0), ra[v]![1] + (rb[v]?.[1] ?? 0)]]))
  t.same(localRequests.full, [312, 303], 'full: 312 rows in 303 requests')

  const config = validateConfig({ kafka, models: { dir: MODELS_DIR }, monitor: monitorCfg, replica: 'mon' })
  for (const round of ['first start', 'after restart']) {
    const svc = createMonitor(config, { log: silentLog })
    await svc.start()
    // Labels may trail predictions by a poll; give the feed a moment to settle.
    for (let i = 0; i < 50 && svc.feed.stats.labels < 225 + crossLabels.length; i++) await new Promise(resolve => setTimeout(resolve, 100))
    const remote = counts(svc.monitor.report('income')!)
    t.equal(svc.feed.stats.predictions, 912, `${round}: every prediction event read once`)
    t.same(requests(svc.monitor.report('income')!), localRequests, `${round}: rows and requests per variant = sum of both replicas`)
    const strip = (m: Map<string, Counts>): Array<[string, number, number]> => sorted(m).map(([k, c]) => [k, c.n, c.pos])
    t.same(strip(remote), strip(local), `${round}: per-group rows and positive decisions = sum of both replicas`)
    let labelledRemote = 0
    let labelledLocal = 0
    for (const [k, c] of remote) if (k.includes('/sex/')) labelledRemote += c.positives + c.negatives
    for (const [k, c] of local) if (k.includes('/sex/')) labelledLocal += c.positives + c.negatives
    t.equal(labelledLocal, 225, 'replicas joined the labels sent to them')
    t.equal(labelledRemote, 225 + crossLabels.length, `${round}: the monitor also joined ${crossLabels.length} labels sent to the other replica`)
    if (round === 'after restart') {
      // A decision taken by the monitor moves every replica (they follow the decisions topic).
      const d = svc.policy.manualSwitch('income', 'distilled', 'test')
      t.equal(d.actor, 'admin@mon')
      const t0 = Date.now()
      while ((a.gw.active.active('income') !== 'distilled' || b.gw.active.active('income') !== 'distilled') && Date.now() - t0 < 10_000) await new Promise(resolve => setTimeout(resolve, 25))
      t.equal(a.gw.active.active('income'), 'distilled', `replica a followed the monitor's decision in ${Date.now() - t0} ms`)
      t.equal(b.gw.active.active('income'), 'distilled', 'and so did replica b')
    }
    await svc.stop()
  }
})
