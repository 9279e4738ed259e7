// Event payloads (DESIGN.md). Versioned through ce_type (io.fairgate.<kind>.v1); a breaking
// change gets a new type, additive fields do not.

export interface PredictionEvent {
  id: string
  request_id: string
  ts: number
  model: string
  variant: string
  /** Present only when events.include_groups is on (the default: the monitor needs them). */
  groups?: Record<string, string>
  score: number
  decision: 0 | 1
  /** The threshold the decision was taken at (the variant's rule with the row's group labels). Absent from events of older gateways. */
  threshold?: number
  latency_ms: number
  queue_ms: number
  batch_size: number
  /** Rows of the request this row came in (the monitor counts requests for the latency SLO). Absent from events of older gateways. */
  request_rows?: number
  replica: string
  /** Present only when events.include_features is on. */
  features?: number[]
}

export interface FeedbackEvent {
  prediction_id: string
  label: 0 | 1
  ts: number
}

export interface DecisionEvent {
  model: string
  /** switch/rollback/alert by a policy rule, recover back to the preferred variant, manual by an admin. */
  action: 'switch' | 'rollback' | 'alert' | 'recover' | 'manual'
  from: string
  to: string
  rule: string
  evidence: Record<string, unknown>
  ts: number
  actor: string
  /** Unique per decision: the writer recognises its own record when it comes back. */
  id?: string
  /** Per-model sequence number (alerts carry the current one and change nothing). */
  seq?: number
  /** The writer's fencing epoch (its leadership term; 0 without leadership). */
  epoch?: number
  /** Last-known-good variant after this decision: with the active one, the model's whole state. */
  last_known_good?: string
}
