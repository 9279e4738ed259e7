// Open-loop load at a fixed arrival rate. Request i is due at t0 + i/rate whatever happened to
// the earlier ones, and its latency is measured from that SCHEDULED time, not from when it was
// actually written to a socket: a server (or a client pool) that falls behind is charged for
// the queue it causes, so the tail is not hidden by coordinated omission as in a closed loop.
import { Pool } from 'undici'

export interface OpenLoopRequest {
  body: string
  /** Small integer class (e.g. a latency budget); latencies are also reported per tag. */
  tag?: number
}

export interface OpenLoopOptions {
  url: string
  path?: string
  /** Offered arrival rate (requests/s). */
  rate: number
  seconds: number
  /** Client connections (the pool queues beyond them; the queueing counts in latency). */
  connections?: number
  /** Request i is requests(i). */
  request: (i: number) => OpenLoopRequest
  /** Called with each answer (status and body) when the caller needs it; bodies are read anyway. */
  onResponse?: (i: number, tag: number, status: number, body: string, latencyMs: number) => void
  /** After the last send, wait this long for outstanding answers; the rest count as timeouts. */
  drainMs?: number
  headers?: Record<string, string>
}

export interface Percentiles { p50: number, p90: number, p99: number, p999: number, max: number }
export interface OpenLoopResult extends Percentiles {
  offered: number
  /** Answers per second over the send window (completed / seconds). */
  achieved: number
  sent: number
  completed: number
  ok: number
  non2xx: number
  errors: number
  /** Never answered within the drain time (they count as infinite latency in the percentiles). */
  timeouts: number
  /** How late the generator itself fired (ms): p99 and max, to judge the client's own share. */
  sendLagP99: number
  sendLagMax: number
  byTag: Record<string, Percentiles & { n: number, ok: number }>
}

/** The nearest-rank q-quantile of a sorted array (NaN when empty). */
export function quantile (sorted: ArrayLike<number>, q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}

/** Nearest-rank percentiles of a sorted array (ms); NaN/Infinity stay as they are. */
export function percentiles (sorted: Float64Array): Percentiles {
  return { p50: quantile(sorted, 0.5), p90: quantile(sorted, 0.9), p99: quantile(sorted, 0.99), p999: quantile(sorted, 0.999), max: quantile(sorted, 1) }
}

export async function openLoop (o: OpenLoopOptions): Promise<OpenLoopResult> {
  const total = Math.max(1, Math.round(o.rate * o.seconds))
  const interval = 1000 / o.rate
  const pool = new Pool(o.url, { connections: o.connections ?? 64, pipelining: 1, keepAliveTimeout: 30_000 })
  const path = o.path ?? '/v1/predict'
  const headers = { 'content-type': 'application/json', ...o.headers }
  const latency = new Float64Array(total).fill(Infinity)
  const lag = new Float64Array(total)
  const tags = new Uint8Array(total)
  const status = new Uint16Array(total)
  let sent = 0
  let completed = 0
  let ok = 0
  let non2xx = 0
  let errors = 0
  let timedOut = false
  let allDone: () => void = () => {}
  const done = new Promise<void>(resolve => { allDone = resolve })

  const fire = (i: number, due: number): void => {
    const req = o.request(i)
    const tag = req.tag ?? 0
    tags[i] = tag
    lag[i] = performance.now() - due
    sent++
    pool.request({ path, method: 'POST', headers, body: req.body }).then(async res => {
      const text = await res.body.text()
      latency[i] = performance.now() - due
      status[i] = res.statusCode
      if (res.statusCode >= 200 && res.statusCode < 300) ok++
      else non2xx++
      o.onResponse?.(i, tag, res.statusCode, text, latency[i]!)
    }, () => { if (!timedOut) errors++ }).finally(() => {
      completed++
      if (completed === total) allDone()
    })
  }

  const t0 = performance.now() + 20
  let next = 0
  await new Promise<void>(resolve => {
    const tick = (): void => {
      const now = performance.now()
      while (next < total && t0 + next * interval <= now) { fire(next, t0 + next * interval); next++ }
      if (next >= total) { resolve(); return }
      setTimeout(tick, Math.max(0, Math.min(1, t0 + next * interval - now)))
    }
    setTimeout(tick, 20)
  })
  const sendEnd = performance.now()
  let timer: NodeJS.Timeout | undefined
  await Promise.race([done, new Promise<void>(resolve => { timer = setTimeout(resolve, o.drainMs ?? 5000) })])
  clearTimeout(timer)
  timedOut = true // what the pool still holds now is a timeout, not a transport error
  await pool.destroy().catch(() => {})
  const seconds = (sendEnd - t0) / 1000

  const byTag: OpenLoopResult['byTag'] = {}
  for (const tag of new Set(tags)) {
    const xs: number[] = []
    let n = 0
    let tagOk = 0
    for (let i = 0; i < total; i++) {
      if (tags[i] !== tag) continue
      n++
      xs.push(latency[i]!)
      if (status[i]! >= 200 && status[i]! < 300) tagOk++
    }
    byTag[String(tag)] = { n, ok: tagOk, ...percentiles(Float64Array.from(xs).sort()) }
  }
  const lagSorted = lag.slice().sort()
  return {
    offered: o.rate,
    achieved: ok / Math.max(seconds, o.seconds),
    sent,
    completed: ok + non2xx,
    ok,
    non2xx,
    errors,
    timeouts: total - (ok + non2xx + errors),
    ...percentiles(latency.slice().sort()),
    sendLagP99: percentiles(lagSorted).p99,
    sendLagMax: percentiles(lagSorted).max,
    byTag
  }
}
