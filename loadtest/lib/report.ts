// Renders bench results: a console table, the markdown summary and a hand-written SVG of
// open-loop latency percentiles against offered load (no dependencies).
import type { KafkaSummary } from './kafka-on-off.js'
import type { BenchResults, OpenSummary } from './suite.js'

const ms = (x: number | null | undefined): string => x === null || x === undefined || Number.isNaN(x) ? '-' : !Number.isFinite(x) ? '∞' : x >= 100 ? x.toFixed(0) : x.toFixed(1)
const pc = (x: number | null | undefined): string => x === null || x === undefined ? '-' : `${(100 * x).toFixed(1)}%`
const n0 = (x: number | null | undefined): string => x === null || x === undefined ? '-' : x.toFixed(0)

function table (head: string[], rows: string[][]): string[] {
  return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map(r => `| ${r.join(' | ')} |`)]
}

/** The acceptance figures with their goals. */
function acceptance (r: BenchResults): string[][] {
  const out: string[][] = []
  const a = r.closed?.acceptance
  if (a !== undefined) {
    const m = r.closed!.medians
    out.push(['full, 64 conns: fairgate / baseline throughput', `${a.fullThroughputRatio.toFixed(2)}× (median of per-repeat ratios ${a.fullThroughputRatioPerRepeat.map(x => x.toFixed(2)).join(', ')}; medians ${n0(m['fairgate/full']!.rps)} vs ${n0(m['baseline/full']!.rps)} req/s)`, '≥ 3×', a.fullThroughputRatio >= 3 ? 'met' : 'missed'])
    out.push(['(context) HTTP ceiling / baseline full throughput', `${a.ceilingOverBaselineFull.toFixed(2)}× (constant server / baseline full, median per repeat); main-thread CPU/req baseline/fairgate ${a.fullCpuRatio === null ? '-' : a.fullCpuRatio.toFixed(2) + '×'} (${n0(m['baseline/full']!.cpuMainUs)} vs ${n0(m['fairgate/full']!.cpuMainUs)} µs)`, '', ''])
    out.push(['full, 64 conns: p99 fairgate vs baseline', `${ms(a.fullP99.fairgate)} vs ${ms(a.fullP99.baseline)} ms`, '≤', a.fullP99.fairgate <= a.fullP99.baseline ? 'met' : 'missed'])
    out.push(['distilled, 64 conns: fairgate % of constant server', `${a.distilledPctOfConstant.toFixed(0)}% (median of per-repeat ${a.distilledPctOfConstantPerRepeat.map(x => x.toFixed(0)).join(', ')}%; medians ${n0(m['fairgate/distilled']!.rps)} vs ${n0(m['constant/distilled']!.rps)} req/s)`, '≥ 60%', a.distilledPctOfConstant >= 60 ? 'met' : 'missed'])
  }
  const p = r.replay
  if (p !== undefined && p.driftAt !== null) out.push(['drift: time from injection to the first automatic action', p.timeToActionSeconds === null ? 'none seen during the replay' : `${p.timeToActionSeconds} s (${p.action?.action} ${p.action?.from ?? ''}→${p.action?.to ?? ''}, rule ${p.action?.rule ?? '-'}; gap visible after ${p.detectSeconds ?? '-'} s)`, 'reported', p.timeToActionSeconds === null ? 'missed' : 'met'])
  const k = r.kafka
  if (k !== undefined) {
    const label = 'Kafka streaming + monitor on / off throughput, full, 64 conns'
    if ('skipped' in k) out.push([label, `not measured: ${k.skipped}`, '≥ 0.9', 'not run'])
    else {
      for (const v of k.variants) {
        out.push([label.replace('full', v.variant), `${v.ratio.toFixed(2)} (median of per-repeat ${v.perRepeat.map(x => x.toFixed(2)).join(', ')}; medians ${n0(v.on)} vs ${n0(v.off)} req/s); prediction events dropped: ${v.events.dropped}`, '≥ 0.9', v.ratio >= 0.9 && v.events.dropped === 0 ? 'met' : 'missed'])
        out.push(['(context) CPU per request, Kafka off → on', `gateway main thread ${n0(v.cpuMainUs.off)} → ${n0(v.cpuMainUs.on)} µs, other threads ${n0(v.cpuOtherUs.off)} → ${n0(v.cpuOtherUs.on)} µs; broker ${n0(v.brokerUs)} µs (on these 2 cores)`, '', ''])
      }
    }
  }
  const s = r.soak
  if (s !== undefined) {
    out.push([`stable replay, ${s.seconds} s at ${s.rate}/s: automatic actions`, s.actions === null ? 'n/a (no /v1/decisions)' : `${s.actions.length}${s.actions.length > 0 ? ` (${s.actions.map(x => `${x.action} ${x.rule ?? ''}`).join(', ')})` : ''} in ${s.evaluations ?? '-'} policy evaluations`, '0', s.actions !== null && s.actions.length === 0 ? 'met' : 'missed'])
    out.push([`RSS under load, ${s.firstCheck} s vs ${s.secondCheck} s`, `${ms(s.rssAt60)} → ${ms(s.rssAt300)} MiB (${s.growthPct === null ? '-' : (s.growthPct > 0 ? '+' : '') + s.growthPct.toFixed(1)}%); ${ms(s.rssEnd)} MiB at ${s.seconds} s`, 'within 20%', s.growthPct !== null && Math.abs(s.growthPct) <= 20 ? 'met' : 'missed'])
    out.push([`(context) RSS over the ${Math.min(60, s.firstCheck)} s before each check (GC sawtooth)`, `mean ${ms(s.rssMeanFirst)} → ${ms(s.rssMeanLast)} MiB, max ${ms(s.rssMaxFirst)} → ${ms(s.rssMaxLast)} MiB; V8 heap used mean ${ms(s.heapUsedMeanFirst)} → ${ms(s.heapUsedMeanLast)} MiB`, '', ''])
  }
  return out
}

export function renderTable (r: BenchResults): string {
  const lines: string[] = []
  const pad = (cells: string[], w: number[]): string => cells.map((c, i) => c.padEnd(w[i]!)).join('  ')
  const acc = acceptance(r)
  if (acc.length > 0) {
    const w = [52, 70, 10, 6]
    lines.push(pad(['acceptance', 'figure', 'goal', ''], w))
    for (const a of acc) lines.push(pad(a, w))
    lines.push('')
  }
  if (r.closed !== undefined) {
    const w = [22, 8, 8, 8, 12, 12]
    lines.push(pad(['closed loop (median)', 'req/s', 'p50 ms', 'p99 ms', 'cpu main µs', 'cpu other µs'], w))
    for (const [k, m] of Object.entries(r.closed.medians)) lines.push(pad([k, n0(m.rps), ms(m.p50), ms(m.p99), n0(m.cpuMainUs), n0(m.cpuOtherUs)], w))
    lines.push('')
  }
  if (r.open !== undefined) {
    const w = [10, 9, 9, 9, 9, 9, 14]
    lines.push(pad(['open loop', 'offered', 'achieved', 'p50 ms', 'p99 ms', 'p99.9 ms', 'non2xx/timeout'], w))
    for (const p of r.open.points) lines.push(pad([p.server, String(p.offered), n0(p.achieved), ms(p.p50), ms(p.p99), ms(p.p999), `${p.non2xx}/${p.timeouts}`], w))
    lines.push('')
  }
  if (r.mixed !== undefined) {
    lines.push(`mixed budgets at ${r.mixed.rate}/s:`)
    for (const [k, b] of Object.entries(r.mixed.perBudget)) lines.push(`  budget ${k.padEnd(5)} n ${b.n}  ok ${b.ok}  p50 ${ms(b.p50)} ms  p99 ${ms(b.p99)} ms  status ${JSON.stringify(b.status)}  variants ${JSON.stringify(b.variants)}`)
    lines.push('')
  }
  if (r.replay !== undefined) {
    const p = r.replay
    lines.push(`replay at ${p.rate}/s, drift at ${p.driftAt ?? 'none'} s: Female/Male selection rate (monitor) before ${pc(p.before.monitor?.Female)}/${pc(p.before.monitor?.Male)}, after ${pc(p.after.monitor?.Female)}/${pc(p.after.monitor?.Male)}; answers before ${pc(p.before.answers.Female)}/${pc(p.before.answers.Male)}, after ${pc(p.after.answers.Female)}/${pc(p.after.answers.Male)}; gap visible after ${p.detectSeconds ?? '-'} s; time to action ${p.timeToActionSeconds ?? 'n/a'}`)
    lines.push('')
  }
  if (r.kafka !== undefined && !('skipped' in r.kafka)) {
    for (const v of r.kafka.variants) lines.push(`kafka on/off (${v.variant}): ${n0(v.on)} vs ${n0(v.off)} req/s, ratio ${v.ratio.toFixed(2)} (per repeat ${v.perRepeat.map(x => x.toFixed(2)).join(', ')}), events dropped ${v.events.dropped}`, '')
  }
  lines.push(`${r.meta.durationSeconds} s, node ${r.meta.node}, ${r.meta.cpus} cpus, load ${r.meta.loadavgStart.join(' ')} → ${r.meta.loadavgEnd.join(' ')}`)
  return lines.join('\n')
}

export function renderMarkdown (r: BenchResults, svgFile: string | null): string {
  const L: string[] = []
  L.push(`# fairgate benchmarks — ${r.meta.date}`, '')
  L.push(`\`${r.meta.command}\` on ${r.meta.cpus} × ${r.meta.cpuModel}, node ${r.meta.node}; load average ${r.meta.loadavgStart.join(' ')} at the start, ${r.meta.loadavgEnd.join(' ')} at the end; ${r.meta.durationSeconds} s in all.`)
  L.push('All servers ran as child processes on 127.0.0.1, the load generator in the bench process on the same machine. A ratio is the median of per-repeat ratios (both sides measured seconds apart, order alternating each repeat); other figures are medians of the repeats.', '')
  const acc = acceptance(r)
  if (acc.length > 0) { L.push('## Acceptance', '', ...table(['figure', 'measured', 'goal', ''], acc), '') }
  const o = r.meta.options
  if (r.closed !== undefined) {
    L.push(`## Closed loop — ${o.connections} connections, single-row requests, ${o.seconds} s × ${o.repeats} repeats`, '')
    L.push('fairgate: `node dist/cli/index.js serve` (defaults: greedy batching, max batch 64, up to 2 runs in flight per variant (the second only for a full batch), 2 inference threads, intra-op threads 1). baseline: `loadtest/baseline/server.ts --mode baseline` (fastify + onnxruntime-node, one `session.run` per request). constant: `--mode constant` (fastify, JSON parsed, constant answer). The variant is pinned in the body. CPU per request is the server process\'s, main thread and other threads (onnxruntime, libuv pool).', '')
    L.push(...table(['server/variant', 'req/s', 'p50 ms', 'p99 ms', 'cpu main µs/req', 'cpu other µs/req', 'runs (req/s)'], Object.entries(r.closed.medians).map(([k, m]) => [k, n0(m.rps), ms(m.p50), ms(m.p99), n0(m.cpuMainUs), n0(m.cpuOtherUs), r.closed!.runs.filter(x => `${x.server}/${x.variant}` === k).map(x => n0(x.rps)).join(', ')])), '')
  }
  if (r.open !== undefined) {
    L.push(`## Open loop — fixed arrival rate, full variant, ${o.openSeconds} s per rate`, '')
    L.push('Latency is measured from each request\'s scheduled send time (no coordinated omission); requests unanswered 3 s after the last send count as timeouts (infinite latency). A server is not offered higher rates once it saturates (achieved < 90% of offered, timeouts, or p99 > 2 s). "send lag" is how late the generator itself fired, which is part of every latency here.', '')
    L.push(...table(['server', 'offered/s', 'achieved/s', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'non2xx', 'timeouts', 'send lag p99 ms'], r.open.points.map(p => [p.server, String(p.offered), n0(p.achieved), ms(p.p50), ms(p.p90), ms(p.p99), ms(p.p999), ms(p.max), String(p.non2xx), String(p.timeouts), ms(p.sendLagP99)])), '')
    if (r.open.skipped.length > 0) L.push(`Not offered (saturated): ${r.open.skipped.map(s => `${s.server} at ${s.rate}/s`).join(', ')}.`, '')
    if (svgFile !== null) L.push(`![latency against offered load](${svgFile})`, '')
  }
  if (r.mixed !== undefined) {
    L.push(`## Mixed latency budgets — fairgate, ${r.mixed.rate}/s open loop for ${r.mixed.seconds} s, half with \`latency_budget_ms: 20\`, variant not pinned`, '')
    L.push(...table(['budget', 'requests', '200', 'p50 ms', 'p99 ms', 'status codes', 'variant mix (200s)'], Object.entries(r.mixed.perBudget).map(([k, b]) => [k, String(b.n), String(b.ok), ms(b.p50), ms(b.p99), Object.entries(b.status).map(([s, c]) => `${s}: ${c}`).join(', '), Object.entries(b.variants).map(([v, c]) => `${v}: ${c}`).join(', ')])), '')
  }
  if (r.replay !== undefined) {
    const p = r.replay
    L.push(`## Replay of eval.jsonl with drift — ${p.rate}/s for ${p.seconds} s, drift at ${p.driftAt ?? 'none'} s`, '')
    L.push(`From the drift on, every Female row is replaced by one of ${p.driftPoolSize} Female records the full variant scores ≥ 0.8 (group labels unchanged). "monitor" is GET /v1/fairness over the phase (fresh gateway, 1 s buckets), "answers" counts the \`decision\` of the 200 answers.`, '')
    const row = (label: string, g: { Female: number | null, Male: number | null, gap: number | null, nFemale: number, nMale: number } | null): string[] => [label, pc(g?.Female), pc(g?.Male), g?.gap === null || g?.gap === undefined ? '-' : g.gap.toFixed(3), `${g?.nFemale ?? '-'} / ${g?.nMale ?? '-'}`]
    L.push(...table(['phase (source)', 'Female', 'Male', 'DP difference', 'n Female / Male'], [row('before (monitor)', p.before.monitor), row('before (answers)', p.before.answers), row('after (monitor)', p.after.monitor), row('after (answers)', p.after.answers)]), '')
    L.push(`The 5 s-window DP difference's interval lay wholly above the pre-drift interval ${p.detectSeconds === null ? 'never during the run' : `${p.detectSeconds} s after the injection`}. Time from injection to the first automatic action (shipped policy \`policies/income.yaml\`, seen through \`GET /v1/decisions\`): ${p.timeToActionSeconds === null ? 'none seen during the replay' : `${p.timeToActionSeconds} s (${p.action?.action} ${p.action?.from ?? ''}→${p.action?.to ?? ''}, rule ${p.action?.rule ?? '-'})`}. Latency during the replay: p50 ${ms(p.result.p50)} ms, p99 ${ms(p.result.p99)} ms, non2xx ${p.result.non2xx}.`, '')
  }
  if (r.kafka !== undefined && !('skipped' in r.kafka)) L.push(...kafkaSection(r.kafka))
  if (r.soak !== undefined) {
    const s = r.soak
    L.push(`## Soak — stable replay of eval.jsonl, ${s.rate}/s open loop for ${s.seconds} s, shipped policy`, '')
    L.push(`No drift; requests are not pinned, so the policy's active variant serves them. Achieved ${n0(s.result.achieved)}/s, p50 ${ms(s.result.p50)} ms, p99 ${ms(s.result.p99)} ms, non2xx ${s.result.non2xx}, timeouts ${s.result.timeouts}. Policy evaluations: ${s.evaluations ?? '-'}; automatic actions: ${s.actions === null ? 'n/a' : s.actions.length}. fairgate VmRSS: ${s.samples.filter((_x, i) => i % 15 === 14).map(x => `${x.t} s ${ms(x.rssMiB)}`).join(', ')} MiB (every 30 s; all 2 s samples with the V8 heap are in the JSON).`, '')
  }
  return L.join('\n')
}

function kafkaSection (k: KafkaSummary): string[] {
  const L: string[] = []
  L.push(`## Kafka streaming on against off — ${k.connections} connections, single-row requests, ${k.seconds} s × ${k.repeats} repeats`, '')
  L.push(`Broker: ${k.broker}. Each run is a fresh \`fairgate serve\` (2 s warm-up); "on" sets \`FAIRGATE_KAFKA_BROKERS\` (prediction events to Kafka through the worker thread, the in-process monitor, the decisions follower), "off" leaves it unset. The two runs of a repeat are seconds apart, in alternating order. Events are read from \`fairgate_events_total\` at the end of each Kafka-on run, before the gateway drains: buffered = accepted, sent = acked by then.`, '')
  const us = (x: number | null): string => x === null ? '-' : String(x)
  const rows: string[][] = []
  for (const v of k.variants) {
    for (let rep = 0; rep < k.repeats; rep++) {
      const off = k.runs.find(x => x.variant === v.variant && x.repeat === rep && x.mode === 'off')
      const on = k.runs.find(x => x.variant === v.variant && x.repeat === rep && x.mode === 'on')
      if (off === undefined || on === undefined) continue
      rows.push([v.variant, String(rep + 1), n0(off.rps), n0(on.rps), (on.rps / off.rps).toFixed(2), `${ms(off.p99)} / ${ms(on.p99)}`, `${us(off.cpuMainUs)} / ${us(on.cpuMainUs)}`, `${us(off.cpuOtherUs)} / ${us(on.cpuOtherUs)}`, us(on.brokerUs), on.events === null ? '-' : `${on.events.buffered} / ${on.events.sent} / ${on.events.dropped}`])
    }
  }
  L.push(...table(['variant', 'repeat', 'off req/s', 'on req/s', 'on/off', 'p99 ms off / on', 'cpu main µs/req off / on', 'cpu other µs/req off / on', 'broker µs/req', 'events buffered / sent / dropped'], rows), '')
  return L
}

/** Log-log plot of p50 and p99 against offered load, one colour per server. */
export function renderSvg (open: OpenSummary): string | null {
  const pts = open.points.filter(p => Number.isFinite(p.p99) && p.p99 > 0)
  if (pts.length === 0) return null
  const W = 720
  const H = 420
  const m = { l: 70, r: 150, t: 30, b: 50 }
  const xs = pts.map(p => p.offered)
  const ys = pts.flatMap(p => [p.p50, p.p99]).filter(y => y > 0)
  const x0 = Math.log10(Math.min(...xs) * 0.9)
  const x1 = Math.log10(Math.max(...xs) * 1.1)
  const y0 = Math.floor(Math.log10(Math.max(0.1, Math.min(...ys))))
  const y1 = Math.ceil(Math.log10(Math.max(...ys)))
  const X = (v: number): number => m.l + (Math.log10(v) - x0) / (x1 - x0) * (W - m.l - m.r)
  const Y = (v: number): number => H - m.b - (Math.log10(v) - y0) / Math.max(1e-9, y1 - y0) * (H - m.t - m.b)
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`, `<rect width="${W}" height="${H}" fill="white"/>`]
  for (let e = y0; e <= y1; e++) {
    out.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${Y(10 ** e).toFixed(1)}" y2="${Y(10 ** e).toFixed(1)}" stroke="#ddd"/>`, `<text x="${m.l - 6}" y="${(Y(10 ** e) + 4).toFixed(1)}" text-anchor="end">${10 ** e >= 1 ? (10 ** e).toFixed(0) : (10 ** e).toFixed(1)}</text>`)
  }
  for (const r of open.rates) out.push(`<line x1="${X(r).toFixed(1)}" x2="${X(r).toFixed(1)}" y1="${m.t}" y2="${H - m.b}" stroke="#eee"/>`, `<text x="${X(r).toFixed(1)}" y="${H - m.b + 16}" text-anchor="middle">${r}</text>`)
  out.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 10}" text-anchor="middle">offered load (requests/s, log)</text>`, `<text transform="translate(16 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">latency from scheduled send (ms, log)</text>`)
  out.push(`<text x="${m.l}" y="18" font-weight="bold">open loop, full variant: p50 (dashed) and p99 (solid)</text>`)
  const colours: Record<string, string> = { fairgate: '#1f77b4', baseline: '#d62728' }
  let ly = m.t + 10
  for (const server of ['fairgate', 'baseline']) {
    const sp = pts.filter(p => p.server === server).sort((a, b) => a.offered - b.offered)
    if (sp.length === 0) continue
    const c = colours[server]!
    for (const [key, dash] of [['p99', ''], ['p50', ' stroke-dasharray="5 4"']] as const) {
      out.push(`<polyline fill="none" stroke="${c}" stroke-width="2"${dash} points="${sp.map(p => `${X(p.offered).toFixed(1)},${Y(Math.max(p[key], 10 ** y0)).toFixed(1)}`).join(' ')}"/>`)
      for (const p of sp) out.push(`<circle cx="${X(p.offered).toFixed(1)}" cy="${Y(Math.max(p[key], 10 ** y0)).toFixed(1)}" r="3" fill="${c}"/>`)
    }
    out.push(`<line x1="${W - m.r + 12}" x2="${W - m.r + 36}" y1="${ly}" y2="${ly}" stroke="${c}" stroke-width="2"/>`, `<text x="${W - m.r + 42}" y="${ly + 4}">${server}</text>`)
    ly += 20
  }
  out.push('</svg>')
  return out.join('\n') + '\n'
}
