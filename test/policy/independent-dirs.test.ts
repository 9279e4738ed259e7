// Issue 18: policies and models are separate folders. A policy naming a model models.dir does not
// have fails before any session loads (it used to fail after every model had loaded and warmed
// up), naming both folders; a model without a policy is served without one.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { validateConfig } from '../../src/config/index.js'
import { createGateway } from '../../src/gateway.js'
import { MODELS_DIR } from '../helpers/gateway.js'

function spyLog (): { lines: string[], info: (o: object | string, m?: string) => void, warn: (o: object | string, m?: string) => void, error: (o: object | string, m?: string) => void } {
  const lines: string[] = []
  const push = (_o: object | string, m?: string): void => { lines.push(m ?? '') }
  return { lines, info: push, warn: push, error: push }
}

t.test('a policy for a model that is not there fails before the models load, naming both folders', async t => {
  const policies = mkdtempSync(join(tmpdir(), 'fairgate-policies-'))
  writeFileSync(join(policies, 'credit.yaml'), 'model: credit\nvariants: [logreg]\n')
  const log = spyLog()
  const config = validateConfig({ models: { dir: MODELS_DIR, warmup_runs: 1 }, policy: { dir: policies } })
  await t.rejects(createGateway(config, { log }), {
    code: 'FG_ERR_POLICY_INVALID',
    message: /credit\.yaml at "model": unknown model "credit": no .*models\/credit\/model\.yaml \(models\.dir\) for this policy in .*fairgate-policies-\w+ \(policy\.dir\); models: income/
  })
  t.notOk(log.lines.some(l => /variant (ready|failed)/.test(l)), 'no variant was loaded first')
})

t.test('a model without a policy is served without one', async t => {
  const policies = mkdtempSync(join(tmpdir(), 'fairgate-policies-'))
  const config = validateConfig({ models: { dir: MODELS_DIR, warmup_runs: 1, inference_threads: 0 }, policy: { dir: policies } })
  const gw = await createGateway(config, { log: spyLog() })
  t.teardown(async () => { await gw.close() })
  t.equal(gw.registry.model('income').variant('full').state, 'ready')
  t.same(gw.policy.status().map(s => s.model), [], 'no policy in force')
})
