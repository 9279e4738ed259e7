// ───────────────────────────── HOOK(policy): time from injection to action ─────────────────────
// The replay scenario injects a drift and asks this probe, once per poll, whether the gateway
// has acted on it. Today fairgate has no policy engine: GET /v1/decisions answers 404 and the
// active variant never changes, so the probe returns null and the report says "n/a". When the
// policy work lands, this is the one place to adapt if the decision shape differs from
// DESIGN.md's `{"model","action","from","to","rule","evidence","ts","actor"}`, newest first.
// ────────────────────────────────────────────────────────────────────────────────────────────────

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

/**
 * The first automatic action on `model` taken at or after `sinceWallMs`, or null if none yet
 * (or the gateway has no /v1/decisions). `initialActive` is the active variant before the
 * injection; a change of it counts as an action even without an audit record.
 */
export async function probePolicyAction (url: string, model: string, sinceWallMs: number, initialActive: string | null): Promise<PolicyAction | null> {
  try {
    const r = await fetch(`${url}/v1/decisions`)
    if (r.status === 200) {
      const body = await r.json() as unknown
      const list = (Array.isArray(body) ? body : (body as { decisions?: unknown[] }).decisions ?? []) as Array<Record<string, unknown>>
      const mine = list
        .filter(d => d.model === model && d.actor !== 'admin' && tsOf(d.ts) >= sinceWallMs)
        .sort((a, b) => tsOf(a.ts) - tsOf(b.ts))
      const d = mine[0]
      if (d !== undefined) {
        return { source: 'decisions', action: String(d.action), from: str(d.from), to: str(d.to), rule: str(d.rule), ts: tsOf(d.ts) }
      }
    } else {
      await r.body?.cancel()
    }
  } catch {}
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
