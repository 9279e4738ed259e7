// Issue 14, defect 10: policies could vanish silently. A nonexistent policy.dir started with no
// policies and no word; deleting the policy file and reloading answered 200 {"reloaded":[]} and
// removed every rule. Now the first is a coded start-up error and the second is refused unless
// asked for explicitly.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { validateConfig } from '../../src/config/index.js'
import { createGateway } from '../../src/gateway.js'
import { MODELS_DIR, ROOT, silentLog, startGateway } from '../helpers/gateway.js'

t.test('a missing policy directory stops start-up with a coded error', async t => {
  const config = validateConfig({ models: { dir: MODELS_DIR, warmup_runs: 0 }, policy: { dir: join(tmpdir(), 'fairgate-no-such-dir') } })
  // createGateway releases the sessions it loaded before rethrowing: the test process must end.
  await t.rejects(createGateway(config, { log: silentLog }), { code: 'FG_ERR_POLICY_DIR', message: /fairgate-no-such-dir does not exist/ })
})

t.test('a reload that would remove every rule of a model is refused unless asked for', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'fairgate-policies-'))
  copyFileSync(join(ROOT, 'policies', 'income.yaml'), join(dir, 'income.yaml'))
  const { app } = await startGateway({ policy: { dir }, admin: { token: 'secret' } })
  t.teardown(() => app.close())
  const reload = async (q = ''): Promise<{ status: number, json: any }> => {
    const r = await app.inject({ method: 'POST', url: `/v1/policies/reload${q}`, headers: { authorization: 'Bearer secret' } })
    return { status: r.statusCode, json: r.json() }
  }
  const rules = async (): Promise<unknown[]> => (await app.inject({ method: 'GET', url: '/v1/fairness' })).json().policies
  t.same((await reload()).json, { reloaded: ['income'] })
  rmSync(join(dir, 'income.yaml'))
  const refused = await reload()
  t.equal(refused.status, 409)
  t.match(refused.json, { code: 'FG_ERR_POLICY_REMOVAL', error: /model "income"/ })
  t.equal((await rules()).length, 1, 'the policy stays in force')
  t.equal((await reload('?remove=maybe')).status, 400)
  t.same((await reload('?remove=true')).json, { reloaded: [] }, 'removed when asked for explicitly')
  t.equal((await rules()).length, 0)
})
