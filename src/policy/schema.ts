// policies/<name>.yaml — one policy per model. The schema is the documentation of record (see
// docs in README "Policies"); a file that does not validate is refused naming the field.
import { z } from 'zod'

const positiveInt = z.number().int().positive()

export const actionSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('switch'), to: z.string().min(1) }),
  z.strictObject({ type: z.literal('rollback') }),
  z.strictObject({ type: z.literal('alert') })
])

export const FAIRNESS_METRICS = ['demographic_parity_difference', 'demographic_parity_ratio', 'equal_opportunity_difference', 'equalized_odds_difference', 'calibration_gap', 'latency_p95_ratio'] as const
export const DRIFT_METRICS = ['psi', 'selection_rate_change', 'demographic_parity_difference_change'] as const

const fairnessRule = z.strictObject({
  name: z.string().min(1),
  metric: z.enum(FAIRNESS_METRICS),
  attribute: z.string().min(1),
  /** Breach when the gap is past it: above for differences and ratios of latency, below for demographic_parity_ratio. */
  threshold: z.number().min(0),
  /** Every group compared must have this many rows in the window (TPR/FPR: labelled positives/negatives). */
  min_samples: positiveInt.default(100),
  window_ms: positiveInt.optional(),
  action: actionSchema
})

const driftRule = z.strictObject({
  name: z.string().min(1),
  metric: z.enum(DRIFT_METRICS),
  attribute: z.string().min(1),
  /** psi: 0.1 warns, 0.25 acts (customary); changes are absolute. */
  threshold: z.number().min(0),
  min_samples: positiveInt.default(200),
  window_ms: positiveInt.optional(),
  action: actionSchema
})

/** Budgets `fairgate evaluate --check` holds each of the policy's variants to, offline. */
const offlineSchema = z.strictObject({
  min_accuracy: z.number().min(0).max(1).optional(),
  /** Median ms of one run of a 32-row batch through the gateway's runtime. */
  max_latency_ms: z.number().positive().optional(),
  /** Largest gap allowed per metric, over the attributes the policy's fairness rules name (all, without rules). */
  max_gap: z.strictObject({
    demographic_parity_difference: z.number().min(0).optional(),
    equal_opportunity_difference: z.number().min(0).optional(),
    false_positive_rate_difference: z.number().min(0).optional(),
    equalized_odds_difference: z.number().min(0).optional(),
    calibration_gap: z.number().min(0).optional()
  }).optional(),
  /** Largest membership-inference advantage (max |TPR − FPR| of the loss-threshold attack). */
  max_membership_advantage: z.number().min(0).max(1).optional(),
  /** Weights of the objectives in evaluate's choice (the --weights flag wins). */
  weights: z.strictObject({
    accuracy: z.number().min(0).optional(),
    latency: z.number().min(0).optional(),
    gap: z.number().min(0).optional(),
    privacy: z.number().min(0).optional()
  }).optional()
})

export const policySchema = z.strictObject({
  model: z.string().min(1),
  /** Variants in order of preference; the active one heads the list at run time. */
  variants: z.array(z.string().min(1)).min(1),
  interval_ms: positiveInt.default(5_000),
  latency: z.strictObject({
    /** Budget for requests that bring none (0 = none). */
    default_budget_ms: z.number().min(0).default(0),
    slo: z.strictObject({
      name: z.string().min(1).default('latency-slo'),
      percentile: z.union([z.literal(50), z.literal(95), z.literal(99)]).default(99),
      threshold_ms: z.number().positive(),
      min_samples: positiveInt.default(100),
      window_ms: positiveInt.optional(),
      action: actionSchema
    }).optional()
  }).prefault({}),
  fairness: z.array(fairnessRule).default([]),
  drift: z.array(driftRule).default([]),
  /**
   * Anytime-valid tests for the difference and ratio fairness rules (sequential.ts): such a rule
   * acts when its confidence sequence clears the threshold, and while the true gap stays at or
   * below it the chance of any action on that rule and variant, ever, is at most alpha.
   * Hysteresis does not apply to them. enabled: false restores the per-window intervals.
   */
  sequential: z.strictObject({
    enabled: z.boolean().default(true),
    alpha: z.number().gt(0).lt(1).default(0.05),
    /** A new test (with its share α / (j (j + 1))) starts this often. */
    epoch_ms: positiveInt.default(60_000),
    /** Live tests kept per rule and variant (the oldest is dropped). */
    kept: positiveInt.max(256).default(16),
    /** Rows per group at which the boundary is tightest. */
    tuned_rows: positiveInt.default(10_000)
  }).prefault({}),
  /** A streak of breaches expires after this long without one. */
  streak_ttl_ms: positiveInt.default(60_000),
  /** Recovery never undoes a manual decision younger than this. */
  manual_hold_ms: z.number().int().min(0).default(3_600_000),
  /** Consecutive breaching evaluations before a rule acts. */
  hysteresis: positiveInt.default(3),
  /** No automatic action for this long after the previous one (per model). */
  cooldown_ms: z.number().int().min(0).default(60_000),
  /** Confidence of the intervals a breach must clear (Bonferroni-corrected per evaluation). */
  confidence: z.number().gt(0).lt(1).default(0.95),
  offline: offlineSchema.optional(),
  recovery: z.strictObject({
    enabled: z.boolean().default(false),
    /** Passing evaluations of the fallback before trying the most preferred variant again. */
    after_passing: positiveInt.default(60)
  }).prefault({})
})

export type Policy = z.output<typeof policySchema>
export type PolicyAction = z.output<typeof actionSchema>
export type FairnessRule = Policy['fairness'][number]
export type DriftRule = Policy['drift'][number]
export type OfflineBudgets = NonNullable<Policy['offline']>
