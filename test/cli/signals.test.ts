// Issue 14, defect 2: SIGHUP used to kill the process within ~2 s, undrained and unlogged, while
// the README documents `kill -HUP` as a policy reload. End to end against real processes: serve
// and monitor reload on SIGHUP, keep the last good policies on a bad file, and keep running.
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { ROOT } from '../helpers/gateway.js'
import { sharedBroker, uniquePrefix } from '../helpers/kafka.js'
import { monitorCli, serveCli, until } from '../helpers/process.js'

function policyDir (): string {
  const dir = mkdtempSync(join(tmpdir(), 'fairgate-policies-'))
  copyFileSync(join(ROOT, 'policies', 'income.yaml'), join(dir, 'income.yaml'))
  return dir
}

const count = (out: string, s: string): number => out.split(s).length - 1

t.test('serve: SIGHUP reloads the policies; a bad file keeps the last good ones', async t => {
  const dir = policyDir()
  const s = await serveCli({ FAIRGATE_POLICY_DIR: dir, FAIRGATE_LOG_LEVEL: 'info' })
  t.teardown(() => { s.child.kill('SIGKILL') })

  s.child.kill('SIGHUP')
  await until('the reload log line', () => s.output().includes('policy reload on SIGHUP done'))
  // A second signal: the process did not die after the first (Node's default was exit).
  s.child.kill('SIGHUP')
  await until('a second reload', () => count(s.output(), 'policy reload on SIGHUP done') === 2)
  t.equal(s.child.exitCode, null, 'still running')

  writeFileSync(join(dir, 'income.yaml'), 'model: income\nvariants: [nonexistent]\n')
  s.child.kill('SIGHUP')
  await until('the refusal', () => s.output().includes('policy reload refused'))
  const r = await fetch(`${s.url}/v1/fairness?model=income`)
  t.equal(r.status, 200, 'still serving')
  const body = await r.json() as { policies: Array<{ model: string }> }
  t.ok(body.policies.some(p => p.model === 'income'), 'the last good policy stays in force')

  s.child.kill('SIGTERM')
  t.equal(await s.exited, 0, 'and it still drains and exits cleanly on SIGTERM')
})

t.test('monitor: SIGHUP reloads the policies and the process keeps running', async t => {
  const brokers = await sharedBroker(t)
  const dir = policyDir()
  const m = await monitorCli({ FAIRGATE_LOG_LEVEL: 'info', FAIRGATE_POLICY_DIR: dir, FAIRGATE_KAFKA_BROKERS: brokers, FAIRGATE_KAFKA_TOPIC_PREFIX: uniquePrefix() })
  const child = m.child
  const out = (): string => m.output()
  t.teardown(() => { child.kill('SIGKILL') })

  child.kill('SIGHUP')
  await until('the reload log line', () => out().includes('policy reload on SIGHUP done'))
  writeFileSync(join(dir, 'income.yaml'), 'model: income\nvariants: [nonexistent]\n')
  child.kill('SIGHUP')
  await until('the refusal', () => out().includes('policy reload refused'))
  const r = await fetch(`${m.url}/v1/fairness?model=income`)
  t.equal(r.status, 200, 'still answering')
  t.equal(child.exitCode, null, 'still running')
  child.kill('SIGTERM')
  t.equal(await m.exited, 0, 'exits cleanly on SIGTERM')
})
