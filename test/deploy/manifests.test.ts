// Every manifest under deploy/ parses, and the fields that matter agree with the code: probe
// paths are real endpoints, ports agree with the Dockerfile and the config default, images agree
// between Kubernetes and compose (and with package.json's version), containers run non-root on
// a read-only root filesystem, the ConfigMaps validate against the config and policy schemas,
// every metric the rules and the dashboard query is one a gateway exposes, and Alertmanager
// routes pages to the pager webhook. And what an SRE found: re-applying the kustomization must
// not replace the operator's admin token, the grace period must cover preStop + drain + flush,
// the monitor must mount the policies it evaluates, and where it runs the gateways must not
// evaluate them too.
import t from 'tap'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { parseAllDocuments, parse as parseYaml } from 'yaml'
import { configSchema, loadConfig, validateConfig, type Config } from '../../src/config/index.js'
import { ROOT, startGateway } from '../helpers/gateway.js'

const DEPLOY = join(ROOT, 'deploy')
type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

function files (dir: string): string[] {
  return readdirSync(dir).flatMap(f => {
    const p = join(dir, f)
    return statSync(p).isDirectory() ? files(p) : [p]
  })
}

const all = files(DEPLOY)
const yamlDocs = new Map<string, Json[]>()
for (const f of all.filter(f => /\.ya?ml$/.test(f))) {
  yamlDocs.set(relative(DEPLOY, f), parseAllDocuments(readFileSync(f, 'utf8'), { merge: true }).map(d => {
    if (d.errors.length > 0) throw new Error(`${f}: ${d.errors[0]!.message}`)
    return d.toJS() as Json
  }).filter(d => d !== null))
}
const k8s = [...yamlDocs.entries()].filter(([f]) => f.startsWith('k8s/') && !f.endsWith('kustomization.yaml')).flatMap(([f, docs]) => docs.map(d => ({ file: f, doc: d })))
const byKind = (kind: string): Json[] => k8s.filter(d => d.doc.kind === kind).map(d => d.doc)
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
const compose = yamlDocs.get('docker-compose.yml')![0]!
const grafana = JSON.parse(readFileSync(join(DEPLOY, 'grafana', 'fairgate.json'), 'utf8')) as Json

t.test('every manifest parses', async t => {
  t.ok(yamlDocs.size >= 10, `${yamlDocs.size} YAML files`)
  for (const { file, doc } of k8s) {
    t.ok(typeof doc.apiVersion === 'string' && typeof doc.kind === 'string' && typeof doc.metadata?.name === 'string', `${file}: ${doc.kind}/${doc.metadata?.name}`)
    if (doc.kind !== 'Namespace') t.equal(doc.metadata.namespace, 'fairgate', `${file}: ${doc.kind} in namespace fairgate`)
  }
  const kustomization = yamlDocs.get('k8s/kustomization.yaml')![0]!
  const listed = new Set(kustomization.resources as string[])
  for (const f of [...yamlDocs.keys()].filter(f => f.startsWith('k8s/') && f !== 'k8s/kustomization.yaml')) t.ok(listed.has(f.slice(4)), `kustomization lists ${f}`)
  t.equal(grafana.uid, 'fairgate', 'grafana dashboard parses')
  t.ok((grafana.panels as Json[]).filter(p => p.type !== 'row').every(p => p.datasource?.uid === '${datasource}'), 'every panel uses the data source variable (import picks one)')
})

t.test('Dockerfile: multi-stage, non-root, port, health check', async t => {
  t.ok((dockerfile.match(/^FROM /gm) ?? []).length >= 2, 'multi-stage')
  t.match(dockerfile, /npm ci --omit=dev/, 'runtime installs production dependencies only')
  t.ok((dockerfile.match(/COPY [^\n]*\.npmrc/g) ?? []).length >= 2, '.npmrc in both stages (onnxruntime-node-install=skip)')
  t.match(dockerfile, /^USER (\d+)/m, 'numeric non-root USER')
  t.not(/^USER (\d+)/m.exec(dockerfile)![1], '0')
  t.match(dockerfile, /^EXPOSE 8080$/m)
  t.match(dockerfile, /^EXPOSE 8081$/m, 'the gRPC port is exposed')
  t.match(dockerfile, /^HEALTHCHECK [\s\S]*\/v2\/health\/live/m, 'HEALTHCHECK hits the liveness endpoint')
  t.match(dockerfile, /^CMD \["serve"\]/m)
  t.match(dockerfile, /^COPY ui \.\/ui$/m, 'the /ui page in the image, beside dist/ (the server will not start without it)')
  t.equal(configSchema.parse({}).http.port, 8080, 'the config default port is the exposed one')
  t.equal(configSchema.parse({}).grpc.port, 8081, 'the config default gRPC port is the exposed one')
  const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map(l => l.trim())
  for (const p of ['node_modules', '.git', 'dist', 'test']) t.ok(ignore.includes(p), `.dockerignore excludes ${p}`)
})

t.test('Kubernetes workloads: probes, ports, images, security', async t => {
  const deployments = byKind('Deployment')
  t.same(deployments.map(d => d.metadata.name).sort(), ['fairgate', 'fairgate-monitor'])
  const image = `fairgate:${pkg.version}`
  for (const d of deployments) {
    const spec = d.spec.template.spec
    const name = d.metadata.name as string
    t.same(d.spec.selector.matchLabels, Object.fromEntries(Object.entries(d.spec.selector.matchLabels).map(([k]) => [k, d.spec.template.metadata.labels[k]])), `${name}: selector matches the pod labels`)
    t.equal(spec.securityContext.runAsNonRoot, true, `${name}: pod runAsNonRoot`)
    t.ok(spec.securityContext.runAsUser > 0, `${name}: pod runAsUser non-zero`)
    for (const c of spec.containers as Json[]) {
      t.equal(c.image, image, `${name}: image ${image} (package.json version)`)
      // Only the gateway serves gRPC; `fairgate monitor` has HTTP alone.
      const ports = name === 'fairgate'
        ? [{ name: 'http', containerPort: 8080, protocol: 'TCP' }, { name: 'grpc', containerPort: 8081, protocol: 'TCP' }]
        : [{ name: 'http', containerPort: 8080, protocol: 'TCP' }]
      t.same(c.ports, ports, `${name}: container ports ${ports.map(p => p.containerPort).join(', ')} = EXPOSE = config defaults`)
      t.equal(c.securityContext.readOnlyRootFilesystem, true, `${name}: readOnlyRootFilesystem`)
      t.equal(c.securityContext.allowPrivilegeEscalation, false, `${name}: no privilege escalation`)
      t.equal(c.securityContext.runAsNonRoot, true, `${name}: container runAsNonRoot`)
      t.same(c.securityContext.capabilities.drop, ['ALL'], `${name}: drops all capabilities`)
      t.ok(c.resources?.requests?.cpu !== undefined && c.resources?.limits?.memory !== undefined, `${name}: resources set`)
      t.equal(c.livenessProbe.httpGet.path, '/v2/health/live', `${name}: liveness probe path`)
      t.equal(c.readinessProbe.httpGet.path, '/v2/health/ready', `${name}: readiness probe path`)
      for (const p of ['livenessProbe', 'readinessProbe', 'startupProbe']) if (c[p] !== undefined) t.ok(c[p].httpGet.port === 'http' || c[p].httpGet.port === 8080, `${name}: ${p} on the http port`)
      t.equal(c.args[0], name === 'fairgate' ? 'serve' : 'monitor', `${name}: runs fairgate ${c.args[0]}`)
      const env = Object.fromEntries((c.env as Json[]).map(e => [e.name, e.value ?? e.valueFrom]))
      t.equal(env.FAIRGATE_CONFIG, '/etc/fairgate/fairgate.yaml', `${name}: FAIRGATE_CONFIG points at the mounted ConfigMap`)
      for (const k of Object.keys(env)) t.match(k, /^FAIRGATE_(CONFIG|REPLICA|ADMIN_TOKEN|[A-Z_]+)$/, `${name}: ${k}`)
      const mounts = new Map((c.volumeMounts as Json[]).map(m => [m.mountPath, m.name]))
      t.equal(mounts.get('/etc/fairgate'), 'config', `${name}: config mounted at /etc/fairgate`)
      if (name === 'fairgate') t.equal(mounts.get('/app/policies'), 'policies', 'gateway: policies mounted at /app/policies')
      t.ok(mounts.has('/tmp'), `${name}: writable /tmp`)
    }
  }
  for (const s of byKind('Service')) {
    const target = deployments.find(d => Object.entries(s.spec.selector).every(([k, v]) => d.spec.template.metadata.labels[k] === v))
    t.ok(target, `Service ${s.metadata.name} selects a Deployment`)
    const gateway = target?.metadata.name === 'fairgate'
    t.same(s.spec.ports.map((p: Json) => [p.name, p.port, p.targetPort]), gateway ? [['http', 8080, 'http'], ['grpc', 8081, 'grpc']] : [['http', 8080, 'http']], `Service ${s.metadata.name} ports`)
    if (gateway) t.equal(s.spec.ports[1].appProtocol, 'grpc', `Service ${s.metadata.name}: gRPC port says its protocol`)
  }
  const hpa = byKind('HorizontalPodAutoscaler')[0]!
  t.equal(hpa.spec.scaleTargetRef.name, 'fairgate')
  t.ok(hpa.spec.minReplicas >= 2 && hpa.spec.maxReplicas > hpa.spec.minReplicas, 'HPA keeps at least 2 gateways')
  const pdb = byKind('PodDisruptionBudget')[0]!
  t.same(pdb.spec.selector.matchLabels, deployments.find(d => d.metadata.name === 'fairgate')!.spec.selector.matchLabels, 'PDB selects the gateway')
  t.ok(pdb.spec.minAvailable < hpa.spec.minReplicas, 'PDB allows one disruption at the HPA minimum')

  // compose runs the same image, and both the gateway and the monitor
  const services = compose.services as Record<string, Json>
  for (const s of ['gateway-1', 'gateway-2', 'monitor']) {
    t.equal(services[s]!.image, image, `compose ${s}: same image as Kubernetes`)
    t.equal(services[s]!.read_only, true, `compose ${s}: read-only`)
    t.match(String(services[s]!.user), /^[1-9]\d*:/, `compose ${s}: non-root user`)
    const container = (services[s]!.ports as string[]).map(p => p.split(':').at(-1)).sort()
    t.same(container, s === 'monitor' ? ['8080'] : ['8080', '8081'], `compose ${s}: container ports (HTTP${s === 'monitor' ? '' : ' and gRPC'})`)
  }
  const published = ['gateway-1', 'gateway-2', 'monitor'].flatMap(s => (services[s]!.ports as string[]).map(p => p.split(':')[0]))
  t.equal(new Set(published).size, published.length, 'compose publishes each host port once')
  t.same(services['monitor']!.command, ['monitor'])
  for (const s of ['kafka', 'prometheus', 'alertmanager', 'grafana']) t.ok(services[s], `compose runs ${s}`)
  t.match(services['kafka']!.environment.KAFKA_PROCESS_ROLES, /controller/, 'Kafka in KRaft mode')
  t.equal(services['gateway-1']!.environment.FAIRGATE_KAFKA_BROKERS, 'kafka:9092')
})

t.test('ConfigMaps validate against the config and policy schemas', async t => {
  const [config, policies] = ['fairgate-config', 'fairgate-policies'].map(n => byKind('ConfigMap').find(c => c.metadata.name === n)!)
  const cfg = validateConfig(parseYaml(config!.data['fairgate.yaml']))
  t.equal(cfg.http.port, 8080)
  t.equal(cfg.grpc.port, 8081, 'the gRPC port in the ConfigMap is the published one')
  t.equal(cfg.models.dir, '/app/models', 'models where the Dockerfile copies them')
  const files = Object.keys(policies!.data)
  t.ok(files.length >= 1 && files.every(f => f.endsWith('.yaml')), `policies: ${files.join(', ')}`)
  // The policy schema belongs to the policy work; use it when present.
  let schema: { safeParse: (v: unknown) => { success: boolean, error?: unknown } } | undefined
  try { schema = (await import('../../src/policy/schema.js')).policySchema } catch {}
  for (const f of files) {
    const doc = parseYaml(policies!.data[f]) as Json
    t.equal(doc.model, 'income', `${f} names the bundled model`)
    if (schema !== undefined) {
      const r = schema.safeParse(doc)
      t.ok(r.success, `${f} validates against src/policy/schema.ts`, { error: r.error })
    }
  }
})

t.test('Alertmanager routes pages to the pager webhook', async t => {
  const am = yamlDocs.get('alertmanager/alertmanager.yml')![0]!
  const receivers = new Map((am.receivers as Json[]).map(r => [r.name, r]))
  t.equal(am.route.receiver, 'default', 'everything else goes to the default receiver')
  t.ok(receivers.has('default'))
  const page = (am.route.routes as Json[]).find(r => (r.matchers as string[]).some(m => /^severity\s*=\s*"?page"?$/.test(m)))
  t.ok(page, 'a route matches severity="page"')
  t.equal(page!.receiver, 'pager')
  t.ok(receivers.get('pager')?.webhook_configs?.[0]?.url, 'the pager is a webhook')
  t.not(page!.continue, true, 'pages stop at the pager')
  // The fairness alerts are the ones that page.
  const alerts = yamlDocs.get('prometheus/rules/fairgate-alerts.yml')![0]!.groups.flatMap((g: Json) => g.rules) as Json[]
  const gap = alerts.find(a => a.alert === 'FairgateFairnessGapHigh')!
  t.equal(gap.labels.severity, 'page')
  t.equal(alerts.find(a => a.alert === 'FairgateFairnessDrift')!.labels.severity, 'warning')
  for (const a of alerts) t.match(a.labels.severity, /^(page|warning|info)$/, `${a.alert as string}: severity`)
  // Prometheus sends to Alertmanager and scrapes what the rules expect.
  const prom = yamlDocs.get('prometheus/prometheus.yml')![0]!
  t.same((prom.scrape_configs as Json[]).map(j => j.job_name).filter((j: string) => j.startsWith('fairgate')), ['fairgate', 'fairgate-monitor'], 'jobs the rules name')
  t.ok(prom.alerting.alertmanagers[0].static_configs[0].targets[0].startsWith('alertmanager:'), 'Prometheus sends to compose\'s alertmanager')
  const k8sProm = yamlDocs.get('prometheus/prometheus-k8s.yml')![0]!
  t.same((k8sProm.scrape_configs as Json[]).map(j => j.job_name), ['fairgate', 'fairgate-monitor'], 'Kubernetes Prometheus has the same job names')
})

t.test('every metric queried is one the gateway exposes', async t => {
  // What a real gateway exposes, after one prediction (the TYPE lines list every series,
  // with or without samples).
  const { app } = await startGateway()
  t.teardown(async () => { await app.close() })
  const r = await app.inject({ method: 'POST', url: '/v1/predict', payload: { model: 'income', features: new Array(112).fill(0), group: { sex: 'Female' } } })
  t.equal(r.statusCode, 200)
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body
  const exposed = new Set<string>()
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    exposed.add(m[1]!)
    if (m[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) exposed.add(m[1]! + s)
  }
  for (const name of ['fairgate_group_selection_rate', 'fairgate_fairness_gap', 'fairgate_drift', 'fairgate_group_samples', 'fairgate_group_latency_p95_seconds']) t.ok(exposed.has(name), `the gateway exposes ${name}`)

  const rules = ['prometheus/rules/fairgate-recording.yml', 'prometheus/rules/fairgate-alerts.yml'].flatMap(f => yamlDocs.get(f)![0]!.groups.flatMap((g: Json) => g.rules) as Json[])
  const recorded = new Set(rules.filter(r => r.record !== undefined).map(r => r.record as string))
  const exprs: Array<[string, string]> = rules.map(r => [`rule ${(r.record ?? r.alert) as string}`, r.expr as string])
  const walk = (panels: Json[]): void => {
    for (const p of panels) {
      for (const tg of (p.targets ?? []) as Json[]) exprs.push([`panel "${p.title as string}"`, tg.expr])
      walk((p.panels ?? []) as Json[])
    }
  }
  walk(grafana.panels as Json[])
  for (const a of grafana.annotations.list as Json[]) exprs.push([`annotation "${a.name as string}"`, a.expr])
  for (const v of grafana.templating.list as Json[]) if (typeof v.definition === 'string') exprs.push([`variable ${v.name as string}`, v.definition])
  t.ok(exprs.length > 30, `${exprs.length} expressions`)

  const unknown: string[] = []
  const used = new Set<string>()
  for (const [where, expr] of exprs) {
    // raw series: fairgate_* not part of a recording rule name (level:metric:operation)
    for (const m of expr.matchAll(/(?<![\w:])(fairgate_[A-Za-z0-9_]+)(?![\w:])/g)) {
      used.add(m[1]!)
      if (!exposed.has(m[1]!)) unknown.push(`${where}: ${m[1]!}`)
    }
    for (const m of expr.matchAll(/(?<![\w:])([a-z_]+:[A-Za-z0-9_]+:[A-Za-z0-9_]+)/g)) {
      if (!recorded.has(m[1]!)) unknown.push(`${where}: recording rule ${m[1]!} is not defined`)
    }
  }
  t.same(unknown, [], 'no query names a series that does not exist')
  for (const name of ['fairgate_requests_total', 'fairgate_request_duration_seconds_bucket', 'fairgate_active_variant', 'fairgate_fairness_gap', 'fairgate_drift', 'fairgate_events_total', 'fairgate_event_buffer', 'fairgate_batch_size_bucket', 'fairgate_group_selection_rate', 'fairgate_group_latency_p95_seconds', 'fairgate_policy_actions_total', 'fairgate_policy_writer']) {
    t.ok(used.has(name), `${name} is used by a rule or the dashboard`)
  }
  // The fairness alerts read the writer's series only (issue 17): never one replica's share.
  for (const name of ['FairgateFairnessGapHigh', 'FairgateFairnessDrift', 'FairgateGroupLatencyGap']) {
    t.match(rules.find(r => r.alert === name)!.expr, /and on \(job, instance, model\) \(fairgate_policy_writer == 1\)/, `${name} reads only the writer's series`)
  }
  t.match(text, /^fairgate_policy_writer\{model="income"\} 1$/m, 'a gateway alone (no Kafka) is the writer')
  t.ok(/le="0\.05"/.test(rules.find(r => r.record === 'model:fairgate_slo_errors:ratio_rate5m')!.expr), 'the SLO reads the 50 ms bucket')
  t.match(text, /fairgate_request_duration_seconds_bucket\{le="0\.05"/, 'which the histogram has')
})

// The configuration a container really runs with: the ConfigMap's fairgate.yaml (defaults filled
// in) overridden by the container's literal FAIRGATE_* env entries, through the same loader as
// `fairgate serve`. Entries from a secret or the downward API get a placeholder.
function effectiveConfig (container: Json): Config {
  const yaml = byKind('ConfigMap').find(c => c.metadata.name === 'fairgate-config')!.data['fairgate.yaml'] as string
  const dir = mkdtempSync(join(tmpdir(), 'fairgate-manifests-'))
  try {
    const file = join(dir, 'fairgate.yaml')
    writeFileSync(file, yaml)
    const env: Record<string, string> = {}
    for (const e of container.env as Json[]) if (e.name !== 'FAIRGATE_CONFIG') env[e.name] = e.value ?? 'from-cluster'
    return loadConfig({ file, env })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
const deployment = (name: string): Json => byKind('Deployment').find(d => d.metadata.name === name)!

t.test('kubectl apply -k does not overwrite the operator\'s admin token', async t => {
  t.notOk(k8s.some(d => d.doc.kind === 'Secret'), 'no Secret among the kustomization\'s resources')
  const kustomization = yamlDocs.get('k8s/kustomization.yaml')![0]!
  for (const key of ['secretGenerator', 'generators', 'patches']) t.equal(kustomization[key], undefined, `kustomization has no ${key}`)
  const example = yamlDocs.get('examples/admin-secret.example.yaml')![0]!
  t.equal(example.kind, 'Secret', 'the Secret ships as an example, outside deploy/k8s')
  const ref = (deployment('fairgate').spec.template.spec.containers[0].env as Json[]).find(e => e.name === 'FAIRGATE_ADMIN_TOKEN')!.valueFrom.secretKeyRef
  t.same([ref.name, Object.keys(example.stringData)], [example.metadata.name, [ref.key]], 'the gateway reads the example\'s name and key')
  const ops = readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8')
  t.match(ops, /kubectl -n fairgate create secret generic fairgate-admin --from-literal=token=/, 'docs/operations.md says how to create it')
})

t.test('terminationGracePeriodSeconds covers preStop + drain + flush + a margin', async t => {
  const MARGIN_S = 5
  const gw = deployment('fairgate').spec.template.spec
  const c = gw.containers[0]
  const preStop = c.lifecycle.preStop.sleep.seconds as number
  const cfg = effectiveConfig(c)
  const need = preStop + (cfg.shutdown.drain_timeout_ms + cfg.events.flush_timeout_ms) / 1000 + MARGIN_S
  t.ok(gw.terminationGracePeriodSeconds >= need, `gateway: grace ${gw.terminationGracePeriodSeconds as number} s >= preStop ${preStop} + drain ${cfg.shutdown.drain_timeout_ms / 1000} + flush ${cfg.events.flush_timeout_ms / 1000} + margin ${MARGIN_S} = ${need} s`)
  // The same rule holds with the schema's defaults, should an operator drop the keys from the ConfigMap.
  const d = configSchema.parse({})
  t.ok(gw.terminationGracePeriodSeconds >= preStop + (d.shutdown.drain_timeout_ms + d.events.flush_timeout_ms) / 1000 + MARGIN_S, 'and with the config defaults')
  const mon = deployment('fairgate-monitor').spec.template.spec
  const mcfg = effectiveConfig(mon.containers[0])
  t.ok(mon.terminationGracePeriodSeconds >= mcfg.events.flush_timeout_ms / 1000 + MARGIN_S, 'monitor: grace covers its decision flush + margin')
  const ops = readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8')
  t.match(ops, /terminationGracePeriodSeconds.{0,20}≥.{0,40}preStop.{0,80}shutdown\.drain_timeout_ms.{0,40}events\.flush_timeout_ms.{0,40}margin/s, 'docs/operations.md states the rule')
})

t.test('the minimum Kubernetes version is stated where preStop.sleep is used', async t => {
  t.ok(byKind('Deployment').some(d => d.spec.template.spec.containers.some((c: Json) => c.lifecycle?.preStop?.sleep !== undefined)), 'a preStop sleep handler is used')
  const kustomization = readFileSync(join(DEPLOY, 'k8s', 'kustomization.yaml'), 'utf8')
  t.match(kustomization, /Kubernetes 1\.30/, 'kustomization.yaml states it')
  t.match(readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8'), /Kubernetes 1\.30 or later/, 'docs/operations.md states it')
})

t.test('the monitor mounts the policies it evaluates; the gateways do not evaluate them', async t => {
  const mon = deployment('fairgate-monitor').spec.template.spec
  const mc = mon.containers[0]
  const mcfg = effectiveConfig(mc)
  t.equal(mcfg.policy.evaluate, true, 'the monitor runs the policy engine')
  const workdir = [...dockerfile.matchAll(/^WORKDIR (\S+)$/gm)].at(-1)![1]!
  const policyDir = mcfg.policy.dir.startsWith('/') ? mcfg.policy.dir : join(workdir, mcfg.policy.dir)
  const mount = (mc.volumeMounts as Json[]).find(m => m.mountPath === policyDir)
  t.ok(mount, `the monitor mounts its policy.dir (${mcfg.policy.dir}, under WORKDIR ${workdir})`)
  const vol = (mon.volumes as Json[]).find(v => v.name === mount?.name)
  t.equal(vol?.configMap?.name, 'fairgate-policies', 'from the fairgate-policies ConfigMap')
  const gw = deployment('fairgate').spec.template.spec
  t.equal(effectiveConfig(gw.containers[0]).policy.evaluate, false, 'Kubernetes gateways: policy.evaluate false')
  t.equal((gw.volumes as Json[]).find(v => v.name === 'policies')?.configMap?.name, 'fairgate-policies', 'the gateways route by the same policies')
  // compose: the same split
  const services = compose.services as Record<string, Json>
  t.ok(services['monitor'], 'compose runs the monitor')
  for (const s of ['gateway-1', 'gateway-2']) t.equal(String(services[s]!.environment.FAIRGATE_POLICY_EVALUATE), 'false', `compose ${s}: FAIRGATE_POLICY_EVALUATE=false`)
  t.not(String(services['monitor']!.environment.FAIRGATE_POLICY_EVALUATE), 'false', 'compose monitor evaluates')
  t.ok((services['monitor']!.volumes as string[]).some(v => /:\/app\/policies(:ro)?$/.test(v)), 'compose monitor mounts the policies')
  // The ConfigMap's policy is the repository's, so the rules deployed are the ones tested.
  const cmPolicies = byKind('ConfigMap').find(c => c.metadata.name === 'fairgate-policies')!.data as Record<string, string>
  for (const [f, text] of Object.entries(cmPolicies)) t.same(parseYaml(text), parseYaml(readFileSync(join(ROOT, 'policies', f), 'utf8')), `fairgate-policies ${f} = policies/${f}`)
})
