// The variants listing and the admin endpoints: manual switch, rollback, policy reload. Bearer
// token from admin.token (FAIRGATE_ADMIN_TOKEN), compared in constant time; with no token
// configured they are off. Given only the variants interface.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { FG_ERR_AUTH_DISABLED, FG_ERR_AUTH_FORBIDDEN, FG_ERR_AUTH_MISSING, FG_ERR_REQUEST_INVALID } from '../errors.js'
import type { VariantsApi } from '../gateway.js'
import { isObject } from '../oip/index.js'
import { readQuery } from './query.js'

// Hashing both sides first gives equal-length buffers, so the compare leaks neither the token
// nor its length.
const digest = (s: string): Buffer => createHash('sha256').update(s).digest()

export function checkAdmin (token: string, req: FastifyRequest): string {
  if (token === '') throw FG_ERR_AUTH_DISABLED()
  const h = req.headers.authorization
  const m = typeof h === 'string' ? /^Bearer\s+(.+)$/i.exec(h.trim()) : null
  if (m === null) throw FG_ERR_AUTH_MISSING()
  if (!timingSafeEqual(digest(m[1]!), digest(token))) throw FG_ERR_AUTH_FORBIDDEN()
  return `${req.ip}`
}

export function variantsRoutes (app: FastifyInstance, variants: VariantsApi): void {
  const token = variants.adminToken
  app.get('/v1/variants', async () => ({
    models: variants.models().map(m => {
      const s = variants.status(m.name)
      return {
        model: m.name,
        active: s?.active,
        last_known_good: s?.lastKnownGood,
        variants: m.variants.map(v => ({
          name: v.name,
          state: v.state,
          provider: v.provider,
          active: s?.active === v.name,
          last_known_good: s?.lastKnownGood === v.name,
          queue_rows: variants.queuedRows(v),
          error: v.error
        }))
      }
    })
  }))
  app.post<{ Params: { model: string } }>('/v1/variants/:model/active', async (req, reply) => {
    const who = checkAdmin(token, req)
    const body = req.body
    if (!isObject(body) || typeof body.variant !== 'string') throw FG_ERR_REQUEST_INVALID('variant', 'is required (a variant name)')
    const d = variants.manualSwitch(req.params.model, body.variant, who)
    return reply.code(200).send({ decision: d })
  })
  app.post<{ Params: { model: string } }>('/v1/rollback/:model', async (req, reply) => {
    const who = checkAdmin(token, req)
    const d = variants.manualRollback(req.params.model, who)
    return reply.code(200).send({ decision: d })
  })
  app.post('/v1/policies/reload', async (req) => {
    checkAdmin(token, req)
    const remove = readQuery(req.query, ['remove']).remove
    if (remove !== undefined && remove !== 'true' && remove !== 'false') throw FG_ERR_REQUEST_INVALID('remove', 'must be true or false')
    return { reloaded: variants.reloadPolicies({ remove: remove === 'true' }) }
  })
}
