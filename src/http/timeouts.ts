// Connection limits of the HTTP server, from config.http. Without them a client that sends its
// headers and drips its body a byte every 10 s held a connection for good (Node only cuts slow
// headers, after 60 s). Node checks request timeouts on an interval (30 s by default), so the
// interval follows the shortest timeout.
import type { Config } from '../config/index.js'

export interface TimeoutOptions {
  requestTimeout: number
  keepAliveTimeout: number
  http: { headersTimeout: number, requestTimeout: number, connectionsCheckingInterval: number }
}

export function serverTimeouts (h: Config['http']): TimeoutOptions {
  return {
    requestTimeout: h.request_timeout_ms,
    keepAliveTimeout: h.keep_alive_timeout_ms,
    http: {
      headersTimeout: h.headers_timeout_ms,
      requestTimeout: h.request_timeout_ms,
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(h.headers_timeout_ms / 4)))
    }
  }
}
