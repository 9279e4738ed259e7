// Query strings: every parameter a route takes is named, given at most once, and a string.
// fastify's parser turns ?window=1s&window=2s into an array, which used to reach the handlers
// (a 500: "s.trim is not a function"); an unknown parameter (a typo) used to be ignored.
import { FG_ERR_REQUEST_INVALID } from '../errors.js'

/** The route's parameters as strings (undefined when absent); anything else is a 400 naming it. */
export function readQuery<K extends string> (query: unknown, allowed: readonly K[]): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {}
  if (query === null || typeof query !== 'object') return out
  for (const [key, v] of Object.entries(query as Record<string, unknown>)) {
    if (!(allowed as readonly string[]).includes(key)) {
      throw FG_ERR_REQUEST_INVALID(key, `unknown query parameter (this route takes ${allowed.length === 0 ? 'none' : allowed.join(', ')})`)
    }
    if (typeof v !== 'string') throw FG_ERR_REQUEST_INVALID(key, 'must be given once')
    out[key as K] = v
  }
  return out
}
