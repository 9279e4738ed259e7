// Issue 14, defect 2: SIGHUP used to kill the process within ~2 s, undrained and unlogged, while
// the README documents `kill -HUP` as a policy reload. End to end against real processes: serve
// and monitor reload on SIGHUP, keep the last good policies on a bad file, and keep running.
import { spawn } from 'node:child_process'
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { ROOT } from '../helpers/gateway.js'
import { sharedBroker, uniquePrefix } from '../helpers/kafka.js'
import { freePort, serveCli } from '../helpers/process.js'

async function until (what: string, cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const started = Date.now()
  while (!cond()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

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
  const port = await freePort()
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'cli', 'index.js'), 'monitor'], {
    cwd: ROOT,
    env: { ...process.env, FAIRGATE_HTTP_HOST: '127.0.0.1', FAIRGATE_HTTP_PORT: String(port), FAIRGATE_LOG_LEVEL: 'info', FAIRGATE_POLICY_DIR: dir, FAIRGATE_KAFKA_BROKERS: brokers, FAIRGATE_KAFKA_TOPIC_PREFIX: uniquePrefix() },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  const exited = new Promise<number | null>(resolve => child.on('exit', code => { resolve(code) }))
  t.teardown(() => { child.kill('SIGKILL') })
  await until('the monitor to listen', () => out.includes('fairgate monitor listening'), 60_000)

  child.kill('SIGHUP')
  await until('the reload log line', () => out.includes('policy reload on SIGHUP done'))
  writeFileSync(join(dir, 'income.yaml'), 'model: income\nvariants: [nonexistent]\n')
  child.kill('SIGHUP')
  await until('the refusal', () => out.includes('policy reload refused'))
  const r = await fetch(`http://127.0.0.1:${port}/v1/fairness?model=income`)
  t.equal(r.status, 200, 'still answering')
  t.equal(child.exitCode, null, 'still running')
  child.kill('SIGTERM')
  t.equal(await exited, 0, 'exits cleanly on SIGTERM')
})
