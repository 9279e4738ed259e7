// Hand-written SVG plots of an evaluation (no plotting library, so the report renders anywhere a
// browser or GitHub shows an image): the frontier (accuracy against latency, marker by gap) and
// per-group rates of every variant with their intervals.
import type { Report } from './run.js'

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf']
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
const f = (x: number): string => (Math.round(x * 10) / 10).toString()

/** Green (no gap) to red (the largest gap shown). */
function gapColour (gap: number | null, max: number): string {
  if (gap === null) return '#999999'
  const t = max > 0 ? Math.min(1, gap / max) : 0
  const r = Math.round(40 + 200 * t)
  const g = Math.round(170 - 120 * t)
  return `rgb(${r},${g},60)`
}

export function frontierSvg (rep: Report): string {
  const W = 760
  const H = 440
  const L = 70
  const R = 230
  const T = 40
  const B = 55
  const pts = Object.entries(rep.variants).filter(([, v]) => v.objectives.accuracy !== null && v.objectives.latency !== null)
  const xs = pts.map(([, v]) => Math.log10(v.objectives.latency!))
  const ys = pts.map(([, v]) => v.objectives.accuracy!)
  const gaps = pts.map(([, v]) => v.objectives.gap ?? 0)
  const x0 = Math.floor(Math.min(...xs) - 0.1)
  const x1 = Math.ceil(Math.max(...xs) + 0.1)
  const pad = Math.max(0.005, (Math.max(...ys) - Math.min(...ys)) * 0.15)
  const y0 = Math.min(...ys) - pad
  const y1 = Math.max(...ys) + pad
  const maxGap = Math.max(...gaps, 0.01)
  const X = (lx: number): number => L + (lx - x0) / (x1 - x0) * (W - L - R)
  const Y = (y: number): number => T + (y1 - y) / (y1 - y0) * (H - T - B)
  const out: string[] = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`)
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`)
  out.push(`<text x="${L}" y="22" font-size="14" font-weight="bold">${esc(rep.model)}: accuracy against latency (marker colour: max gap)</text>`)
  // Axes: decades of latency, accuracy in tenths of a point.
  for (let d = x0; d <= x1; d++) {
    out.push(`<line x1="${f(X(d))}" y1="${T}" x2="${f(X(d))}" y2="${H - B}" stroke="#eee"/>`)
    out.push(`<text x="${f(X(d))}" y="${H - B + 16}" text-anchor="middle">${10 ** d >= 1 ? 10 ** d : (10 ** d).toPrecision(1)}</text>`)
  }
  const step = (y1 - y0) > 0.05 ? 0.01 : 0.005
  for (let y = Math.ceil(y0 / step) * step; y <= y1; y += step) {
    out.push(`<line x1="${L}" y1="${f(Y(y))}" x2="${W - R}" y2="${f(Y(y))}" stroke="#eee"/>`)
    out.push(`<text x="${L - 6}" y="${f(Y(y) + 4)}" text-anchor="end">${y.toFixed(3)}</text>`)
  }
  out.push(`<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#333"/>`)
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 14}" text-anchor="middle">median ms of a 32-row batch (log scale; lower is better)</text>`)
  out.push(`<text x="16" y="${(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(T + H - B) / 2})">accuracy (higher is better)</text>`)
  // The accuracy–latency frontier of the two plotted axes as a step line; the fill says whether a
  // variant is on the frontier of all four objectives.
  const plane = pts.filter(([, a]) => !pts.some(([, b]) => b !== a && b.objectives.accuracy! >= a.objectives.accuracy! && b.objectives.latency! <= a.objectives.latency! &&
    (b.objectives.accuracy! > a.objectives.accuracy! || b.objectives.latency! < a.objectives.latency!))).sort((a, b) => a[1].objectives.latency! - b[1].objectives.latency!)
  const steps: string[] = []
  plane.forEach(([, v], i) => {
    const x = f(X(Math.log10(v.objectives.latency!)))
    if (i > 0) steps.push(`${x},${f(Y(plane[i - 1]![1].objectives.accuracy!))}`)
    steps.push(`${x},${f(Y(v.objectives.accuracy!))}`)
  })
  if (plane.length > 1) out.push(`<polyline fill="none" stroke="#555" stroke-dasharray="4 3" points="${steps.join(' ')}"/>`)
  const labels: Array<{ x: number, y: number, w: number }> = []
  for (const [name, v] of [...pts].sort((a, b) => b[1].objectives.accuracy! - a[1].objectives.accuracy!)) {
    const cx = X(Math.log10(v.objectives.latency!))
    const cy = Y(v.objectives.accuracy!)
    const colour = gapColour(v.objectives.gap, maxGap)
    const on = rep.frontier.includes(name)
    const chosen = rep.choice.variant === name
    out.push(`<circle cx="${f(cx)}" cy="${f(cy)}" r="${chosen ? 9 : 7}" fill="${on ? colour : 'white'}" stroke="${colour}" stroke-width="${on ? 1 : 2.5}"/>`)
    if (chosen) out.push(`<circle cx="${f(cx)}" cy="${f(cy)}" r="13" fill="none" stroke="#000" stroke-width="1.5"/>`)
    const text = `${name} (gap ${v.objectives.gap === null ? 'n/a' : v.objectives.gap.toFixed(3)})`
    // Labels of close points are pushed down until they no longer overlap an earlier one.
    const w = text.length * 6.5
    let ly = cy - 6
    const lx = cx + 14
    while (labels.some(l => Math.abs(l.y - ly) < 13 && lx < l.x + l.w && l.x < lx + w)) ly += 13
    labels.push({ x: lx, y: ly, w })
    out.push(`<text x="${f(lx)}" y="${f(ly)}">${esc(text)}</text>`)
  }
  // Legend.
  const lx = W - R + 16
  out.push(`<text x="${lx}" y="${T + 10}" font-weight="bold">legend</text>`)
  out.push(`<circle cx="${lx + 6}" cy="${T + 30}" r="7" fill="${gapColour(0, 1)}"/><text x="${lx + 20}" y="${T + 34}">on the 4-objective frontier</text>`)
  out.push(`<circle cx="${lx + 6}" cy="${T + 54}" r="7" fill="white" stroke="${gapColour(0, 1)}" stroke-width="2.5"/><text x="${lx + 20}" y="${T + 58}">dominated</text>`)
  out.push(`<circle cx="${lx + 6}" cy="${T + 78}" r="11" fill="none" stroke="#000" stroke-width="1.5"/><text x="${lx + 20}" y="${T + 82}">weighted choice</text>`)
  for (let i = 0; i <= 4; i++) {
    const g = maxGap * i / 4
    out.push(`<rect x="${lx}" y="${T + 100 + i * 18}" width="12" height="12" fill="${gapColour(g, maxGap)}"/><text x="${lx + 20}" y="${T + 110 + i * 18}">gap ${g.toFixed(3)}</text>`)
  }
  out.push(`<text x="${lx}" y="${T + 210}">gap: the larger of</text>`)
  rep.gap_metrics.forEach((m, i) => out.push(`<text x="${lx}" y="${T + 226 + i * 16}">${esc(m.replace(/_difference$/, '').replace(/_/g, ' '))}</text>`))
  out.push(`<text x="${lx}" y="${T + 226 + rep.gap_metrics.length * 16}">over ${esc(rep.gap_attributes.join(', '))}</text>`)
  out.push(`<line x1="${lx}" y1="${T + 262 + rep.gap_metrics.length * 16}" x2="${lx + 24}" y2="${T + 262 + rep.gap_metrics.length * 16}" stroke="#555" stroke-dasharray="4 3"/><text x="${lx + 30}" y="${T + 266 + rep.gap_metrics.length * 16}">accuracy–latency frontier</text>`)
  out.push('</svg>')
  return out.join('\n') + '\n'
}

/** Per attribute a panel: each group's rate per variant, with its Wilson interval. */
export function groupsSvg (rep: Report, metric: 'selection_rate' | 'tpr'): string {
  const names = Object.keys(rep.variants)
  const first = rep.variants[names[0]!]!
  const attrs = Object.keys(first.attributes)
  const panelH = 220
  const W = 760
  const L = 60
  const R = 150
  const T = 40
  const H = T + attrs.length * (panelH + 50)
  const out: string[] = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`)
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`)
  out.push(`<text x="${L}" y="22" font-size="14" font-weight="bold">${esc(rep.model)}: ${metric === 'tpr' ? 'true positive rate' : 'selection rate'} per group, ${Math.round(rep.monitor.confidence * 100)}% Wilson intervals</text>`)
  attrs.forEach((attr, ai) => {
    const top = T + ai * (panelH + 50) + 10
    const groups = Object.keys(first.attributes[attr]!.groups)
    const Y = (y: number): number => top + (1 - y) * panelH
    out.push(`<text x="${L}" y="${top - 2}" font-weight="bold">${esc(attr)}</text>`)
    for (let y = 0; y <= 1.0001; y += 0.25) {
      out.push(`<line x1="${L}" y1="${f(Y(y))}" x2="${W - R}" y2="${f(Y(y))}" stroke="#eee"/><text x="${L - 6}" y="${f(Y(y) + 4)}" text-anchor="end">${y.toFixed(2)}</text>`)
    }
    out.push(`<rect x="${L}" y="${top}" width="${W - L - R}" height="${panelH}" fill="none" stroke="#333"/>`)
    const slot = (W - L - R) / Math.max(1, groups.length)
    groups.forEach((g, gi) => {
      out.push(`<text x="${f(L + slot * (gi + 0.5))}" y="${top + panelH + 16}" text-anchor="middle">${esc(g.length > 18 ? g.slice(0, 17) + '…' : g)}</text>`)
      names.forEach((name, vi) => {
        const row = rep.variants[name]!.attributes[attr]?.groups[g]
        if (row === undefined) return
        const value = metric === 'tpr' ? row.tpr : row.selection_rate
        const ci = metric === 'tpr' ? row.tpr_ci : row.selection_rate_ci
        if (value === null) return
        const cx = L + slot * gi + slot * (vi + 1) / (names.length + 1)
        const colour = PALETTE[vi % PALETTE.length]!
        if (ci !== null) out.push(`<line x1="${f(cx)}" y1="${f(Y(ci[0]))}" x2="${f(cx)}" y2="${f(Y(ci[1]))}" stroke="${colour}" stroke-width="1.5"/>`)
        out.push(`<circle cx="${f(cx)}" cy="${f(Y(value))}" r="3" fill="${colour}"/>`)
      })
    })
  })
  names.forEach((name, vi) => {
    out.push(`<rect x="${W - R + 14}" y="${T + 10 + vi * 18}" width="10" height="10" fill="${PALETTE[vi % PALETTE.length]!}"/><text x="${W - R + 30}" y="${T + 19 + vi * 18}">${esc(name)}</text>`)
  })
  out.push('</svg>')
  return out.join('\n') + '\n'
}
