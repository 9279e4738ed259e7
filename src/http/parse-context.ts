// What a request parser needs from the request and the configuration, in one object.
import type { FastifyRequest } from 'fastify'
import type { Gateway } from '../gateway.js'
import type { ParseContext } from '../oip/infer-request.js'

export function parseContext (gw: Gateway, req: FastifyRequest): ParseContext {
  return {
    // A budget (and latency_ms) counts from arrival, so reading and parsing the body count too.
    now: req.fgArrived,
    maxRows: gw.config.http.max_rows_per_request,
    defaultBudgetMs: gw.config.batching.default_latency_budget_ms,
    headerBudget: req.headers['x-latency-budget-ms'],
    requestId: req.id
  }
}
