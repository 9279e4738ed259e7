// Unmodified Triton (tritonclient.http, .http.aio, .grpc) and KServe (InferenceRESTClient, whose
// default is KServe's v1 protocol, and InferenceGRPCClient) Python clients, default settings,
// against a real `fairgate serve`:
// every path's scores bit-identical to the JSON path's. Needs the pinned venv that
// scripts/client-venv.sh creates (.ci/run does); skipped with a message when it is absent.
import t from 'tap'
import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from '../helpers/gateway.js'
import { serveCli } from '../helpers/process.js'

const PY = join(ROOT, '.venv-clients', 'bin', 'python')

function python (args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(PY, args, { cwd: ROOT, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`${err.message}\n${stderr}`))
      else resolve(stdout)
    })
    if (input !== undefined) child.stdin!.end(input)
  })
}

const EXPECTED = {
  triton: [
    'tritonclient.http is_server_live', 'tritonclient.http get_model_metadata versioned', 'tritonclient.http is_model_ready',
    'tritonclient.http is_model_ready versioned', 'tritonclient.http is_model_ready unknown version is False',
    'tritonclient.http infer binary', 'tritonclient.http prediction_id BYTES', 'tritonclient.http infer gzip',
    'tritonclient.http infer deflate', 'tritonclient.http async_infer',
    'tritonclient.http.aio is_model_ready versioned', 'tritonclient.http.aio infer binary', 'tritonclient.http.aio infer json',
    'tritonclient.grpc is_server_ready', 'tritonclient.grpc get_model_metadata versioned', 'tritonclient.grpc is_model_ready versioned',
    'tritonclient.grpc infer', 'tritonclient.grpc prediction_id BYTES', 'tritonclient.grpc async_infer'
  ],
  kserve: [
    'kserve rest is_server_live', 'kserve rest is_model_ready', 'kserve rest infer binary', 'kserve rest infer json',
    'kserve rest infer instances', 'kserve rest v2 is_server_ready', 'kserve rest v2 infer binary', 'kserve grpc is_model_ready', 'kserve grpc infer'
  ]
}

t.test('real Triton and KServe clients against fairgate serve', { skip: existsSync(PY) ? false : 'client venv absent: run scripts/client-venv.sh (CI does, in .ci/run)' }, async t => {
  const served = await serveCli()
  t.teardown(async () => { served.child.kill('SIGTERM'); await served.exited })
  const http = served.url.replace('http://', '')
  for (const family of ['triton', 'kserve'] as const) {
    const out = await python([join('test', 'clients', 'drive_clients.py'), family, http, served.grpc, join('models', 'income', 'golden.json')])
    const report = JSON.parse(out.trim().split('\n').at(-1)!) as { checks: string[], failures: string[] }
    t.same(report.failures, [], `${family}: no client path failed`)
    for (const name of EXPECTED[family]) t.ok(report.checks.includes(name), `${family}: ${name}`)
  }

  // The Triton-client snippets in README.md and docs/protocol.md, run as written (host and port substituted).
  for (const file of ['README.md', join('docs', 'protocol.md')]) {
    const doc = readFileSync(join(ROOT, file), 'utf8')
    const snippet = /<!-- triton-snippet -->\s*```python\n([\s\S]*?)```/.exec(doc)
    t.ok(snippet !== null, `${file} has the Triton snippet`)
    const code = snippet![1]!.replaceAll('localhost:8080', http).replaceAll('localhost:8081', served.grpc)
    const printed = await python(['-'], code)
    t.match(printed, /^\[[-\d.e]+, [-\d.e]+\]$/m, `${file}: the snippet prints the scores: ${printed}`)
    t.match(printed, /^\[b'[0-9A-Z]{26}' b'[0-9A-Z]{26}'\]$/m, `${file}: the snippet prints two prediction ids`)
  }
})
