// The process logger of `serve` and `monitor`. Group labels are sensitive at every level:
// fastify logs a client error at trace as `{ err }`, and Node's parser error carries the raw
// packet (request line, headers, and any body bytes in the same chunk) as a byte array. Those
// fields are removed before a line is written, whatever the level.
import pino from 'pino'
import type { Config } from '../config/index.js'

/** Paths that can hold request bytes or bodies. */
export const REDACTED_PATHS = ['err.rawPacket', 'rawPacket', 'body', 'req.body', 'request.body', 'err.body', 'payload']

export function createLogger (config: Config, base: Record<string, string>): pino.Logger {
  return pino({ level: config.log.level, base: { replica: config.replica, ...base }, redact: { paths: REDACTED_PATHS, remove: true } })
}
