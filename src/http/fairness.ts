// GET /v1/fairness[?model=&window=]: the monitor's rolling report. `window` is a duration
// ("60s", "5m", or milliseconds) no longer than the configured window.
import { FG_ERR_MODEL_UNKNOWN, FG_ERR_REQUEST_INVALID } from '../errors.js'
import type { FairnessReport, Monitor } from '../monitor/index.js'

export function parseDuration (s: string, field: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(s.trim())
  if (m === null) throw FG_ERR_REQUEST_INVALID(field, 'must be a duration like 300000, 60s, 5m or 1h')
  const n = Number(m[1])
  const unit = m[2] ?? 'ms'
  const ms = n * (unit === 'h' ? 3_600_000 : unit === 'm' ? 60_000 : unit === 's' ? 1000 : 1)
  if (!(ms > 0)) throw FG_ERR_REQUEST_INVALID(field, 'must be > 0')
  return ms
}

export function fairnessReport (monitor: Monitor, q: { model?: string, window?: string }): { models: FairnessReport[] } {
  const windowMs = q.window === undefined ? undefined : parseDuration(q.window, 'window')
  if (windowMs !== undefined && windowMs > monitor.cfg.window_ms) throw FG_ERR_REQUEST_INVALID('window', `must be at most the monitor window (${monitor.cfg.window_ms} ms)`)
  const names = q.model === undefined ? monitor.modelNames() : [q.model]
  return {
    models: names.map(n => {
      const r = monitor.report(n, windowMs)
      if (r === undefined) throw FG_ERR_MODEL_UNKNOWN(n)
      return r
    })
  }
}
