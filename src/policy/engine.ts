// The policy engine: every interval it evaluates each model's rules on the ACTIVE variant and
// turns significant breaches into decisions. Difference and ratio fairness rules use anytime-
// valid sequential tests (sequential.ts): they act once their confidence sequence clears the
// threshold, with the chance of any false action over unbounded time at most sequential.alpha.
// The other rules use the window: a rule acts after `hysteresis` consecutive breaching
// evaluations (inconclusive ones neither count nor reset; a streak expires streak_ttl_ms after
// its last breach), their intervals widened by Bonferroni over the evaluation's comparisons.
// Streaks and evidence are kept per (rule, variant). The engine hears every applied decision —
// its own, remote and manual (applied()) — and then resets streaks, evidence and the cooldown;
// recovery never undoes a manual decision younger than manual_hold_ms.
import type { Clock } from '../clock.js'
import type { DecisionEvent } from '../events/index.js'
import type { Logger } from '../models/index.js'
import type { Monitor, VariantReport } from '../monitor/index.js'
import { zFor } from '../monitor/index.js'
import type { ActiveVariants } from '../routing/index.js'
import { comparisons, evaluateDrift, evaluateFairness, evaluateLatency, type RuleResult } from './evaluate.js'
import type { Policy, PolicyAction } from './schema.js'
import type { SequentialStatus } from './sequential.js'
import { hasSequentialTest, SequentialRule } from './sequential-rules.js'

export interface RuleState extends RuleResult {
  streak: number
  /** The sequential test's statistic, bound and evidence so far (difference and ratio rules). */
  sequential?: Record<string, SequentialStatus>
}

const stateKey = (rule: string, variant: string): string => `${rule}\u0000${variant}`

export interface ModelPolicyStatus {
  model: string
  active: string | undefined
  last_known_good: string | undefined
  evaluated_at: string | null
  evaluations: number
  comparisons: number
  z: number
  cooldown_until: string | null
  rules: RuleState[]
}

interface ModelState {
  policy: Policy
  /** Per (rule, variant): consecutive breaches and when the last one was seen. */
  streaks: Map<string, { n: number, at: number }>
  sequential: Map<string, SequentialRule>
  lastActionAt: number
  lastManualAt: number
  lastAlertAt: Map<string, number>
  passingSince: number | null
  passCount: number
  evaluations: number
  evaluatedAt: number | null
  comparisons: number
  z: number
  results: RuleState[]
}

export interface EngineOptions {
  monitor: Monitor
  active: ActiveVariants
  clock: Clock
  log: Logger
  /** Applies and records a decision (switches the active variant, audits, publishes). */
  decide: (d: DecisionEvent) => void
  /** Whether a variant can serve (a rollback never goes to a failed variant). */
  canServe: (model: string, variant: string) => boolean
  actor: string
  /** How long every rule must pass before the active variant is last-known-good (default: the monitor window). */
  lkgWindowMs: number
  /** Whether this process is the model's writer now (with Kafka: the elected leader). */
  mayAct?: (model: string) => boolean
}

export class PolicyEngine {
  private readonly models = new Map<string, ModelState>()
  private timers = new Map<string, unknown>()
  private running = false

  constructor (private readonly opts: EngineOptions, policies: Map<string, Policy>) {
    this.setPolicies(policies)
  }

  get policies (): Policy[] { return [...this.models.values()].map(s => s.policy) }
  policy (model: string): Policy | undefined { return this.models.get(model)?.policy }

  /**
   * Every applied decision (this engine's, a remote one, a manual one): the variant changed, so
   * streaks and evidence restart and the cooldown runs from now. Alerts change nothing.
   */
  applied (d: DecisionEvent): void {
    const s = this.models.get(d.model)
    if (s === undefined || d.action === 'alert') return
    const now = this.opts.clock.wallNow()
    s.lastActionAt = now
    if (d.action === 'manual' || d.rule === 'admin') s.lastManualAt = now
    s.streaks.clear()
    for (const q of s.sequential.values()) q.reset()
    s.passingSince = null
    s.passCount = 0
  }

  private sequentialFor (s: ModelState, model: string, rule: Policy['fairness'][number], variant: string): SequentialRule | undefined {
    if (!hasSequentialTest(s.policy, rule)) return undefined
    const key = stateKey(rule.name, variant)
    let q = s.sequential.get(key)
    if (q === undefined) {
      const mi = this.opts.monitor.modelIndex(model)
      const layout = mi < 0 ? undefined : this.opts.monitor.layout(mi)
      const attr = layout?.attributes.find(a => a.name === rule.attribute)
      if (layout === undefined || attr === undefined) return undefined
      q = new SequentialRule(rule, s.policy, layout, attr, this.opts.monitor.cfg.report_min)
      s.sequential.set(key, q)
    }
    return q
  }

  /** Swaps in validated policies (reload). Streaks and evidence restart; cooldowns and LKG are kept. */
  setPolicies (policies: Map<string, Policy>): void {
    const old = this.models
    for (const [model, policy] of policies) {
      const prev = old.get(model)
      this.models.set(model, {
        policy,
        streaks: new Map(),
        sequential: new Map(),
        lastActionAt: prev?.lastActionAt ?? -Infinity,
        lastManualAt: prev?.lastManualAt ?? -Infinity,
        lastAlertAt: new Map(),
        passingSince: null,
        passCount: 0,
        evaluations: prev?.evaluations ?? 0,
        evaluatedAt: prev?.evaluatedAt ?? null,
        comparisons: 0,
        z: 0,
        results: []
      })
    }
    for (const model of [...this.models.keys()]) if (!policies.has(model)) this.models.delete(model)
    if (this.running) { this.stop(); this.start() }
  }

  start (): void {
    this.running = true
    for (const [model, s] of this.models) this.schedule(model, s.policy.interval_ms)
  }

  private schedule (model: string, ms: number): void {
    this.timers.set(model, this.opts.clock.setTimer(() => {
      try {
        this.evaluate(model)
      } catch (err) {
        this.opts.log.error({ model, err: (err as Error).message }, 'policy evaluation failed')
      }
      const s = this.models.get(model)
      if (this.running && s !== undefined) this.schedule(model, s.policy.interval_ms)
    }, ms))
  }

  stop (): void {
    this.running = false
    for (const t of this.timers.values()) this.opts.clock.clearTimer(t)
    this.timers.clear()
  }

  /** One evaluation of one model's policy; returns the decision taken, if any. */
  evaluate (model: string): DecisionEvent | null {
    const s = this.models.get(model)
    if (s === undefined) return null
    const { policy } = s
    const { monitor, active, clock } = this.opts
    const variant = active.active(model)
    if (variant === undefined) return null
    const now = clock.wallNow()
    const reports = new Map<number | undefined, VariantReport | undefined>()
    const reportFor = (windowMs: number | undefined): VariantReport | undefined => {
      if (!reports.has(windowMs)) reports.set(windowMs, monitor.report(model, windowMs)?.variants[variant])
      return reports.get(windowMs)
    }
    let m = 0
    for (const r of policy.fairness) m += comparisons(r, reportFor(r.window_ms)?.attributes[r.attribute])
    m += policy.drift.length
    const z = zFor(1 - policy.confidence, m)
    const results: Array<RuleResult & { sequential?: Record<string, SequentialStatus> }> = [
      ...policy.fairness.map(r => {
        const windowed = evaluateFairness(r, reportFor(r.window_ms), z)
        const q = this.sequentialFor(s, model, r, variant)
        if (q === undefined) return windowed
        // The window only says pass (point estimate within); significance is the sequence's.
        const crossed = q.observe(monitor, model, variant, now)
        const outcome = crossed ? 'breach' as const : windowed.outcome === 'pass' ? 'pass' as const : 'inconclusive' as const
        const reason = outcome === 'inconclusive' ? (windowed.reason ?? 'not enough evidence yet (sequential test)') : undefined
        const { reason: _r, ...rest } = windowed
        return { ...rest, outcome, ...(reason === undefined ? {} : { reason }), sequential: q.status() }
      }),
      ...policy.drift.map(r => evaluateDrift(r, reportFor(r.window_ms), z))
    ]
    const lat = evaluateLatency(policy, reportFor(policy.latency.slo?.window_ms))
    if (lat !== null) results.push(lat)

    const actions = new Map<string, PolicyAction>()
    for (const r of policy.fairness) actions.set(r.name, r.action)
    for (const r of policy.drift) actions.set(r.name, r.action)
    if (policy.latency.slo !== undefined) actions.set(policy.latency.slo.name, policy.latency.slo.action)

    const ttl = policy.streak_ttl_ms
    s.results = results.map(r => {
      const key = stateKey(r.rule, variant)
      const prev = s.streaks.get(key)
      const alive = prev !== undefined && now - prev.at <= ttl ? prev.n : 0
      const streak = r.outcome === 'breach' ? alive + 1 : r.outcome === 'pass' ? 0 : alive
      if (r.outcome === 'breach') s.streaks.set(key, { n: streak, at: now })
      else if (streak === 0) s.streaks.delete(key)
      return { ...r, streak }
    })
    s.evaluations++
    s.evaluatedAt = now
    s.comparisons = m
    s.z = z

    // Last-known-good: every rule conclusively passing for a full window.
    const allPass = results.length > 0 && results.every(r => r.outcome === 'pass')
    s.passingSince = allPass ? (s.passingSince ?? now) : null
    if (s.passingSince !== null && now - s.passingSince >= this.opts.lkgWindowMs) active.setLastKnownGood(model, variant)
    s.passCount = allPass ? s.passCount + 1 : 0

    // Not the writer: evaluate (the status stays live) but never act.
    if (this.opts.mayAct !== undefined && !this.opts.mayAct(model)) return null
    for (const r of s.results) {
      // A sequential rule's crossing is already the whole evidence: no hysteresis on top.
      if (r.streak < (r.sequential !== undefined ? 1 : policy.hysteresis)) continue
      const action = actions.get(r.rule)!
      if (action.type === 'alert') {
        const last = s.lastAlertAt.get(r.rule) ?? -Infinity
        if (now - last < policy.cooldown_ms) continue
        s.lastAlertAt.set(r.rule, now)
        const d = this.decision(model, 'alert', variant, variant, r, now)
        this.opts.decide(d)
        continue
      }
      if (now - s.lastActionAt < policy.cooldown_ms) continue
      const to = this.target(model, policy, action, variant)
      if (to === null) continue
      const d = this.decision(model, action.type, variant, to, r, now)
      this.applied(d)
      this.opts.decide(d)
      return d
    }

    if (policy.recovery.enabled && s.passCount >= policy.recovery.after_passing && variant !== policy.variants[0] &&
        now - s.lastActionAt >= policy.cooldown_ms && now - s.lastManualAt >= policy.manual_hold_ms &&
        this.opts.canServe(model, policy.variants[0]!)) {
      const d = this.decision(model, 'recover', variant, policy.variants[0]!, { rule: 'recovery', kind: 'latency', metric: 'passing_evaluations', outcome: 'pass', value: policy.recovery.after_passing, threshold: policy.recovery.after_passing }, now)
      this.applied(d)
      this.opts.decide(d)
      return d
    }
    return null
  }

  private target (model: string, policy: Policy, action: PolicyAction, from: string): string | null {
    const ok = (v: string): boolean => v !== from && this.opts.canServe(model, v)
    if (action.type === 'switch') return ok(action.to) ? action.to : null
    const lkg = this.opts.active.get(model)?.lastKnownGood
    if (lkg !== undefined && ok(lkg)) return lkg
    // The breaching variant is the last-known-good one: fall back down the preference list.
    return policy.variants.find(ok) ?? null
  }

  private decision (model: string, action: DecisionEvent['action'], from: string, to: string, r: RuleState | RuleResult, now: number): DecisionEvent {
    const s = this.models.get(model)!
    const seq = 'sequential' in r ? r.sequential : undefined
    return {
      model,
      action,
      from,
      to,
      rule: r.rule,
      evidence: { metric: r.metric, attribute: r.attribute, value: r.value, ci: r.ci, threshold: r.threshold, groups: r.groups, z: s.z, comparisons: s.comparisons, consecutive_breaches: 'streak' in r ? r.streak : 0, hysteresis: seq === undefined ? s.policy.hysteresis : 1, ...(seq === undefined ? {} : { sequential: seq }) },
      ts: now,
      actor: this.opts.actor
    }
  }

  status (): ModelPolicyStatus[] {
    return [...this.models.entries()].map(([model, s]) => {
      const st = this.opts.active.get(model)
      return {
        model,
        active: st?.active,
        last_known_good: st?.lastKnownGood,
        evaluated_at: s.evaluatedAt === null ? null : new Date(s.evaluatedAt).toISOString(),
        evaluations: s.evaluations,
        comparisons: s.comparisons,
        z: s.z,
        cooldown_until: Number.isFinite(s.lastActionAt) ? new Date(s.lastActionAt + s.policy.cooldown_ms).toISOString() : null,
        rules: s.results
      }
    })
  }
}
