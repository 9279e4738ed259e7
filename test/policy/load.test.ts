// Policy files: the example validates; a bad file is refused naming the field.
import t from 'tap'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse, stringify } from 'yaml'
import { readPolicies, validatePolicy } from '../../src/policy/index.js'
import { ROOT } from '../helpers/gateway.js'

const models = new Map([['income', { variants: ['full', 'distilled', 'fair', 'full-eo', 'distilled-eo'], attributes: ['sex', 'race'] }]])
const example = parse(readFileSync(join(ROOT, 'policies', 'income.yaml'), 'utf8'))

t.test('policies/income.yaml validates', async t => {
  const p = readPolicies(join(ROOT, 'policies'), models).get('income')!
  t.same(p.variants, ['full', 'distilled', 'fair', 'full-eo', 'distilled-eo'])
  t.equal(p.hysteresis, 3)
  t.ok(p.fairness.length >= 1)
  t.equal(p.offline?.max_gap?.equalized_odds_difference, 0.1, 'the offline budgets fairgate evaluate --check holds it to')
})

t.test('a bad policy is refused naming the field', async t => {
  const cases: Array<[string, (p: any) => void, RegExp]> = [
    ['unknown model', p => { p.model = 'nope' }, /at "model": unknown model "nope"/],
    ['unknown variant', p => { p.variants.push('huge') }, /at "variants\.5": "huge" is not a variant/],
    ['bad metric', p => { p.fairness[0].metric = 'vibes' }, /at "fairness\.0\.metric"/],
    ['bad attribute', p => { p.fairness[0].attribute = 'age' }, /at "fairness\.0\.attribute": "age" is not a group attribute/],
    ['switch to a variant not in the list', p => { p.fairness[0].action = { type: 'switch', to: 'gpu' } }, /fairness\.0\.action\.to/],
    ['negative threshold', p => { p.fairness[0].threshold = -1 }, /fairness\.0\.threshold/],
    ['typo key', p => { p.hysterisis = 2 }, /at "hysterisis": unknown key/],
    ['duplicate rule', p => { p.drift[0].name = p.fairness[0].name }, /drift\.0\.name.*duplicate/],
    ['bad percentile', p => { p.latency.slo.percentile = 97 }, /latency\.slo\.percentile/],
    ['unknown offline gap metric', p => { p.offline.max_gap.parity = 0.1 }, /at "offline\.max_gap\.parity": unknown key/],
    ['offline accuracy above 1', p => { p.offline.min_accuracy = 87 }, /at "offline\.min_accuracy"/],
    ['unknown offline weight', p => { p.offline.weights.speed = 1 }, /at "offline\.weights\.speed": unknown key/]
  ]
  for (const [name, mutate, re] of cases) {
    const p = structuredClone(example)
    mutate(p)
    t.throws(() => validatePolicy(p, 'x.yaml', models), { code: 'FG_ERR_POLICY_INVALID', message: re }, name)
  }
})

t.test('a directory with one bad file yields nothing half-applied', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-pol-'))
  writeFileSync(join(dir, 'a.yaml'), stringify(example))
  writeFileSync(join(dir, 'b.yaml'), stringify({ ...example, model: 'income' }))
  t.throws(() => readPolicies(dir, models), { message: /a second policy for model "income"/ })
})
