// POST /v1/feedback: delayed ground truth, {"prediction_id", "label"} or a list of them.
// The whole request is validated before anything is recorded, so a bad item records nothing.
import { FG_ERR_FEEDBACK_DUPLICATE, FG_ERR_FEEDBACK_INVALID, FG_ERR_FEEDBACK_UNKNOWN } from '../errors.js'
import type { FastifyInstance } from 'fastify'
import { feedbackLabel, LABEL_RULE, PREDICTION_ID_RULE } from '../events/index.js'
import type { FeedbackApi } from '../gateway.js'
import { isPredictionId, predictionIdTime } from '../prediction-id.js'
import { isObject } from '../oip/index.js'

const MAX_ITEMS = 10_000
const CLOCK_SKEW_MS = 60_000

interface Item { id: string, label: 0 | 1 }

function parseItem (v: unknown, field: string, now: number): Item {
  if (!isObject(v)) throw FG_ERR_FEEDBACK_INVALID(field, 'must be an object {"prediction_id", "label"}')
  const id = v.prediction_id
  if (!isPredictionId(id)) throw FG_ERR_FEEDBACK_INVALID(`${field}prediction_id`, PREDICTION_ID_RULE)
  if (predictionIdTime(id) > now + CLOCK_SKEW_MS) throw FG_ERR_FEEDBACK_INVALID(`${field}prediction_id`, 'is from the future: not an id this gateway issued')
  const label = feedbackLabel(v.label)
  if (label === -1) throw FG_ERR_FEEDBACK_INVALID(`${field}label`, LABEL_RULE)
  return { id, label }
}

export function handleFeedback (fb: FeedbackApi, body: unknown): { status: number, body: object } {
  const now = fb.clock.wallNow()
  let items: Item[]
  if (Array.isArray(body)) {
    if (body.length === 0 || body.length > MAX_ITEMS) throw FG_ERR_FEEDBACK_INVALID('body', `must hold 1 to ${MAX_ITEMS} items`)
    items = body.map((v, i) => parseItem(v, `[${i}].`, now))
  } else {
    items = [parseItem(body, '', now)]
  }
  const embedded = fb.embedded
  if (embedded) {
    // Without Kafka this replica is the only place a label can be joined: an id it does not
    // know can never count, so say so instead of accepting it silently.
    for (let i = 0; i < items.length; i++) {
      if (!fb.has(items[i]!.id, now)) {
        throw FG_ERR_FEEDBACK_UNKNOWN(`${Array.isArray(body) ? `[${i}].` : ''}prediction_id`, fb.ttlMs)
      }
    }
  }
  let joined = 0
  let unknown = 0
  let duplicate = 0
  for (const it of items) {
    const o = fb.record(it.id, it.label)
    if (o === 'joined') joined++
    else if (o === 'unknown') unknown++
    else duplicate++
  }
  if (embedded && duplicate === items.length) {
    throw FG_ERR_FEEDBACK_DUPLICATE()
  }
  // 202: recorded and (with Kafka) on its way to the monitor, which joins labels for ids made
  // by other replicas too.
  return { status: 202, body: { accepted: joined + unknown, joined, unknown, duplicate } }
}

export function feedbackRoutes (app: FastifyInstance, feedback: FeedbackApi): void {
  app.post('/v1/feedback', async (req, reply) => {
    const r = handleFeedback(feedback, req.body)
    return reply.code(r.status).send(r.body)
  })
}
