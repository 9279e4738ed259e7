// The Prometheus rules under deploy/ are valid (`promtool check rules`) and behave as their unit
// tests say (`promtool test rules deploy/prometheus/tests/*.yml`): every alert firing and not
// firing. The Alertmanager config is checked with amtool when it is installed.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from '../helpers/gateway.js'

const PROM = join(ROOT, 'deploy', 'prometheus')
const has = (bin: string): boolean => spawnSync(bin, ['--version'], { encoding: 'utf8' }).error === undefined
const skip = has('promtool') ? false : 'needs promtool on PATH (apt-get install prometheus)'

const yml = (dir: string): string[] => readdirSync(join(PROM, dir)).filter(f => f.endsWith('.yml')).sort().map(f => join(dir, f))

t.test('promtool check rules', { skip }, async t => {
  const files = yml('rules')
  t.ok(files.length >= 2, `rule files: ${files.join(', ')}`)
  const r = spawnSync('promtool', ['check', 'rules', ...files], { cwd: PROM, encoding: 'utf8' })
  t.equal(r.status, 0, r.stdout + r.stderr)
})

t.test('promtool test rules', { skip }, async t => {
  const files = yml('tests')
  t.ok(files.length >= 3, `rule tests: ${files.join(', ')}`)
  const r = spawnSync('promtool', ['test', 'rules', ...files], { cwd: PROM, encoding: 'utf8' })
  t.equal(r.status, 0, r.stdout + r.stderr)
})

t.test('promtool check config (compose Prometheus)', { skip }, async t => {
  const r = spawnSync('promtool', ['check', 'config', '--syntax-only', 'prometheus.yml'], { cwd: PROM, encoding: 'utf8' })
  t.equal(r.status, 0, r.stdout + r.stderr)
})

t.test('amtool check-config', { skip: has('amtool') ? false : 'needs amtool on PATH (apt-get install prometheus-alertmanager)' }, async t => {
  const r = spawnSync('amtool', ['check-config', join(ROOT, 'deploy', 'alertmanager', 'alertmanager.yml')], { encoding: 'utf8' })
  t.equal(r.status, 0, r.stdout + r.stderr)
})
