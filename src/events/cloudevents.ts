// CloudEvents 1.0, Kafka protocol binding, binary mode: the Kafka value is the JSON payload and
// the context attributes are headers prefixed `ce_` (DESIGN.md). ce_id is the prediction id (or
// a derived id for feedback and decisions), so a consumer can de-duplicate a redelivery.
export const CE_TYPES = {
  prediction: 'io.fairgate.prediction.v1',
  feedback: 'io.fairgate.feedback.v1',
  decision: 'io.fairgate.decision.v1'
} as const

export type EventKind = keyof typeof CE_TYPES

let lastMs = NaN
let lastIso = ''

/** new Date(ms).toISOString(), computed once per distinct millisecond. */
export function isoTime (ms: number): string {
  if (ms !== lastMs) {
    lastMs = ms
    lastIso = new Date(ms).toISOString()
  }
  return lastIso
}

export function ceHeaders (kind: EventKind, id: string, source: string, timeMs: number): Record<string, string> {
  return {
    ce_specversion: '1.0',
    ce_id: id,
    ce_type: CE_TYPES[kind],
    ce_source: source,
    ce_time: isoTime(timeMs),
    'content-type': 'application/json'
  }
}
