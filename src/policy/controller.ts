// Policies at run time: loads and reloads them, runs the engine, applies decisions (local ones
// from the engine or an admin, remote ones followed from the decisions topic), keeps the audit
// log, and answers the router's questions (preference order, default budget). Plain TypeScript:
// the gateway and `fairgate monitor` both use it.
import type { Clock } from '../clock.js'
import type { Config } from '../config/index.js'
import { FG_ERR_MODEL_UNKNOWN, FG_ERR_MODEL_VARIANT_UNKNOWN, FG_ERR_POLICY_NO_TARGET, FG_ERR_POLICY_REMOVAL, FG_ERR_POLICY_VARIANT_NOT_READY } from '../errors.js'
import type { DecisionEvent } from '../events/index.js'
import type { Logger } from '../models/index.js'
import type { Monitor } from '../monitor/index.js'
import type { ActiveVariants, RoutingPolicy } from '../routing/index.js'
import type { GatewayMetrics } from '../telemetry/index.js'
import { DecisionLog, type DecisionRecord } from './decision-log.js'
import { DecisionSequence } from './decision-sequence.js'
import { allowedVariants } from './fairness-constraint.js'
import { PolicyEngine, type ModelPolicyStatus } from './engine.js'
import { readPolicies, type ModelFacts } from './load.js'
import type { Policy } from './schema.js'

export interface ControllerOptions {
  config: Config
  log: Logger
  clock: Clock
  monitor: Monitor
  active: ActiveVariants
  metrics: GatewayMetrics
  models: Map<string, ModelFacts>
  canServe: (model: string, variant: string) => boolean
  /** Publishes a local decision to the decisions topic (null without Kafka). */
  publish: ((d: DecisionEvent) => void) | null
  /** The elected writer (with Kafka); without one this process is the only writer. */
  writer?: () => { isLeader: () => boolean, epoch: () => number } | null
}

export class PolicyController implements RoutingPolicy {
  readonly decisions = new DecisionLog()
  readonly sequence: DecisionSequence
  readonly engine: PolicyEngine | null
  private policies: Map<string, Policy>
  readonly actor: string
  /** Per model, while a fairness switch is in force: the variants that satisfy the breached rule. */
  private readonly constraints = new Map<string, { rule: string, allowed: ReadonlySet<string> }>()

  constructor (private readonly opts: ControllerOptions) {
    this.actor = `policy@${opts.config.replica}`
    this.sequence = new DecisionSequence(opts.config.replica, () => opts.writer?.()?.epoch() ?? 0)
    // Start-up refuses a bad policy outright (the error names the file and field).
    this.policies = readPolicies(opts.config.policy.dir, opts.models, opts.config.models.dir)
    this.engine = opts.config.policy.evaluate
      ? new PolicyEngine({
        monitor: opts.monitor,
        active: opts.active,
        clock: opts.clock,
        log: opts.log,
        decide: d => { this.apply(d, 'local') },
        canServe: opts.canServe,
        actor: this.actor,
        lkgWindowMs: opts.config.monitor.window_ms,
        // With Kafka only the elected leader acts; until one is elected, nobody does.
        mayAct: opts.writer === undefined ? undefined : () => opts.writer!()?.isLeader() === true
      }, this.policies)
      : null
    // A policy's first variant that can serve is the one to serve at start (until a decision
    // says otherwise); one that failed to load is never shown as active.
    for (const p of this.policies.values()) {
      const first = p.variants.find(v => opts.canServe(p.model, v))
      if (first !== undefined) opts.active.set(p.model, first, 0)
    }
    for (const model of opts.models.keys()) { const a = opts.active.active(model); if (a !== undefined) this.sequence.init(model, a) }
    // Filled at scrape time from the election's state: a process evaluating policies is the
    // model's writer when it leads (or runs alone); one that does not evaluate never is.
    opts.metrics.onCollect(() => {
      const g = opts.metrics.policyWriter
      g.reset()
      const writer = this.engine !== null && this.writer
      for (const model of this.policies.keys()) g.labels(model).set(writer ? 1 : 0)
    })
  }

  start (): void { this.engine?.start() }
  stop (): void { this.engine?.stop() }

  policy (model: string): Policy | undefined { return this.policies.get(model) }
  preference (model: string): readonly string[] | undefined { return this.policies.get(model)?.variants }
  defaultBudget (model: string): number { return this.policies.get(model)?.latency.default_budget_ms ?? 0 }
  allowed (model: string): ReadonlySet<string> | undefined { return this.constraints.get(model)?.allowed }
  missedBudget (model: string, variant: string): void { this.opts.metrics.fairnessBudgetMissed.labels(model, variant).inc() }

  /** The fairness rule in force for a model (its name), if a fairness switch is. */
  constraint (model: string): string | undefined { return this.constraints.get(model)?.rule }

  /**
   * A fairness switch puts its rule in force: from then on only variants whose manifest metrics
   * satisfy it may serve. Another automatic switch must stay within them (a latency action never
   * undoes a fairness one); an operator's decision or a recovery lifts the constraint.
   */
  private constrain (d: DecisionEvent): boolean {
    const current = this.constraints.get(d.model)
    if (d.action === 'alert') return true
    const rule = this.policies.get(d.model)?.fairness.find(r => r.name === d.rule)
    if (d.action === 'switch' && rule !== undefined) {
      this.constraints.set(d.model, { rule: rule.name, allowed: allowedVariants(rule, d.to, this.opts.models.get(d.model)?.metrics ?? []) })
      return true
    }
    if (current === undefined) return true
    if ((d.action === 'switch' || d.action === 'rollback') && d.rule !== 'admin') {
      if (current.allowed.has(d.to)) return true
      this.opts.log.warn({ model: d.model, to: d.to, rule: d.rule, in_force: current.rule }, 'decision would undo a fairness switch; ignored')
      return false
    }
    this.constraints.delete(d.model)
    return true
  }

  /**
   * Re-reads the policy files; a bad one is refused (thrown) and the last good ones stay. So is a
   * reload that would drop a model's policy (a deleted file) unless `remove` says it is meant.
   */
  reload (opts: { remove?: boolean } = {}): string[] {
    let next: Map<string, Policy>
    try {
      next = readPolicies(this.opts.config.policy.dir, this.opts.models, this.opts.config.models.dir)
      const dropped = [...this.policies.keys()].filter(m => !next.has(m))
      if (dropped.length > 0 && opts.remove !== true) throw FG_ERR_POLICY_REMOVAL(dropped.map(m => `model "${m}"`).join(', '))
    } catch (err) {
      this.opts.log.error({ err: (err as Error).message }, 'policy reload refused; the last good policies stay in force')
      throw err
    }
    this.policies = next
    this.engine?.setPolicies(next)
    this.opts.log.info({ models: [...next.keys()] }, 'policies reloaded')
    return [...next.keys()]
  }

  /**
   * Applies a decision. local: this process's (engine or admin) — stamped with its sequence
   * number, applied at once, listed, counted and published; it is not applied again when the
   * log returns it. remote: a record read from the decisions topic, in offset order — applied
   * only if it follows the state held (DecisionSequence), else refused and logged.
   */
  apply (d: DecisionEvent, origin: 'local' | 'remote'): void {
    const { active, log } = this.opts
    const state = active.get(d.model)
    if (state === undefined) return
    if (origin === 'local') {
      const stamped = this.sequence.stamp(d, state.lastKnownGood)
      Object.assign(d, stamped)
      if (d.action !== 'alert' && !this.switchTo(d, 'local')) return
      this.record(d, 'local')
      if (this.opts.publish !== null) { this.sequence.published(d); this.opts.publish(d) } else this.sequence.commit(d)
      return
    }
    const v = this.sequence.follow(d)
    if (!v.accepted) {
      log.warn({ model: d.model, seq: d.seq, epoch: d.epoch, from: d.from, to: d.to, actor: d.actor, reason: v.reason, held: v.held }, 'decision refused: it does not follow the state held')
      if (v.own) {
        // Ours lost the race for its sequence number: serve what the log says.
        this.decisions.reject(d.id!, v.reason)
        const held = this.sequence.state(d.model)
        if (held !== undefined && active.active(d.model) !== held.active && this.opts.canServe(d.model, held.active)) active.set(d.model, held.active, this.opts.clock.wallNow())
      }
      return
    }
    if (v.own) return // already applied, listed and counted when it was taken
    const held = this.sequence.state(d.model)!
    if (d.action !== 'alert') {
      if (!this.switchTo({ ...d, to: held.active }, 'remote')) return
      active.setLastKnownGood(d.model, held.lastKnownGood)
    }
    this.record(d, 'remote')
  }

  private switchTo (d: DecisionEvent, origin: 'local' | 'remote'): boolean {
    if (!this.opts.canServe(d.model, d.to)) {
      this.opts.log.warn({ model: d.model, to: d.to }, 'decision names a variant this process cannot serve; ignored')
      return false
    }
    // A local decision that would undo a fairness switch is refused; one the log already holds is
    // the fleet's state, so the constraint this process kept is no longer in force.
    if (!this.constrain(d)) {
      if (origin === 'local') return false
      this.constraints.delete(d.model)
    }
    this.opts.active.set(d.model, d.to, this.opts.clock.wallNow())
    this.engine?.applied(d)
    return true
  }

  private record (d: DecisionEvent, origin: 'local' | 'remote'): void {
    this.opts.metrics.policyActions.labels(d.model, d.rule, d.action).inc()
    const record: DecisionRecord = { ...d, origin }
    this.decisions.add(record)
    this.opts.log.warn({ model: d.model, action: d.action, from: d.from, to: d.to, rule: d.rule, actor: d.actor, seq: d.seq, epoch: d.epoch, origin }, 'decision')
  }

  private requireModel (model: string): void {
    if (this.opts.active.get(model) === undefined) throw FG_ERR_MODEL_UNKNOWN(model)
  }

  /** Admin: serve `variant` from now on. */
  manualSwitch (model: string, variant: string, who: string): DecisionEvent {
    this.requireModel(model)
    const facts = this.opts.models.get(model)!
    if (!facts.variants.includes(variant)) throw FG_ERR_MODEL_VARIANT_UNKNOWN(model, variant)
    if (!this.opts.canServe(model, variant)) throw FG_ERR_POLICY_VARIANT_NOT_READY(model, variant)
    const from = this.opts.active.active(model)!
    const d: DecisionEvent = { model, action: 'manual', from, to: variant, rule: 'admin', evidence: { requested_by: who }, ts: this.opts.clock.wallNow(), actor: `admin@${this.opts.config.replica}` }
    this.apply(d, 'local')
    return d
  }

  /** Admin: back to the last-known-good variant (or the next preferred one if that is active). */
  manualRollback (model: string, who: string): DecisionEvent {
    this.requireModel(model)
    const st = this.opts.active.get(model)!
    const prefs = this.policies.get(model)?.variants ?? this.opts.models.get(model)!.variants
    const ok = (v: string): boolean => v !== st.active && this.opts.canServe(model, v)
    const to = ok(st.lastKnownGood) ? st.lastKnownGood : prefs.find(ok)
    if (to === undefined) throw FG_ERR_POLICY_NO_TARGET(model)
    const d: DecisionEvent = { model, action: 'rollback', from: st.active, to, rule: 'admin', evidence: { requested_by: who, last_known_good: st.lastKnownGood }, ts: this.opts.clock.wallNow(), actor: `admin@${this.opts.config.replica}` }
    this.apply(d, 'local')
    return d
  }

  /** Whether this process may take automatic decisions now (the elected writer, or alone). */
  get writer (): boolean { return this.opts.writer === undefined || this.opts.writer()?.isLeader() === true }

  status (): Array<ModelPolicyStatus & { writer: boolean, seq: number, epoch: number }> {
    const writer = this.writer
    return (this.engine?.status() ?? []).map(s => ({ ...s, writer, seq: this.sequence.state(s.model)?.seq ?? 0, epoch: this.sequence.state(s.model)?.epoch ?? 0 }))
  }
}
