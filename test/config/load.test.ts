import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { envNames, loadConfig } from '../../src/config/index.js'

const dir = mkdtempSync(join(tmpdir(), 'fg-config-'))
const missing = join(dir, 'absent.yaml')

t.test('defaults without a file or variables', async t => {
  const c = loadConfig({ env: {}, file: undefined })
  t.equal(c.http.port, 8080)
  t.equal(c.models.execution_provider, 'cpu')
  t.same(c.kafka.brokers, [], 'no brokers: embedded mode')
  t.equal(c.events.buffer_size, 100_000)
})

t.test('YAML file overridden by FAIRGATE_* variables', async t => {
  const file = join(dir, 'a.yaml')
  writeFileSync(file, 'http:\n  port: 9000\nbatching:\n  max_batch_size: 16\n')
  const c = loadConfig({ file, env: { FAIRGATE_HTTP_PORT: '9100', FAIRGATE_KAFKA_BROKERS: 'a:9092, b:9092', FAIRGATE_EVENTS_INCLUDE_FEATURES: 'true', FAIRGATE_ADMIN_TOKEN: 's3cret' } })
  t.equal(c.http.port, 9100, 'variable beats file')
  t.equal(c.batching.max_batch_size, 16, 'file beats default')
  t.same(c.kafka.brokers, ['a:9092', 'b:9092'])
  t.equal(c.events.include_features, true)
  t.equal(c.admin.token, 's3cret')
})

t.test('every leaf has a variable name', async t => {
  const names = envNames()
  t.ok(names.has('FAIRGATE_BATCHING_MAX_QUEUE_DELAY_MS'))
  t.ok(names.has('FAIRGATE_KAFKA_BROKERS'))
})

t.test('a wrong value stops start-up naming the field', async t => {
  const file = join(dir, 'b.yaml')
  writeFileSync(file, 'batching:\n  max_batch_size: -3\n')
  t.throws(() => loadConfig({ file, env: {} }), { code: 'FG_ERR_CONFIG_INVALID', message: /batching\.max_batch_size/ })
  writeFileSync(file, 'batching:\n  max_batch_sise: 3\n')
  t.throws(() => loadConfig({ file, env: {} }), { message: /batching\.max_batch_sise.*unknown key/ })
  t.throws(() => loadConfig({ file: missing, env: {} }), { code: 'FG_ERR_CONFIG_FILE' }, 'a named file must exist')
  t.throws(() => loadConfig({ env: { FAIRGATE_HTTP_PORT: 'eighty' } }), { message: /FAIRGATE_HTTP_PORT.*number/ })
  t.throws(() => loadConfig({ env: { FAIRGATE_HTTP_PROT: '1' } }), { message: /FAIRGATE_HTTP_PROT.*unknown/ })
  t.throws(() => loadConfig({ env: { FAIRGATE_MODELS_EXECUTION_PROVIDER: 'tpu' } }), { message: /models\.execution_provider/ })
  writeFileSync(file, 'http: [1, 2\n')
  t.throws(() => loadConfig({ file, env: {} }), { code: 'FG_ERR_CONFIG_FILE' }, 'broken YAML')
})
