// Reads and validates policies/*.yaml against the schema and the models they name. Used at
// start (a bad policy stops start-up) and on reload (a bad policy is refused and the last good
// one stays in force).
import type { VariantFacts } from './fairness-constraint.js'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { FG_ERR_POLICY_DIR, FG_ERR_POLICY_INVALID } from '../errors.js'
import { policySchema, type Policy } from './schema.js'

export { FG_ERR_POLICY_INVALID }

/** What a policy may refer to: the model's variants and group attributes. */
export interface ModelFacts {
  variants: string[]
  attributes: string[]
  /** The manifest's per-group rates of each variant (for the fairness constraint on routing). */
  metrics?: VariantFacts[]
}

/** `modelsDir` (models.dir), when given, is named in the message of a policy whose model is not there. */
export function validatePolicy (raw: unknown, file: string, models: Map<string, ModelFacts>, modelsDir?: string): Policy {
  const res = policySchema.safeParse(raw)
  if (!res.success) {
    const issue = res.error.issues[0]!
    let path = issue.path.join('.')
    let why = issue.message
    if (issue.code === 'unrecognized_keys') { path = [...issue.path, issue.keys[0]].join('.'); why = 'unknown key' }
    throw FG_ERR_POLICY_INVALID(file, path === '' ? '(root)' : path, why)
  }
  const p = res.data
  const m = models.get(p.model)
  if (m === undefined) {
    const where = modelsDir === undefined ? '' : `: no ${join(resolve(modelsDir), p.model, 'model.yaml')} (models.dir) for this policy in ${dirname(resolve(file))} (policy.dir)`
    throw FG_ERR_POLICY_INVALID(file, 'model', `unknown model "${p.model}"${where}; models: ${[...models.keys()].join(', ') || '(none)'}`)
  }
  p.variants.forEach((v, i) => { if (!m.variants.includes(v)) throw FG_ERR_POLICY_INVALID(file, `variants.${i}`, `"${v}" is not a variant of ${p.model} (${m.variants.join(', ')})`) })
  if (new Set(p.variants).size !== p.variants.length) throw FG_ERR_POLICY_INVALID(file, 'variants', 'lists a variant twice')
  const checkAction = (a: { type: string, to?: string }, at: string): void => {
    if (a.type === 'switch' && !p.variants.includes(a.to!)) throw FG_ERR_POLICY_INVALID(file, `${at}.action.to`, `"${a.to}" is not one of the policy's variants`)
  }
  const names = new Set<string>()
  const checkRule = (r: { name: string, attribute: string, action: { type: string, to?: string } }, at: string): void => {
    if (names.has(r.name)) throw FG_ERR_POLICY_INVALID(file, `${at}.name`, `duplicate rule name "${r.name}"`)
    names.add(r.name)
    const base = r.attribute.split('×')
    if (!base.every(a => m.attributes.includes(a))) throw FG_ERR_POLICY_INVALID(file, `${at}.attribute`, `"${r.attribute}" is not a group attribute of ${p.model} (${m.attributes.join(', ')})`)
    checkAction(r.action, at)
  }
  p.fairness.forEach((r, i) => { checkRule(r, `fairness.${i}`) })
  p.drift.forEach((r, i) => { checkRule(r, `drift.${i}`) })
  if (p.latency.slo !== undefined) checkAction(p.latency.slo.action, 'latency.slo')
  return p
}

export function readPolicyFile (file: string, models: Map<string, ModelFacts>, modelsDir?: string): Policy {
  let raw: unknown
  try {
    raw = parseYaml(readFileSync(file, 'utf8'))
  } catch (err) {
    throw FG_ERR_POLICY_INVALID(file, '(file)', (err as Error).message)
  }
  return validatePolicy(raw, file, models, modelsDir)
}

/** Every policies/*.yaml; throws on the first invalid one (nothing is half-applied). */
export function readPolicies (dir: string, models: Map<string, ModelFacts>, modelsDir?: string): Map<string, Policy> {
  const out = new Map<string, Policy>()
  const root = resolve(dir)
  // A typo in policy.dir must not start a gateway with no rules and no word about it.
  if (!existsSync(root)) throw FG_ERR_POLICY_DIR(root)
  for (const f of readdirSync(root).filter(f => /\.ya?ml$/.test(f)).sort()) {
    const file = join(root, f)
    const p = readPolicyFile(file, models, modelsDir)
    if (out.has(p.model)) throw FG_ERR_POLICY_INVALID(file, 'model', `a second policy for model "${p.model}"`)
    out.set(p.model, p)
  }
  return out
}
