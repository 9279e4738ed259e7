// GET /v1/fairness[?model=&window=]: the monitor's rolling report. `window` is a duration
// ("60s", "5m", or milliseconds) no longer than the configured window. GET /v1/decisions: the
// audit log. Given only the fairness interface (a gateway's or `fairgate monitor`'s).
import type { FastifyInstance } from 'fastify'
import { FG_ERR_MODEL_UNKNOWN, FG_ERR_REQUEST_INVALID } from '../errors.js'
import type { FairnessApi } from '../gateway.js'
import type { FairnessReport } from '../monitor/index.js'
import { readQuery } from './query.js'

const FAIRNESS_QUERY = ['model', 'window'] as const
const DECISIONS_QUERY = ['model', 'limit'] as const

export function parseDuration (s: string, field: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(s.trim())
  if (m === null) throw FG_ERR_REQUEST_INVALID(field, 'must be a duration like 300000, 60s, 5m or 1h')
  const n = Number(m[1])
  const unit = m[2] ?? 'ms'
  const ms = n * (unit === 'h' ? 3_600_000 : unit === 'm' ? 60_000 : unit === 's' ? 1000 : 1)
  if (!(ms > 0)) throw FG_ERR_REQUEST_INVALID(field, 'must be > 0')
  return ms
}

export function fairnessReport (monitor: FairnessApi, q: { model?: string, window?: string }): { models: FairnessReport[] } {
  const windowMs = q.window === undefined ? undefined : parseDuration(q.window, 'window')
  if (windowMs !== undefined && windowMs > monitor.windowMs) throw FG_ERR_REQUEST_INVALID('window', `must be at most the monitor window (${monitor.windowMs} ms)`)
  const names = q.model === undefined ? monitor.modelNames() : [q.model]
  return {
    models: names.map(n => {
      const r = monitor.report(n, windowMs)
      if (r === undefined) throw FG_ERR_MODEL_UNKNOWN(n)
      return r
    })
  }
}

export function fairnessRoutes (app: FastifyInstance, fairness: FairnessApi): void {
  app.get('/v1/fairness', async (req) => ({
    ...fairnessReport(fairness, readQuery(req.query, FAIRNESS_QUERY)),
    policies: fairness.policies()
  }))
  app.get('/v1/decisions', async (req) => {
    const q = readQuery(req.query, DECISIONS_QUERY)
    const limit = q.limit === undefined ? 100 : /^\d+$/.test(q.limit) ? Number(q.limit) : NaN
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw FG_ERR_REQUEST_INVALID('limit', 'must be an integer from 1 to 1000')
    return { decisions: fairness.decisions(q.model, limit) }
  })
}
