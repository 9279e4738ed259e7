// The /ui page in a real browser (Debian's chromium driven by playwright-core) against a real
// gateway listening on 127.0.0.1, on the bundled models and a fake clock: the page loads with no
// console error and no request leaving the gateway; after labelled traffic it shows every group
// /v1/fairness reports, with the same selection rate, and none that it hides (not even in a
// decision's evidence), and the event pipeline as /metrics has it; after the drift of
// test/policy/drift.e2e.test.ts it shows the breaching rule and the policy's decision. It writes
// ui.png (1280×800) and ui-phone.png for review into FAIRGATE_SCREENSHOT_DIR, by default .tap/ui
// (ignored by git, so a test run leaves the tree clean; FAIRGATE_SCREENSHOT_DIR=docs refreshes
// the committed ones). Skipped, saying so, without chromium.
import t from 'tap'
import { accessSync, constants, mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { AddressInfo } from 'node:net'
import { chromium, type Browser, type Page } from 'playwright-core'
import { ROOT, startGateway } from '../helpers/gateway.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { replay, sexParityPolicyDir } from '../helpers/drift.js'
import { waitFor } from '../helpers/wait.js'

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium'
const SHOTS = resolve(ROOT, process.env.FAIRGATE_SCREENSHOT_DIR ?? join('.tap', 'ui'))
const INTERVAL = 1000
const WINDOW = 10_000
// High enough that race's two smallest groups in eval.jsonl fall under it, so hiding is exercised.
const REPORT_MIN = 40

let missing = ''
try { accessSync(CHROMIUM, constants.X_OK) } catch { missing = `needs ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_BIN)` }

interface ApiGroup { selection_rate: number, tpr: number | null }
interface ApiAttribute { groups: Record<string, ApiGroup>, suppressed: number }
interface ApiReport { models: Array<{ model: string, variants: Record<string, { n: number, attributes: Record<string, ApiAttribute> }> }>, policies: Array<{ rules: Array<{ rule: string, outcome: string, value: number | null }> }> }

/** Every shown group the API reports, as "variant/attribute/group" → selection rate. */
function apiGroups (r: ApiReport): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [v, vr] of Object.entries(r.models[0]!.variants)) {
    if (vr.n === 0) continue
    for (const [a, ar] of Object.entries(vr.attributes)) for (const [g, gr] of Object.entries(ar.groups)) out[`${v}/${a}/${g}`] = gr.selection_rate
  }
  return out
}

/** The same, read off the page's group rows. */
async function pageGroups (page: Page): Promise<Record<string, number>> {
  return await page.$$eval('figure.attr tr[data-group]', rows => Object.fromEntries(rows.map(r => {
    const fig = r.closest('figure')!
    return [`${fig.dataset.variant}/${fig.dataset.attr}/${r.dataset.group}`, Number(r.dataset.rate)]
  })))
}

const sameKeysAndValues = (a: Record<string, number>, b: Record<string, number>): boolean =>
  Object.keys(a).length > 0 && Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v)

t.test('the /ui page in headless chromium: groups as /v1/fairness, then the breach and the decision', { skip: missing === '' ? false : missing }, async t => {
  const clock = new FakeClock()
  // race-watch alerts on race's gap within a minute of stable traffic; its evidence (the sequential test's rows per group)
  // names every race group, the hidden ones too, which the page must leave out.
  const raceWatch = { name: 'race-watch', metric: 'demographic_parity_difference', attribute: 'race', threshold: 0.01, min_samples: 200, action: { type: 'alert' } }
  const { app, gw } = await startGateway({ policy: { dir: sexParityPolicyDir(INTERVAL, [raceWatch]) }, monitor: { window_ms: WINDOW, bucket_ms: 1000, refresh_ms: 0, report_min: REPORT_MIN } }, { clock })
  t.teardown(() => app.close())
  await app.listen({ host: '127.0.0.1', port: 0 })
  const origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  const api = async (): Promise<ApiReport> => await (await fetch(`${origin}/v1/fairness`)).json() as ApiReport

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] })
  t.teardown(() => browser.close())
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  const errors: string[] = []
  const requests: string[] = []
  const outside: string[] = []
  // Anything not for the gateway is refused (and counted): the page must not need it.
  await context.route(url => url.origin !== origin, async route => { outside.push(route.request().url()); await route.abort() })
  const page = await context.newPage()
  page.on('console', m => { if (m.type() === 'error') errors.push(m.text()) })
  page.on('pageerror', e => { errors.push(e.message) })
  page.on('request', r => { requests.push(`${r.method()} ${r.url()}`) })

  const res = await page.goto(`${origin}/ui`)
  t.equal(res?.status(), 200, 'GET /ui answers the page')
  await waitFor('the first poll', async () => await page.locator('#status[data-polls]').count() === 1)
  t.match(await page.locator('section.model[data-model="income"]').innerText(), /no rows in the window/, 'before traffic: the model, no groups')

  // Labelled traffic, at least 12 s and until race-watch alerts: groups on every row, and the
  // ground truth of every prediction as feedback.
  const stable = replay(app, clock, async (rows, answers) => {
    const fb = await app.inject({ method: 'POST', url: '/v1/feedback', payload: answers.map((a, i) => ({ prediction_id: a.id, label: rows[i]!.label })) })
    if (fb.statusCode >= 300) throw new Error(fb.body)
  })
  const alerted = (): boolean => gw.policy.decisions.list().some(d => d.rule === 'race-watch')
  for (let s = 0; s < 90 && (s < 12 || !alerted()); s++) await stable(false)
  t.ok(alerted(), 'race-watch alerted on the stable traffic')

  // No Kafka here, so the pipeline series are set by hand on the gateway's own registry: the page
  // reads them from the real /metrics exposition like the rest.
  gw.metrics.events.labels('fairgate.predictions', 'buffered').inc(2400)
  gw.metrics.events.labels('fairgate.predictions', 'sent').inc(2390)
  gw.metrics.events.labels('fairgate.predictions', 'dropped').inc(3)
  gw.metrics.eventBuffer.labels('fairgate.predictions').set(7)

  // The clock stands still now, so the report is the same on every poll: wait for the page to
  // catch up with it, then compare.
  const report = await api()
  const expected = apiGroups(report)
  await waitFor('the page to show the groups /v1/fairness reports', async () => sameKeysAndValues(expected, await pageGroups(page)))
  t.same(await pageGroups(page), expected, `every reported group with the same selection rate (${Object.keys(expected).length} groups)`)
  const race = report.models[0]!.variants.full!.attributes.race!
  const hidden = gw.registry.model('income').manifest.groups.race!.filter(g => race.groups[g] === undefined)
  t.ok(race.suppressed > 0 && hidden.length > 0, `report_min ${REPORT_MIN} hides race groups on /v1/fairness (${race.suppressed})`)
  await waitFor('the race-watch alert on the page', async () => await page.locator('#timeline li[data-rule="race-watch"][data-action="alert"]').count() > 0)
  const evidence = gw.policy.decisions.list().find(d => d.rule === 'race-watch')!.evidence
  t.ok(hidden.some(g => JSON.stringify(evidence).includes(`"${g}"`)), 'the alert\'s evidence on /v1/decisions names a hidden group (the sequential test counts every group)')
  // textContent: the closed evidence boxes too.
  const text = await page.locator('body').evaluate(b => b.textContent ?? '')
  for (const g of hidden) t.notOk(new RegExp(`\\b${g}\\b`).test(text), `${g}, hidden by /v1/fairness, is nowhere on the page, not in a decision's evidence`)
  t.match(await page.locator('#timeline li[data-rule="race-watch"] pre').first().evaluate(e => e.textContent ?? ''), /"White"/, 'the evidence keeps the groups the report shows')
  t.equal(await page.locator('figure[data-variant="full"][data-attr="race"] [data-suppressed]').getAttribute('data-suppressed'), String(race.suppressed), 'the page says how many are hidden')
  for (const [name, g] of Object.entries(race.groups)) {
    const row = page.locator(`figure[data-variant="full"][data-attr="race"] tr[data-group="${name}"]`)
    t.equal(await row.locator('td.rate').innerText(), g.selection_rate.toFixed(3), `${name}: the rate printed next to its bar`)
  }
  t.ok(Object.values(race.groups).some(g => g.tpr !== null), 'labels arrived: TPR is reported')
  await waitFor('the event pipeline on the page', async () => await page.locator('#pipeline tr[data-topic="fairgate.predictions"]').count() === 1)
  t.same((await page.locator('#pipeline tr[data-topic="fairgate.predictions"] td.num').allInnerTexts()), ['2,400', '2,390', '0', '3', '0', '7'], 'the event pipeline: buffered, sent, failed, dropped, rejected, waiting')
  t.equal(await page.locator('tr[data-rule="sex-dp"]').getAttribute('data-outcome'), report.policies[0]!.rules.find(r => r.rule === 'sex-dp')!.outcome, 'the rule with its current outcome')

  // The drift, until the policy acts; the clock then stands still on the evaluation that acted.
  const drifted = replay(app, clock)
  const rollbacks = (): number => gw.policy.decisions.list().filter(d => d.action === 'rollback').length
  for (let s = 0; s < 180 && rollbacks() === 0; s++) await drifted(true)
  t.equal(rollbacks(), 1, 'the policy acted on the drift')
  const rule = (await api()).policies[0]!.rules.find(r => r.rule === 'sex-dp')!
  t.equal(rule.outcome, 'breach', 'the API says the rule breaches')
  await waitFor('the page to show the breaching rule', async () => await page.locator('tr[data-rule="sex-dp"][data-outcome="breach"]').count() === 1)
  await waitFor('the page to show the decision', async () => await page.locator('#timeline li[data-rule="sex-dp"][data-action="rollback"]').count() === 1)
  t.match(await page.locator('tr[data-rule="sex-dp"]').innerText(), new RegExp(`breach[\\s\\S]*${rule.value!.toFixed(3)}`), 'the breaching rule with its gap')
  t.match(await page.locator('#timeline li[data-rule="sex-dp"]').innerText(), /rollback[\s\S]*full →/, 'the decision: rollback off full')
  t.match(await page.title(), /breach/, 'the tab title says a rule breaches')
  mkdirSync(SHOTS, { recursive: true })
  await page.screenshot({ path: join(SHOTS, 'ui.png'), fullPage: true })

  // A phone: the page fits its width (wide tables scroll inside their own box).
  await page.setViewportSize({ width: 390, height: 844 })
  const overflow = await page.$eval('html', e => e.scrollWidth - e.clientWidth)
  t.equal(overflow, 0, 'no sideways scrolling of the page at 390 px')
  await page.screenshot({ path: join(SHOTS, 'ui-phone.png') })

  t.same(outside, [], 'no request left for anywhere but the gateway')
  // Read-only: GETs of the page's own files and of the three answers it shows, nothing else.
  const allowed = new Set(['/ui', '/ui/app.js', '/ui/style.css', '/v1/fairness', '/v1/decisions', '/metrics'])
  const odd = requests.filter(r => { const [method, url] = r.split(' ') as [string, string]; const u = new URL(url); return method !== 'GET' || u.origin !== origin || !allowed.has(u.pathname) })
  t.ok(requests.length > 0, `the page made requests (${requests.length})`)
  t.same(odd, [], 'every request a GET to the gateway on 127.0.0.1, of the page or of /v1/fairness, /v1/decisions, /metrics')
  t.same(errors, [], 'no console error')
})
