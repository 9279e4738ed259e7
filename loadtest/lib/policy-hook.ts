// How the bench sees the policy engine act: the audit log (GET /v1/decisions, newest first,
// DESIGN.md's {"model","action","from","to","rule","evidence","ts","actor"}) and, as a
// fallback, a change of the active variant (GET /v1/variants). Manual (admin) decisions do not
// count: the bench wants what the engine did on its own.

export interface PolicyAction {
  /** Where it was seen: the audit log, or a change of the active variant. */
  source: 'decisions' | 'active-variant'
  action: string
  from?: string
  to?: string
  rule?: string
  /** Wall-clock ms of the decision (from its `ts` when given, else when seen). */
  ts: number
}

/** The active variant of a model from GET /v1/variants, or null. */
export async function activeVariant (url: string, model: string): Promise<string | null> {
  try {
    const r = await fetch(`${url}/v1/variants`)
    if (r.status !== 200) return null
    const body = await r.json() as { models?: Array<{ model: string, active?: string }> }
    return body.models?.find(m => m.model === model)?.active ?? null
  } catch {
    return null
  }
}

/** Every automatic decision on `model` taken at or after `sinceWallMs`, oldest first; null when the gateway has no /v1/decisions. */
export async function policyActions (url: string, model: string, sinceWallMs: number): Promise<PolicyAction[] | null> {
  try {
    const r = await fetch(`${url}/v1/decisions?model=${encodeURIComponent(model)}`)
    if (r.status !== 200) { await r.body?.cancel(); return null }
    const body = await r.json() as unknown
    const list = (Array.isArray(body) ? body : (body as { decisions?: unknown[] }).decisions ?? []) as Array<Record<string, unknown>>
    return list
      .filter(d => d.model === model && !String(d.actor).startsWith('admin') && tsOf(d.ts) >= sinceWallMs)
      .sort((a, b) => tsOf(a.ts) - tsOf(b.ts))
      .map(d => ({ source: 'decisions' as const, action: String(d.action), from: str(d.from), to: str(d.to), rule: str(d.rule), ts: tsOf(d.ts) }))
  } catch {
    return null
  }
}

/** How many times the policy engine has evaluated `model` (GET /v1/fairness), or null. */
export async function policyEvaluations (url: string, model: string): Promise<number | null> {
  try {
    const r = await fetch(`${url}/v1/fairness?model=${encodeURIComponent(model)}`)
    if (r.status !== 200) { await r.body?.cancel(); return null }
    const body = await r.json() as { policies?: Array<{ model: string, evaluations?: number }> }
    return body.policies?.find(p => p.model === model)?.evaluations ?? null
  } catch {
    return null
  }
}

/**
 * The first automatic action on `model` taken at or after `sinceWallMs`, or null if none yet.
 * `initialActive` is the active variant before the injection; a change of it counts as an
 * action even without an audit record.
 */
export async function probePolicyAction (url: string, model: string, sinceWallMs: number, initialActive: string | null): Promise<PolicyAction | null> {
  const first = (await policyActions(url, model, sinceWallMs))?.[0]
  if (first !== undefined) return first
  const now = await activeVariant(url, model)
  if (initialActive !== null && now !== null && now !== initialActive) return { source: 'active-variant', action: 'switch', from: initialActive, to: now, ts: Date.now() }
  return null
}

function tsOf (x: unknown): number {
  if (typeof x === 'number') return x
  if (typeof x === 'string') { const t = Date.parse(x); return Number.isNaN(t) ? 0 : t }
  return 0
}
function str (x: unknown): string | undefined { return typeof x === 'string' ? x : undefined }
