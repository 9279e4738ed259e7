// Which variant each model serves by default. Starts at the manifest's first (most preferred)
// variant; policies and admins move it. Kept apart from the router so the policy engine and the
// decisions follower can change it without knowing how requests are routed.

export interface VariantStatus {
  active: string
  lastKnownGood: string
  changedAt: number
}

export class ActiveVariants {
  private readonly state = new Map<string, VariantStatus>()

  /**
   * changedAt 0: the manifest's default is not a decision, so any decision on record wins.
   * Active means serving: the first variant that loaded, not one that failed.
   */
  init (model: { name: string, variants: ReadonlyArray<{ name: string, state?: string }> }): void {
    const first = (model.variants.find(v => v.state === undefined || v.state === 'ready') ?? model.variants[0]!).name
    this.state.set(model.name, { active: first, lastKnownGood: first, changedAt: 0 })
  }

  get (model: string): VariantStatus | undefined { return this.state.get(model) }

  active (model: string): string | undefined { return this.state.get(model)?.active }

  set (model: string, variant: string, wallNow: number): void {
    const s = this.state.get(model)
    if (s === undefined) return
    s.active = variant
    s.changedAt = wallNow
  }

  setLastKnownGood (model: string, variant: string): void {
    const s = this.state.get(model)
    if (s !== undefined) s.lastKnownGood = variant
  }
}
