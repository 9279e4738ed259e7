// The on-call page: polls the gateway's own read-only answers (/v1/fairness, /v1/decisions,
// /metrics) and redraws. It renders only what those answers hold, and no group the report
// leaves out (under report_min, or hidden with it): not in the bars, not in a decision's evidence. Every value reaches the page through
// textContent or an SVG attribute, never as markup, so a group or rule name cannot inject any.
'use strict'

const POLL_MS = 2000
const DECISIONS = 50
const SVG = 'http://www.w3.org/2000/svg'
// Okabe–Ito, for the served-mix segments (variants), in order.
const PALETTE = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#f0e442', '#000000']
const SYMBOL = { pass: '✓', breach: '✕', inconclusive: '?' }

/** open <details> of decisions, by id, so a redraw does not close what the reader opened */
const openEvidence = new Set()

function el (tag, attrs, ...children) {
  const e = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs ?? {})) if (v !== undefined && v !== null) e.setAttribute(k, String(v))
  for (const c of children) if (c !== undefined && c !== null) e.append(typeof c === 'string' || typeof c === 'number' ? String(c) : c)
  return e
}

function svg (tag, attrs, ...children) {
  const e = document.createElementNS(SVG, tag)
  for (const [k, v] of Object.entries(attrs ?? {})) if (v !== undefined && v !== null) e.setAttribute(k, String(v))
  for (const c of children) e.append(c)
  return e
}

const fmt = (x, d = 3) => x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d)
const fmtCi = ci => Array.isArray(ci) ? `[${fmt(ci[0])}, ${fmt(ci[1])}]` : ''
const fmtInt = n => Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—'
const fmtMs = x => x === null || x === undefined ? '—' : x < 10 ? x.toFixed(2) : x.toFixed(1)
const fmtTime = t => {
  if (t === null || t === undefined) return '—'
  const d = new Date(t)
  return Number.isNaN(d.getTime()) ? String(t) : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z')
}

async function getJson (url) {
  const r = await fetch(url, { cache: 'no-store', headers: { accept: 'application/json' } })
  if (!r.ok) throw new Error(`${url} answered ${r.status}`)
  return await r.json()
}

async function getText (url) {
  const r = await fetch(url, { cache: 'no-store' })
  if (!r.ok) throw new Error(`${url} answered ${r.status}`)
  return await r.text()
}

// --- charts (hand-drawn SVG: a bar or a point on a 0..max scale, its interval as a whisker)

/** Selection rate as a bar on [0, 1], its interval as a whisker. */
function rateBar (rate, ci, colour) {
  const W = 200; const H = 16
  const x = v => Math.max(0, Math.min(1, v)) * W
  const s = svg('svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', height: H, role: 'img', 'aria-label': `selection rate ${fmt(rate)}, interval ${fmtCi(ci)}` })
  s.append(svg('rect', { x: 0, y: 3, width: W, height: H - 6, fill: '#eeeeee' }))
  s.append(svg('rect', { x: 0, y: 3, width: x(rate), height: H - 6, fill: colour }))
  if (Array.isArray(ci)) {
    s.append(svg('line', { x1: x(ci[0]), x2: x(ci[1]), y1: H / 2, y2: H / 2, stroke: '#000', 'stroke-width': 1.5 }))
    for (const v of ci) s.append(svg('line', { x1: x(v), x2: x(v), y1: 2, y2: H - 2, stroke: '#000', 'stroke-width': 1.5 }))
  }
  return s
}

/** A rule's value and interval against its threshold (dashed), on a scale that holds all three. */
function ruleChart (r) {
  const W = 220; const H = 22
  const vals = [r.threshold, r.value, ...(Array.isArray(r.ci) ? r.ci : [])].filter(v => typeof v === 'number' && Number.isFinite(v))
  const max = Math.max(1e-9, ...vals.map(Math.abs)) * 1.15
  const x = v => Math.max(0, Math.min(W, (v / max) * W))
  const colour = r.outcome === 'breach' ? '#d55e00' : r.outcome === 'pass' ? '#0072b2' : '#6d6d6d'
  const s = svg('svg', { viewBox: `0 0 ${W} ${H}`, height: H, role: 'img', 'aria-label': `value ${fmt(r.value)} interval ${fmtCi(r.ci)} threshold ${fmt(r.threshold)}` })
  s.append(svg('line', { x1: 0, x2: W, y1: H / 2, y2: H / 2, stroke: '#dddddd', 'stroke-width': 1 }))
  if (Array.isArray(r.ci)) s.append(svg('line', { x1: x(r.ci[0]), x2: x(r.ci[1]), y1: H / 2, y2: H / 2, stroke: colour, 'stroke-width': 4 }))
  if (typeof r.value === 'number') s.append(svg('circle', { cx: x(r.value), cy: H / 2, r: 4, fill: colour, stroke: '#000', 'stroke-width': 1 }))
  s.append(svg('line', { x1: x(r.threshold), x2: x(r.threshold), y1: 1, y2: H - 1, stroke: '#000', 'stroke-width': 1.5, 'stroke-dasharray': '3 2' }))
  return s
}

/** The served mix: one segment per variant, its share of the window's requests. */
function mixBar (entries, total) {
  const W = 600; const H = 18
  const s = svg('svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', height: H, role: 'img', 'aria-label': 'served mix' })
  let at = 0
  entries.forEach(([, v], i) => {
    const w = total > 0 ? (v.requests / total) * W : 0
    s.append(svg('rect', { x: at, y: 0, width: w, height: H, fill: PALETTE[i % PALETTE.length] }))
    at += w
  })
  return s
}

// --- sections

function outcomeBadge (outcome) {
  return el('span', { class: `outcome ${outcome}` }, `${SYMBOL[outcome] ?? ''} ${outcome}`)
}

function modelFacts (m, p) {
  const f = el('div', { class: 'facts' })
  const fact = (k, v) => f.append(el('span', {}, `${k}: `, el('b', {}, v)))
  fact('active variant', p?.active ?? '—')
  fact('last known good', p?.last_known_good ?? '—')
  fact('window', `${m.window_ms / 1000} s`)
  fact('report_min', String(m.settings.report_min))
  fact('confidence', String(m.settings.confidence))
  if (p) fact('policy evaluated', fmtTime(p.evaluated_at))
  if (p?.cooldown_until) fact('cooldown until', fmtTime(p.cooldown_until))
  fact('report at', fmtTime(m.generated_at))
  return f
}

function mixSection (m, active) {
  const entries = Object.entries(m.variants)
  const total = entries.reduce((s, [, v]) => s + v.requests, 0)
  const box = el('div', { class: 'mix' }, el('h3', {}, 'Served mix and latency'))
  if (total === 0) box.append(el('p', { class: 'empty' }, 'no requests in the window'))
  else box.append(mixBar(entries, total))
  // The colour key is an SVG square: an inline style would need 'unsafe-inline' in the CSP.
  const swatch = i => svg('svg', { width: 10, height: 10, viewBox: '0 0 10 10', 'aria-hidden': 'true' }, svg('rect', { width: 10, height: 10, fill: PALETTE[i % PALETTE.length] }))
  const rows = entries.map(([name, v], i) => el('tr', { 'data-variant': name },
    el('td', {}, swatch(i), ' ', name, name === active ? ' (active)' : ''),
    el('td', { class: 'num' }, fmtInt(v.requests)),
    el('td', { class: 'num' }, total > 0 ? `${(100 * v.requests / total).toFixed(1)} %` : '—'),
    el('td', { class: 'num' }, fmtInt(v.n)),
    el('td', { class: 'num' }, fmt(v.selection_rate)),
    el('td', { class: 'num' }, fmtMs(v.latency_ms.p50)),
    el('td', { class: 'num' }, fmtMs(v.latency_ms.p95)),
    el('td', { class: 'num' }, fmtMs(v.latency_ms.p99))))
  box.append(el('div', { class: 'scroll' }, el('table', { class: 'variants' },
    el('thead', {}, el('tr', {}, ...['variant', 'requests', 'share', 'rows', 'selection rate', 'p50 ms', 'p95 ms', 'p99 ms'].map((h, i) => el('th', { class: i > 0 ? 'num' : undefined }, h)))),
    el('tbody', {}, ...rows))))
  return box
}

function rulesSection (p) {
  const box = el('div', { class: 'rules' }, el('h3', {}, 'Rules', p ? el('span', { class: 'dim' }, ` on the active variant (${p.active ?? '—'})`) : ''))
  if (!p || p.rules.length === 0) { box.append(el('p', { class: 'empty' }, p ? 'not evaluated yet' : 'no policy for this model')); return box }
  const rows = p.rules.map(r => el('tr', { class: r.outcome, 'data-rule': r.rule, 'data-outcome': r.outcome },
    el('td', {}, r.rule),
    el('td', {}, outcomeBadge(r.outcome)),
    el('td', { class: 'num' }, fmt(r.value)),
    el('td', { class: 'num' }, fmtCi(r.ci)),
    el('td', { class: 'num' }, fmt(r.threshold)),
    el('td', { class: 'chart' }, ruleChart(r)),
    el('td', {}, r.attribute === undefined ? r.metric : `${r.metric} (${r.attribute})`),
    el('td', { class: 'num' }, String(r.streak ?? 0)),
    el('td', {}, r.reason ?? (r.sequential ? sequentialNote(r.sequential) : ''))))
  box.append(el('div', { class: 'scroll' }, el('table', {},
    el('thead', {}, el('tr', {}, ...['rule', 'outcome', 'value', 'interval', 'threshold', 'against the threshold', 'metric', 'streak', 'why'].map(h => el('th', {}, h)))),
    el('tbody', {}, ...rows))))
  return box
}

function sequentialNote (seq) {
  return Object.entries(seq).map(([k, s]) => `${k}: sequential test ${s.outcome}`).join('; ')
}

function attributeTable (variant, attr, a) {
  const g = a.gaps
  const fig = el('figure', { class: 'attr', 'data-variant': variant, 'data-attr': attr })
  fig.append(el('h4', {}, attr))
  const notes = [
    `parity difference ${fmt(g.demographic_parity_difference)} ${fmtCi(g.demographic_parity_difference_ci)}`,
    `ratio ${fmt(g.demographic_parity_ratio)}`,
    `equalized odds ${fmt(g.equalized_odds_difference)}`,
    `max PSI ${fmt(a.drift.max_psi)}`
  ]
  fig.append(el('p', { class: 'note' }, notes.join(' · ')))
  if (a.suppressed > 0) fig.append(el('p', { class: 'note', 'data-suppressed': a.suppressed }, `${a.suppressed} group${a.suppressed === 1 ? '' : 's'} not shown (under report_min, or hidden with one that is)`))
  const names = Object.keys(a.groups)
  if (names.length === 0) { fig.append(el('p', { class: 'empty' }, 'no group to show')); return fig }
  const rows = names.map(name => {
    const r = a.groups[name]
    return el('tr', { 'data-group': name, 'data-rate': String(r.selection_rate) },
      el('th', { scope: 'row' }, name, r.status === 'insufficient' ? el('span', { class: 'dim' }, ' (few rows)') : ''),
      el('td', { class: 'bar' }, rateBar(r.selection_rate, r.selection_rate_ci, r.status === 'insufficient' ? '#8c8c8c' : '#0072b2')),
      el('td', { class: 'num rate' }, fmt(r.selection_rate)),
      el('td', { class: 'num' }, fmtCi(r.selection_rate_ci)),
      el('td', { class: 'num' }, fmtInt(r.n)),
      el('td', { class: 'num' }, fmtInt(r.labelled)),
      el('td', { class: 'num' }, fmt(r.tpr)),
      el('td', { class: 'num' }, fmt(r.fpr)),
      el('td', { class: 'num' }, fmtMs(r.latency_ms.p95)),
      el('td', { class: 'num' }, fmt(r.drift.psi)))
  })
  fig.append(el('div', { class: 'scroll' }, el('table', {},
    el('thead', {}, el('tr', {}, ...['group', 'selection rate', 'rate', 'interval', 'rows', 'labelled', 'TPR', 'FPR', 'p95 ms', 'PSI'].map((h, i) => el('th', { class: i > 1 ? 'num' : undefined }, h)))),
    el('tbody', {}, ...rows))))
  return fig
}

function groupsSection (m, active) {
  const box = el('div', { class: 'groups' })
  // The active variant first, then the others that served rows in the window.
  const names = Object.keys(m.variants).filter(v => m.variants[v].n > 0).sort((a, b) => (b === active) - (a === active))
  if (names.length === 0) { box.append(el('h3', {}, 'Groups'), el('p', { class: 'empty' }, 'no rows in the window')); return box }
  for (const v of names) {
    const vr = m.variants[v]
    box.append(el('h3', {}, `Groups on ${v}`, el('span', { class: 'dim' }, ` (${fmtInt(vr.n)} rows in the window)`)))
    const grid = el('div', { class: 'attrs' })
    for (const [attr, a] of Object.entries(vr.attributes)) grid.append(attributeTable(v, attr, a))
    box.append(grid)
  }
  return box
}

function renderModels (fair) {
  const policies = new Map((fair.policies ?? []).map(p => [p.model, p]))
  const out = fair.models.map(m => {
    const p = policies.get(m.model)
    return el('section', { class: 'model', 'data-model': m.model, 'aria-label': `model ${m.model}` },
      el('h2', {}, `Model ${m.model}`),
      modelFacts(m, p),
      rulesSection(p),
      mixSection(m, p?.active),
      groupsSection(m, p?.active))
  })
  document.getElementById('models').replaceChildren(...out)
}

/** Per model and attribute, the groups the report shows on any variant. */
function shownGroups (fair) {
  const out = new Map()
  for (const m of fair.models) {
    for (const vr of Object.values(m.variants)) {
      for (const [attr, a] of Object.entries(vr.attributes)) {
        const key = `${m.model}\u0000${attr}`
        const set = out.get(key) ?? new Set()
        for (const g of Object.keys(a.groups)) set.add(g)
        out.set(key, set)
      }
    }
  }
  return out
}

/**
 * A decision's evidence with only the groups the current report shows. The gateway already
 * leaves out the groups hidden when the decision was taken; a group the report hides now may have
 * been shown then, so its rows are dropped too, and a pair naming one is replaced by a note.
 */
function redactEvidence (evidence, shown) {
  if (evidence === null || typeof evidence !== 'object') return evidence
  const e = structuredClone(evidence)
  const keep = obj => {
    if (obj === null || typeof obj !== 'object') return obj
    return Object.fromEntries(Object.entries(obj).filter(([g]) => shown.has(g)))
  }
  if (e.groups !== undefined) e.groups = keep(e.groups)
  for (const s of Object.values(e.sequential ?? {})) {
    const st = s?.strongest
    if (st === null || st === undefined) continue
    if (st.rows !== undefined) st.rows = keep(st.rows)
    if (st.pair !== undefined && st.pair !== null && !(shown.has(st.pair.a) && shown.has(st.pair.b))) st.pair = 'between groups, one of which the report does not show'
  }
  return e
}

function renderDecisions (decisions, shown) {
  const list = document.getElementById('timeline')
  if (decisions.length === 0) { list.replaceChildren(el('li', { class: 'empty' }, 'no decision yet')); return }
  list.replaceChildren(...decisions.map(d => {
    const key = d.id ?? `${d.model}/${d.ts}/${d.rule}`
    const details = el('details', { 'data-key': key, open: openEvidence.has(key) ? '' : undefined },
      el('summary', {}, 'evidence'), el('pre', {}, JSON.stringify(redactEvidence(d.evidence, shown.get(`${d.model}\u0000${d.evidence?.attribute}`) ?? new Set()), null, 2)))
    details.addEventListener('toggle', () => { if (details.open) openEvidence.add(key); else openEvidence.delete(key) })
    return el('li', { class: d.action, 'data-rule': d.rule, 'data-action': d.action, 'data-model': d.model },
      el('span', { class: 'when' }, fmtTime(d.ts)),
      el('span', { class: 'action' }, d.action),
      `${d.model}: ${d.from} → ${d.to} · rule ${d.rule} · by ${d.actor}${d.origin === 'remote' ? ' (followed)' : ''}${d.rejected ? ` · refused: ${d.rejected}` : ''}`,
      details)
  }))
}

/** The handful of pipeline series, from the Prometheus text (none of them carries a group). */
function pipelineSeries (text) {
  const events = new Map()
  const feedback = new Map()
  for (const line of text.split('\n')) {
    const m = /^(fairgate_events_total|fairgate_event_buffer|fairgate_feedback_total)\{([^}]*)\}\s+(\S+)$/.exec(line)
    if (m === null) continue
    const labels = {}
    for (const l of m[2].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2]
    const v = Number(m[3])
    if (m[1] === 'fairgate_feedback_total') { feedback.set(labels.outcome, v); continue }
    const row = events.get(labels.topic) ?? {}
    row[m[1] === 'fairgate_event_buffer' ? 'waiting' : labels.outcome] = v
    events.set(labels.topic, row)
  }
  return { events, feedback }
}

function renderPipeline (fair, metricsText) {
  const body = []
  if (metricsText === null) body.push(el('p', { class: 'empty' }, '/metrics did not answer'))
  else {
    const { events, feedback } = pipelineSeries(metricsText)
    if (events.size === 0) body.push(el('p', { class: 'note' }, 'no event topic in use (the embedded default: no Kafka, the monitor is fed in-process)'))
    else {
      const cols = ['buffered', 'sent', 'failed', 'dropped', 'rejected', 'waiting']
      body.push(el('div', { class: 'scroll' }, el('table', { class: 'events' },
        el('thead', {}, el('tr', {}, el('th', {}, 'topic'), ...cols.map(c => el('th', { class: 'num' }, c)))),
        el('tbody', {}, ...[...events].map(([topic, row]) => el('tr', { 'data-topic': topic }, el('td', {}, topic), ...cols.map(c => el('td', { class: 'num' }, fmtInt(row[c] ?? 0)))))))))
    }
    if (feedback.size > 0) body.push(el('p', { class: 'note' }, `feedback records read: ${[...feedback].map(([k, v]) => `${k} ${fmtInt(v)}`).join(', ')}`))
  }
  // Label arrival: labelled rows over the shown groups of each model's first attribute (hidden
  // groups are not in the report, so neither are their labels).
  const items = []
  for (const m of fair.models) {
    for (const [v, vr] of Object.entries(m.variants)) {
      const first = Object.entries(vr.attributes)[0]
      if (vr.n === 0 || first === undefined) continue
      const labelled = Object.values(first[1].groups).reduce((s, g) => s + g.labelled, 0)
      items.push(el('li', {}, `${m.model}/${v}: ${fmtInt(labelled)} labelled of ${fmtInt(vr.n)} rows in the window (shown groups of ${first[0]}); late labels ${fmtInt(vr.late_labels)}, late events ${fmtInt(vr.late_events)}`))
    }
  }
  body.push(el('h3', {}, 'Label arrival'), items.length === 0 ? el('p', { class: 'empty' }, 'no rows in the window') : el('ul', {}, ...items))
  document.getElementById('pipeline-body').replaceChildren(...body)
}

// --- the loop

let polls = 0

async function refresh () {
  const status = document.getElementById('status')
  try {
    const [fair, dec, metricsText] = await Promise.all([
      getJson('/v1/fairness'),
      getJson(`/v1/decisions?limit=${DECISIONS}`),
      getText('/metrics').catch(() => null)
    ])
    renderModels(fair)
    renderDecisions(dec.decisions, shownGroups(fair))
    renderPipeline(fair, metricsText)
    polls++
    const breaches = (fair.policies ?? []).flatMap(p => p.rules.filter(r => r.outcome === 'breach').map(r => `${p.model}/${r.rule}`))
    document.title = breaches.length > 0 ? `✕ ${breaches.length} breach · fairgate` : 'fairgate · live'
    status.className = ''
    status.dataset.polls = String(polls)
    status.textContent = `updated ${new Date().toLocaleTimeString('en-GB')} · every ${POLL_MS / 1000} s · ${breaches.length === 0 ? 'no rule breaching' : `breaching: ${breaches.join(', ')}`}`
  } catch (err) {
    // Keep the last picture and say it is stale; the next poll tries again.
    status.className = 'stale'
    status.textContent = `stale: ${err.message} (retrying every ${POLL_MS / 1000} s)`
  }
  setTimeout(refresh, POLL_MS)
}

refresh()
