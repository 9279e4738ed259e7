// What `npm run test:unit` runs: every test file that needs no Kafka broker, no gateway (or
// monitor) process and no browser. A file not named below is a unit test, so a new test is in
// the fast set unless it says here why it cannot be.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { ROOT } from '../helpers/gateway.js'

/** Files that talk to a real broker (npm test starts one around tap). */
const BROKER = [
  'test/cli/signals.test.ts',
  'test/events/kafka-content-refusal.test.ts',
  'test/events/kafka-outage.test.ts',
  'test/events/kafka-shutdown.test.ts',
  'test/events/kafka-stream.test.ts',
  'test/events/kafka-worker.test.ts',
  'test/events/kafkajs-fast-path-late.test.ts',
  'test/events/kafkajs-fast-path.test.ts',
  'test/events/leadership.test.ts',
  'test/events/shutdown-report.test.ts',
  'test/monitor/feedback-topic.test.ts',
  'test/monitor/kafka-monitor.test.ts',
  'test/monitor/shards.test.ts',
  'test/policy/control-plane.test.ts',
  'test/policy/replicas.test.ts'
]

/** Files that start fairgate (or a tool: promtool, Alertmanager, Python clients) as a process. */
const PROCESS = [
  'test/cli/byo-e2e.test.ts',
  'test/cli/evaluate-check.test.ts',
  'test/cli/log-redaction.test.ts',
  'test/cli/serve.test.ts',
  'test/cli/sigterm-keepalive.test.ts',
  'test/cli/startup-errors.test.ts',
  'test/cli/validate.test.ts',
  'test/clients/clients.test.ts',
  'test/deploy/alerting.e2e.test.ts',
  'test/deploy/promtool.test.ts',
  'test/events/event-buffer-heap.test.ts',
  'test/grpc/drain.test.ts',
  'test/http/fp32-range.test.ts',
  'test/http/timeouts.test.ts',
  'test/models/output-layout.test.ts',
  'test/policy/fairness-switch.e2e.test.ts',
  'test/routing/adaptive-routing.test.ts'
]

/** Files that drive Chromium. */
const BROWSER = ['test/ui/page.e2e.test.ts']

/**
 * Unit tests that set process-wide state and so run as files of their own (package.json's
 * test:unit names them): OpenTelemetry's tracer provider is one per process.
 */
export const OWN_PROCESS = ['test/telemetry/otlp.test.ts', 'test/telemetry/tracing.test.ts']

function testFiles (dir: string): string[] {
  const out: string[] = []
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) { if (e.name !== 'helpers' && e.name !== 'fixtures') out.push(...testFiles(p)) } else if (e.name.endsWith('.test.ts')) out.push(relative(ROOT, p))
  }
  return out
}

/**
 * The unit files that take seconds (in-process wall time, most of a shard's): dealt out first, so
 * each shard gets its share of them and the shards end together. A stale entry only costs balance.
 */
const SLOW = [
  'test/depcheck.test.ts',
  'test/models/inference-pool.test.ts',
  'test/evaluate/reference.test.ts',
  'test/grpc/server.test.ts',
  'test/policy/drift.e2e.test.ts',
  'test/http/infer.test.ts',
  'test/evaluate/replay.test.ts',
  'test/deploy/manifests.test.ts',
  'test/models/golden.test.ts'
]

/** The unit test files that share the shard processes: the slow ones first, then the rest sorted. */
export function sharedUnitFiles (): string[] {
  const named = [...BROKER, ...PROCESS, ...BROWSER, ...OWN_PROCESS]
  // A name left behind by a rename would silently move its file into the fast set.
  for (const f of named) if (!existsSync(join(ROOT, f))) throw new Error(`test/unit/files.ts names ${f}, which does not exist`)
  const script = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['test:unit']!
  for (const f of OWN_PROCESS) if (!script.includes(f)) throw new Error(`package.json's test:unit does not run ${f}, which runs in a process of its own`)
  const skip = new Set(named)
  const files = testFiles(join(ROOT, 'test')).filter(f => !skip.has(f)).sort()
  return [...SLOW.filter(f => files.includes(f)), ...files.filter(f => !SLOW.includes(f))]
}
