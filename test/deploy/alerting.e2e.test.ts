// End to end: a real gateway (the built CLI), a real Prometheus and a real Alertmanager, wired
// with the rules and the routing tree under deploy/ (only `for:` durations and timings
// shortened), and a webhook receiver in this test. Traffic with the model's ordinary disparity
// pages nobody; then one sex group gets mostly positive decisions and the other mostly negative
// ones, and the fairness page must reach the pager webhook - and only the pager - in bounded time.
//
// Needs the Debian binaries `prometheus` and `prometheus-alertmanager` (apt-get install
// prometheus prometheus-alertmanager); skipped with a message when they are missing. Override
// with PROMETHEUS_BIN / ALERTMANAGER_BIN.
import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, constants, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { parse as parseYaml, stringify } from 'yaml'
import { evalRows, ROOT } from '../helpers/gateway.js'
import { freePort, serveCli } from '../helpers/process.js'

const DEPLOY = join(ROOT, 'deploy')
const PAGE_DEADLINE_MS = 60_000

function which (override: string | undefined, names: string[]): string | undefined {
  if (override !== undefined && override !== '') return override
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    for (const n of names) {
      try { accessSync(join(dir, n), constants.X_OK); return join(dir, n) } catch {}
    }
  }
  return undefined
}

const prometheusBin = which(process.env.PROMETHEUS_BIN, ['prometheus'])
const alertmanagerBin = which(process.env.ALERTMANAGER_BIN, ['prometheus-alertmanager', 'alertmanager'])
const missing = [prometheusBin === undefined ? 'prometheus' : '', alertmanagerBin === undefined ? 'prometheus-alertmanager' : ''].filter(s => s !== '')

interface WebhookAlert { status: string, labels: Record<string, string>, annotations: Record<string, string> }
interface Received { path: string, at: number, receiver: string, alerts: WebhookAlert[] }

/** Spawns a binary, keeps its output for failure messages. */
function run (bin: string, args: string[]): { child: ChildProcess, output: () => string } {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => { out = (out + d.toString()).slice(-20_000) })
  child.stderr!.on('data', (d: Buffer) => { out = (out + d.toString()).slice(-20_000) })
  return { child, output: () => out }
}

async function waitReady (url: string, what: () => string, timeoutMs = 20_000): Promise<void> {
  const start = Date.now()
  for (;;) {
    try {
      const r = await fetch(url)
      if (r.status === 200) return
    } catch {}
    if (Date.now() - start > timeoutMs) throw new Error(`${url} not ready in ${timeoutMs} ms: ${what()}`)
    await sleep(100)
  }
}

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

/** The real alert and recording rules with every `for:` shortened to 2 s. */
function shortenedRules (): string[] {
  const dir = join(DEPLOY, 'prometheus', 'rules')
  return readdirSync(dir).filter(f => f.endsWith('.yml')).sort().map(f => {
    const doc = parseYaml(readFileSync(join(dir, f), 'utf8')) as Json
    for (const g of doc.groups as Json[]) {
      delete g.interval
      for (const r of g.rules as Json[]) if (r.for !== undefined) r.for = '2s'
    }
    return stringify(doc)
  })
}

/** deploy/prometheus/prometheus.yml with its gateway job pointed at `target`, 1 s intervals. */
function prometheusConfig (rulesGlob: string, target: string, alertmanager: string): string {
  const doc = parseYaml(readFileSync(join(DEPLOY, 'prometheus', 'prometheus.yml'), 'utf8')) as Json
  const job = (doc.scrape_configs as Json[]).find(j => j.job_name === 'fairgate')
  if (job === undefined) throw new Error('deploy/prometheus/prometheus.yml has no job "fairgate"')
  job.static_configs = [{ targets: [target] }]
  doc.scrape_configs = [job]
  doc.global = { ...doc.global, scrape_interval: '1s', evaluation_interval: '1s' }
  doc.rule_files = [rulesGlob]
  doc.alerting = { alertmanagers: [{ static_configs: [{ targets: [alertmanager] }] }] }
  return stringify(doc)
}

/** deploy/alertmanager/alertmanager.yml, each receiver's webhook sent to base/<receiver>, fast timers. */
function alertmanagerConfig (base: string): string {
  const doc = parseYaml(readFileSync(join(DEPLOY, 'alertmanager', 'alertmanager.yml'), 'utf8')) as Json
  for (const r of doc.receivers as Json[]) {
    r.webhook_configs = [{ url: `${base}/${r.name as string}`, send_resolved: false }]
    for (const k of Object.keys(r)) if (k.endsWith('_configs') && k !== 'webhook_configs') delete r[k]
  }
  const fast = (route: Json): void => {
    route.group_wait = '1s'
    route.group_interval = '1s'
    for (const child of (route.routes ?? []) as Json[]) fast(child)
  }
  fast(doc.route as Json)
  return stringify(doc)
}

t.test('a fairness drift pages the pager webhook through Prometheus and Alertmanager', { skip: missing.length > 0 ? `needs ${missing.join(' and ')} on PATH (apt-get install prometheus prometheus-alertmanager)` : false }, async t => {
  const started = Date.now()
  const dir = mkdtempSync(join(tmpdir(), 'fairgate-alerting-'))
  const children: ChildProcess[] = []
  let hook: Server | undefined
  t.teardown(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
    hook?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  // --- the webhook receiver: one path per Alertmanager receiver
  const received: Received[] = []
  hook = createServer((req, res) => {
    let body = ''
    req.on('data', (d: Buffer) => { body += d.toString() })
    req.on('end', () => {
      try {
        const msg = JSON.parse(body) as { receiver: string, alerts: WebhookAlert[] }
        received.push({ path: req.url ?? '', at: Date.now(), receiver: msg.receiver, alerts: msg.alerts })
      } catch {}
      res.writeHead(200).end()
    })
  })
  await new Promise<void>(resolve => hook!.listen(0, '127.0.0.1', resolve))
  const hookPort = (hook.address() as { port: number }).port

  // --- the gateway: a 20 s window of 1 s buckets, 20 rows per group suffice
  const gw = await serveCli({
    FAIRGATE_MONITOR_WINDOW_MS: '20000',
    FAIRGATE_MONITOR_BUCKET_MS: '1000',
    FAIRGATE_MONITOR_MIN_SAMPLES: '20',
    FAIRGATE_MODELS_WARMUP_RUNS: '1'
  })
  children.push(gw.child)
  const gwTarget = gw.url.replace('http://', '')

  // --- Alertmanager and Prometheus, configured from deploy/
  const [amPort, promPort] = [await freePort(), await freePort()]
  mkdirSync(join(dir, 'rules'))
  shortenedRules().forEach((text, i) => { writeFileSync(join(dir, 'rules', `rules-${i}.yml`), text) })
  writeFileSync(join(dir, 'alertmanager.yml'), alertmanagerConfig(`http://127.0.0.1:${hookPort}`))
  writeFileSync(join(dir, 'prometheus.yml'), prometheusConfig(join(dir, 'rules', '*.yml'), gwTarget, `127.0.0.1:${amPort}`))
  const am = run(alertmanagerBin!, [
    `--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'am')}`,
    `--web.listen-address=127.0.0.1:${amPort}`, '--cluster.listen-address=', '--log.level=warn'
  ])
  children.push(am.child)
  const prom = run(prometheusBin!, [
    `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'
  ])
  children.push(prom.child)
  const promUrl = `http://127.0.0.1:${promPort}`
  await Promise.all([waitReady(`http://127.0.0.1:${amPort}/-/ready`, am.output), waitReady(`${promUrl}/-/ready`, prom.output)])
  // Readiness itself is what waitReady asserts (it fails the test naming the service that never
  // answered); how long it took is machine noise, reported but not asserted.
  t.comment(`gateway, Prometheus and Alertmanager ready in ${Date.now() - started} ms`)

  const query = async (q: string): Promise<Array<{ metric: Record<string, string>, value: [number, string] }>> => {
    const r = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`)
    return ((await r.json()) as { data: { result: Array<{ metric: Record<string, string>, value: [number, string] }> } }).data.result
  }
  const alerts = async (): Promise<Array<{ labels: Record<string, string>, state: string }>> => {
    const r = await fetch(`${promUrl}/api/v1/alerts`)
    return ((await r.json()) as { data: { alerts: Array<{ labels: Record<string, string>, state: string }> } }).data.alerts
  }
  // Only the sex label is sent: race groups are small at these volumes and their gaps noisy.
  const predict = async (rows: Array<{ features: Record<string, unknown>, sex?: string }>): Promise<Array<{ score: number }>> => {
    const body: Json = { model: 'income', variant: 'full', instances: rows.map(r => r.features) }
    if (rows.every(r => r.sex !== undefined)) body.groups = rows.map(r => ({ sex: r.sex }))
    const r = await fetch(`${gw.url}/v1/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    if (r.status !== 200) throw new Error(`predict: ${r.status} ${await r.text()}`)
    return await r.json() as Array<{ score: number }>
  }

  // --- find rows the model scores > 0.9 for men and < 0.1 for women, without group labels
  // (unlabelled rows are not counted by the monitor)
  const rows = evalRows().slice(0, 3000)
  const high: typeof rows = []
  const low: typeof rows = []
  for (let i = 0; i < rows.length; i += 1000) {
    const chunk = rows.slice(i, i + 1000)
    const scores = await predict(chunk.map(r => ({ features: r.features })))
    chunk.forEach((r, k) => {
      if (r.group.sex === 'Male' && scores[k]!.score > 0.9) high.push(r)
      if (r.group.sex === 'Female' && scores[k]!.score < 0.1) low.push(r)
    })
  }
  t.ok(high.length >= 20 && low.length >= 20, `found ${high.length} men scored > 0.9 and ${low.length} women scored < 0.1`)

  // --- phase 1: ordinary traffic (the model's own disparity, about 0.15): no page
  const ordinary = rows.slice(0, 1200)
  for (let i = 0; i < ordinary.length; i += 40) await predict(ordinary.slice(i, i + 40).map(r => ({ features: r.features, sex: r.group.sex })))
  const dpd = 'fairgate_fairness_gap{job="fairgate",model="income",variant="full",attribute="sex",metric="demographic_parity_difference"}'
  let before: number | undefined
  for (const until = Date.now() + 15_000; Date.now() < until;) {
    const res = await query(dpd)
    if (res.length > 0) { before = Number(res[0]!.value[1]); break }
    await sleep(250)
  }
  t.ok(before !== undefined, 'Prometheus scraped the gateway\'s demographic parity gap')
  t.ok(before! < 0.25, `ordinary traffic: demographic parity difference ${before!.toFixed(3)} is under the 0.25 threshold`)
  // Longer than `for` (2 s) plus an evaluation and group_wait: a page would have come by now.
  await sleep(5_000)
  const quiet = await alerts()
  t.same(quiet.filter(a => a.labels.alertname === 'FairgateFairnessGapHigh'), [], 'no fairness alert pending or firing on ordinary traffic')
  t.same(received.filter(r => r.receiver === 'pager'), [], 'the pager received nothing')

  // --- phase 2: men get positive decisions, women negative ones
  const injectedAt = Date.now()
  let sent = 0
  let stop = false
  const inject = (async () => {
    while (!stop) {
      const batch = [...Array.from({ length: 10 }, (_, k) => high[(sent + k) % high.length]!), ...Array.from({ length: 10 }, (_, k) => low[(sent + k) % low.length]!)]
      await predict(batch.map(r => ({ features: r.features, sex: r.group.sex })))
      sent += 20
      await sleep(50)
    }
  })()
  let page: { at: number, alert: WebhookAlert } | undefined
  while (page === undefined && Date.now() - injectedAt < PAGE_DEADLINE_MS) {
    for (const r of received) {
      const a = r.alerts.find(a => a.labels.alertname === 'FairgateFairnessGapHigh' && a.status === 'firing')
      if (r.receiver === 'pager' && a !== undefined) { page = { at: r.at, alert: a }; break }
    }
    if (page === undefined) await sleep(200)
  }
  stop = true
  await inject
  const after = await query(dpd)
  t.ok(page !== undefined, `the pager webhook got FairgateFairnessGapHigh within ${PAGE_DEADLINE_MS / 1000} s`, {
    gap: after[0]?.value[1] ?? 'absent',
    received: received.map(r => [r.receiver, r.alerts.map(a => a.labels.alertname)]),
    prometheus: prom.output().slice(-1000),
    alertmanager: am.output().slice(-1000)
  })
  if (page === undefined) return
  t.comment(`page ${page.at - injectedAt} ms after the drift began (${sent} rows injected); whole test ${Date.now() - started} ms`)
  t.match(page.alert.labels, { alertname: 'FairgateFairnessGapHigh', severity: 'page', category: 'fairness', model: 'income', variant: 'full', attribute: 'sex', metric: 'demographic_parity_difference' }, 'the page names model, variant, attribute and metric')
  t.match(page.alert.annotations.summary, /^income\/full: demographic_parity_difference for sex is 0\.\d{3}$/, 'with a summary giving the gap')
  t.ok(Number(/is (\S+)$/.exec(page.alert.annotations.summary ?? '')?.[1]) > 0.25, 'and the gap it gives is past the threshold')
  // Routing: pages only to the pager, fairness pages never to the default receiver.
  for (const r of received) {
    if (r.receiver === 'pager') t.ok(r.alerts.every(a => a.labels.severity === 'page'), `pager got only pages: ${r.alerts.map(a => a.labels.alertname).join(',')}`)
    else t.notOk(r.alerts.some(a => a.labels.severity === 'page'), `${r.receiver} got no page: ${r.alerts.map(a => a.labels.alertname).join(',')}`)
  }
  t.ok(Date.now() - started < 120_000, `the whole test took ${Date.now() - started} ms`)
})
