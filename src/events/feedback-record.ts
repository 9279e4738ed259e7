// One reading of a feedback record, wherever it comes from: POST /v1/feedback and the Kafka
// feedback topic (written by gateways, or by any producer of ground truth) take the same labels,
// so "1", 7 or a record without prediction_id is refused and counted, never read as a silent 0.
// CloudEvents headers are not required: records fairgate produces carry them, header-less
// records from other producers are read by their value alone.
import { isPredictionId } from '../prediction-id.js'
import type { FeedbackEvent } from './schema.js'

/** 1 for 1 or true, 0 for 0 or false, -1 for anything else (a string "1" included). */
export function feedbackLabel (v: unknown): 0 | 1 | -1 {
  return v === 1 || v === true ? 1 : v === 0 || v === false ? 0 : -1
}

export const LABEL_RULE = 'must be 0, 1, true or false'
export const PREDICTION_ID_RULE = 'must be a prediction id (26 characters, as returned by predict/infer)'

/** The record as a FeedbackEvent, or the name of its first invalid field. */
export function readFeedbackRecord (raw: unknown): FeedbackEvent | { invalid: 'record' | 'prediction_id' | 'label' | 'ts' } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { invalid: 'record' }
  const r = raw as Record<string, unknown>
  if (!isPredictionId(r.prediction_id)) return { invalid: 'prediction_id' }
  const label = feedbackLabel(r.label)
  if (label === -1) return { invalid: 'label' }
  const ts = r.ts ?? 0
  if (typeof ts !== 'number' || !Number.isFinite(ts)) return { invalid: 'ts' }
  return { prediction_id: r.prediction_id, label, ts }
}
