#!/usr/bin/env node
// scripts/kafka-broker.mjs — a real, throw-away, single-node Apache Kafka broker for tests.
//
// WHY this exists: fairgate talks to Kafka through kafkajs, and mocks cannot tell us
// whether kafkajs' protocol choices (API versions, idempotent producer, consumer-group
// protocol, ListOffsets-by-timestamp) still work against a modern broker, nor how the
// client behaves across a broker outage. So the tests run against the real thing.
//
// WHY Maven jars instead of the Kafka tarball or Docker: CI has no Docker and can only
// reach package registries (Maven Central among them). The broker is just a JVM
// program, so `kafka_2.13` + its runtime dependency closure from Maven Central is the
// same code as the tarball's libs/ directory. scripts/kafka/pom.xml pins it.
//
// Broker shape: KRaft, one JVM that is both broker and controller (process.roles=
// broker,controller), node.id=1, a static one-voter quorum, everything on 127.0.0.1,
// replication factors 1, data in a fresh temp dir. No ZooKeeper (gone in 4.x).
//
// Usage as a library (plain ESM; TS tests get types from kafka-broker.d.mts):
//   import { startBroker } from '../scripts/kafka-broker.mjs'
//   const kafka = await startBroker()          // ~4-5 s warm on 2 cores
//   kafka.brokers                              // '127.0.0.1:<port>'
//   await kafka.shutdown(); await sleep(10_000); await kafka.start()   // outage, data kept
//   await kafka.stop()                         // final: stop + delete temp dir
//
// Usage as a CLI:
//   node scripts/kafka-broker.mjs fetch               # resolve jars into the cache only
//   node scripts/kafka-broker.mjs run -- tap          # broker around a command (npm test)
//   node scripts/kafka-broker.mjs start               # foreground broker for manual poking
//
// Environment:
//   FAIRGATE_KAFKA_VERSION  Kafka 4.x version to use (default below)
//   FAIRGATE_KAFKA_CACHE    jar cache dir (default ~/.cache/fairgate/kafka-<version>)
//   FAIRGATE_KAFKA_KEEP=1   keep the broker temp dir (data + logs) after stop
//   KAFKA_BROKERS           `run` only: if set, no broker is started (use an external one)
//   JAVA_HOME               java to use (else `java` on PATH); Kafka 4.x needs Java 17+

import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

// 4.1.1: newest 4.x patch release at the time this was written that is proven here
// with kafkajs 2.2.4 (see scripts/kafka-smoke.mjs). Override with FAIRGATE_KAFKA_VERSION
// for another 4.x (3.x would need a different logging binding in the pom).
export const DEFAULT_KAFKA_VERSION = '4.1.1'

const SCRIPTS_DIR = path.dirname(fileURLToPath(import.meta.url))
const POM = path.join(SCRIPTS_DIR, 'kafka', 'pom.xml')
const MARKER = '.fairgate-complete'
const TAG = '[kafka-broker]'

// WHY these JVM flags: on a 2-core CI box the broker JVM competes with tsc and tap, and
// measured with /proc CPU time a plain start costs ~7 s of CPU, most of it class loading
// (Scala + Kafka, ~8k classes) and C2 JIT compilation. Two cheap fixes, measured together
// at ~2.4 s CPU per start (≈65% less), each start and restart:
//  - C1 only (TieredStopAtLevel=1): the test broker never handles enough traffic for C2's
//    faster code to pay back its compile time.
//  - AppCDS (see cdsPlan): classes are mapped from an archive built on the first run.
// IgnoreUnrecognizedVMOptions: a non-HotSpot JVM should still start, just slower.
const FAST_START_JVM_ARGS = ['-XX:+IgnoreUnrecognizedVMOptions', '-XX:TieredStopAtLevel=1', '-Xshare:auto']

const log = (...args) => console.error(TAG, ...args)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// ---------------------------------------------------------------------------------
// Jars
// ---------------------------------------------------------------------------------

/** Cache dir for a version. Outside the repo so `git clean` and fresh clones reuse it. */
export function cacheDir(version = kafkaVersion()) {
  return process.env.FAIRGATE_KAFKA_CACHE || path.join(os.homedir(), '.cache', 'fairgate', `kafka-${version}`)
}

function kafkaVersion() {
  return process.env.FAIRGATE_KAFKA_VERSION || DEFAULT_KAFKA_VERSION
}

/**
 * Make sure the broker jars are in the cache; returns the libs dir (for `-cp libs/*`).
 *
 * WHY the marker + rename dance: a cache dir half-filled by an interrupted mvn run
 * would give a broker that dies with ClassNotFoundException much later. So mvn copies
 * into a private temp dir, we write a marker (version + pom hash) into it, and only
 * then rename it to `libs`. rename() is atomic, so concurrent callers (parallel tap
 * workers, two CI jobs) either see a complete `libs` or none; the loser of the rename
 * race just throws its copy away. The pom hash in the marker means editing the pom
 * (say, the log4j binding) invalidates the cache without bumping the version.
 */
export async function ensureJars({ version = kafkaVersion(), quiet = false } = {}) {
  const cache = cacheDir(version)
  const libs = path.join(cache, 'libs')
  const want = { version, pom: sha256(await fsp.readFile(POM)) }
  if (await markerMatches(libs, want)) return libs

  await fsp.mkdir(cache, { recursive: true })
  const tmp = await fsp.mkdtemp(path.join(cache, 'libs.tmp-'))
  const t0 = Date.now()
  if (!quiet) log(`fetching Kafka ${version} jars from Maven Central into ${libs} ...`)
  try {
    // -B: batch mode (no TTY in CI, no colour codes); -q: only errors. Default ~/.m2
    // is used on purpose, so a second project/cache dir reuses the downloads.
    const mvnArgs = [
      '-B', '-q', '-f', POM,
      `-Dkafka.version=${version}`,
      'dependency:copy-dependencies',
      `-DoutputDirectory=${tmp}`,
      '-DincludeScope=runtime',
    ]
    const { code, output } = await runCaptured('mvn', mvnArgs)
    if (code !== 0) {
      throw new Error(`mvn ${mvnArgs.join(' ')} failed (exit ${code}):\n${output.slice(-8000)}`)
    }
    const jars = (await fsp.readdir(tmp)).filter((f) => f.endsWith('.jar'))
    if (!jars.includes(`kafka_2.13-${version}.jar`)) {
      throw new Error(`mvn succeeded but ${tmp} has no kafka_2.13-${version}.jar (got: ${jars.join(', ')})`)
    }
    await fsp.writeFile(path.join(tmp, MARKER), JSON.stringify({ ...want, jars: jars.sort() }, null, 2) + '\n')
    // A stale/foreign libs dir (wrong marker) must go before the rename can succeed.
    if (!(await markerMatches(libs, want))) await fsp.rm(libs, { recursive: true, force: true })
    try {
      await fsp.rename(tmp, libs)
    } catch (err) {
      // Someone else won the race with an equally good copy: use theirs.
      if (!(await markerMatches(libs, want))) throw err
    }
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true })
  }
  if (!quiet) log(`jars ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  return libs
}

async function markerMatches(libs, want) {
  try {
    const m = JSON.parse(await fsp.readFile(path.join(libs, MARKER), 'utf8'))
    return m.version === want.version && m.pom === want.pom
  } catch {
    return false
  }
}

function sha256(buf) {
  return createHash('sha256').update(buf).digest('hex')
}

/** Run a command, capture stdout+stderr together; resolve with exit code (never rejects on exit != 0). */
function runCaptured(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts })
    let output = ''
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    child.on('error', (err) =>
      reject(err.code === 'ENOENT' ? new Error(`\`${cmd}\` not found on PATH (needed to run the Kafka broker)`) : err))
    child.on('close', (code, signal) => resolve({ code: code ?? 128, signal, output }))
  })
}

function javaBin() {
  return process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java'
}

/** Absolute path of the java binary (PATH lookup), or null. */
function resolveJava() {
  const bin = javaBin()
  const candidates = path.isAbsolute(bin)
    ? [bin]
    : (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((d) => path.join(d, bin))
  for (const c of candidates) {
    try {
      fs.accessSync(c, fs.constants.X_OK)
      return fs.realpathSync(c)
    } catch {}
  }
  return null
}

/**
 * AppCDS (class-data sharing) for the broker JVM. WHY: see FAST_START_JVM_ARGS.
 *
 * Java 17 has no -XX:+AutoCreateSharedArchive (that is JDK 19+), so we do it by hand:
 * the first broker started without an archive runs with -XX:ArchiveClassesAtExit, which
 * dumps every loaded class when the JVM exits normally (SIGTERM counts; SIGKILL does not,
 * then the next start just tries again). Later JVMs map it with -XX:SharedArchiveFile.
 * Safety:
 *  - The archive lives inside libs/.cds/, so re-fetching jars (which replaces libs/)
 *    drops it; the JVM itself also refuses (with a warning, never an error, under
 *    -Xshare:auto) an archive whose JDK build or classpath jars do not match.
 *  - It is keyed by the java binary (realpath + mtime + size) so a JDK switch/upgrade
 *    builds a new one instead of silently losing the speed-up.
 *  - Dumped to a private temp name and renamed into place by us after the JVM exits,
 *    so a concurrent JVM never maps a half-written archive; a lock file makes sure only
 *    one JVM at a time pays the dump cost (~1-2 s at its exit).
 * Opt out with FAIRGATE_KAFKA_CDS=0 or startBroker({ cds: false }).
 */
function cdsArchivePath(libs) {
  const java = resolveJava()
  if (!java) return null
  const st = fs.statSync(java)
  const key = sha256(`${java}|${st.mtimeMs}|${st.size}`).slice(0, 16)
  return path.join(libs, '.cds', `${key}.jsa`)
}

/** `-XX:SharedArchiveFile=...` if the archive exists, else nothing (never builds one). */
function cdsUseArgs(libs) {
  const jsa = cdsArchivePath(libs)
  return jsa && fs.existsSync(jsa) ? [`-XX:SharedArchiveFile=${jsa}`] : []
}

const cdsLocksHeld = new Set() // removed synchronously by the exit hook if Node dies first

async function cdsPlan(libs) {
  const none = { args: [], finish: async () => {} }
  const jsa = cdsArchivePath(libs)
  if (!jsa) return none
  if (fs.existsSync(jsa)) return { args: [`-XX:SharedArchiveFile=${jsa}`], finish: none.finish }
  await fsp.mkdir(path.dirname(jsa), { recursive: true })
  const lock = `${jsa}.lock`
  const takeLock = async () => {
    try {
      await (await fsp.open(lock, 'wx')).close()
      return true
    } catch {
      return false
    }
  }
  if (!(await takeLock())) {
    // Another JVM is building it — unless that lock was left by a crash long ago.
    const age = await fsp.stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0)
    if (age < 10 * 60_000) return none
    await fsp.rm(lock, { force: true })
    if (!(await takeLock())) return none
  }
  const tmp = `${jsa}.tmp-${process.pid}-${Date.now()}`
  cdsLocksHeld.add(lock)
  return {
    args: [`-XX:ArchiveClassesAtExit=${tmp}`],
    finish: async () => {
      try {
        if ((await fsp.stat(tmp)).size > 0) await fsp.rename(tmp, jsa)
      } catch {}
      await fsp.rm(tmp, { force: true })
      await fsp.rm(lock, { force: true })
      cdsLocksHeld.delete(lock)
    },
  }
}

// ---------------------------------------------------------------------------------
// Broker
// ---------------------------------------------------------------------------------

/** A port the OS considers free right now. Both servers stay open until both ports are
 *  picked so the broker and controller ports can never collide with each other. */
async function freePorts(n) {
  const servers = []
  try {
    for (let i = 0; i < n; i++) {
      const s = net.createServer()
      s.listen(0, '127.0.0.1')
      await once(s, 'listening')
      servers.push(s)
    }
    return servers.map((s) => s.address().port)
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))))
  }
}

/** Kafka cluster ids are 16 random bytes, base64url without padding (org.apache.kafka.common.Uuid).
 *  Generated here rather than with `StorageTool random-uuid` to save a ~1 s JVM start.
 *  Kafka's own generator re-rolls ids starting with '-' (they look like CLI flags); so do we. */
function randomClusterId() {
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) return id
  }
}

/** Every child JVM we started, so a dying Node process does not leave brokers behind. */
const liveChildren = new Set()
let exitHookInstalled = false
function installExitHook() {
  if (exitHookInstalled) return
  exitHookInstalled = true
  // 'exit' handlers must be synchronous: SIGKILL is the only thing we can do there.
  // (If Node itself is SIGKILLed nothing runs; the broker then lingers until killed.)
  process.on('exit', () => {
    for (const child of liveChildren) {
      try { child.kill('SIGKILL') } catch {}
    }
    for (const lock of cdsLocksHeld) {
      try { fs.rmSync(lock, { force: true }) } catch {}
    }
  })
}

function serverProperties({ port, controllerPort, dataDir, autoCreateTopics, overrides }) {
  const props = {
    // --- KRaft combined mode, single voter -----------------------------------
    // Static voter list (controller.quorum.voters) rather than the dynamic quorum
    // (controller.quorum.bootstrap.servers + `format --standalone`): for one fixed
    // node it is simpler and restarts on the same ports trivially.
    'process.roles': 'broker,controller',
    'node.id': '1',
    'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
    'listeners': `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': dataDir,
    // --- one broker: every internal topic must accept RF=1 --------------------
    'offsets.topic.replication.factor': '1',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'share.coordinator.state.topic.replication.factor': '1',
    'share.coordinator.state.topic.min.isr': '1',
    // Internal topics default to 50 partitions; creating 50 segment dirs on the first
    // consumer group join costs seconds on a 2-core CI box and buys nothing here.
    'offsets.topic.num.partitions': '1',
    'transaction.state.log.num.partitions': '1',
    'share.coordinator.state.topic.num.partitions': '1',
    // --- test speed -----------------------------------------------------------
    // Default 3 s delay before the first rebalance would be added to every test
    // that starts a consumer group.
    'group.initial.rebalance.delay.ms': '0',
    // After a crash (kill()) the restarted broker cannot re-register until the
    // controller has fenced its previous incarnation, i.e. until that session times out
    // (default 9 s, measured: SIGKILL → ready took 15-16 s). 4 s / 1 s heartbeat keeps
    // a generous margin for a busy CI box while halving that wait.
    'broker.session.timeout.ms': '4000',
    'broker.heartbeat.interval.ms': '1000',
    'num.partitions': '1',
    // Off by default: tests must create their topics explicitly (as fairgate must do
    // in production, where auto-creation is normally disabled), so a missing
    // createTopics call fails loudly instead of silently getting a 1-partition topic.
    'auto.create.topics.enable': autoCreateTopics ? 'true' : 'false',
    ...overrides,
  }
  return Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n') + '\n'
}

function log4j2Properties(logFile, level = 'INFO') {
  // WHY a file: the broker logs ~200 INFO lines at start and more at every topic
  // creation; on stdout they would drown the tap output. The tail of this file is
  // attached to any startup error instead. `immediateFlush` so the tail is current.
  return [
    'status = warn',
    'appender.file.type = File',
    'appender.file.name = FILE',
    `appender.file.fileName = ${logFile}`,
    'appender.file.append = true',
    'appender.file.immediateFlush = true',
    'appender.file.layout.type = PatternLayout',
    'appender.file.layout.pattern = [%d] %p %m (%c)%n',
    `rootLogger.level = ${level}`,
    'rootLogger.appenderRef.file.ref = FILE',
    // The same noise reductions as Kafka's own config/log4j2.yaml.
    'logger.zk.name = org.apache.zookeeper',
    'logger.zk.level = WARN',
    'logger.reqlog.name = kafka.request.logger',
    'logger.reqlog.level = WARN',
    'logger.cleaner.name = kafka.log.LogCleaner',
    'logger.cleaner.level = INFO',
    '',
  ].join('\n')
}

async function tail(file, lines) {
  try {
    const text = await fsp.readFile(file, 'utf8')
    return text.split('\n').slice(-lines - 1).join('\n')
  } catch {
    return `(no ${path.basename(file)})`
  }
}

/**
 * Start a fresh single-node Kafka broker (KRaft, broker+controller in one JVM).
 *
 * @param {object}  [opts]
 * @param {string}  [opts.version]          Kafka version (default FAIRGATE_KAFKA_VERSION or 4.1.1)
 * @param {number}  [opts.port]             client port (default: a free one)
 * @param {number}  [opts.controllerPort]   KRaft controller port (default: a free one)
 * @param {boolean} [opts.keep]             keep the temp dir on stop() (default FAIRGATE_KAFKA_KEEP=1)
 * @param {boolean} [opts.autoCreateTopics] auto.create.topics.enable (default false)
 * @param {Record<string,string|number|boolean>} [opts.serverProperties] extra/overriding broker configs
 * @param {string}  [opts.heap]             -Xmx (default '512m')
 * @param {string[]} [opts.jvmArgs]         extra JVM args (after the defaults, so they win)
 * @param {boolean} [opts.cds]              use/build the AppCDS archive (default FAIRGATE_KAFKA_CDS !== '0')
 * @param {number}  [opts.startTimeoutMs]   readiness timeout per (re)start (default 60000)
 * @param {number}  [opts.stopTimeoutMs]    SIGTERM grace before SIGKILL (default 30000)
 * @param {boolean} [opts.quiet]            no progress lines on stderr
 */
export async function startBroker(opts = {}) {
  const version = opts.version ?? kafkaVersion()
  const quiet = opts.quiet ?? false
  const keep = opts.keep ?? process.env.FAIRGATE_KAFKA_KEEP === '1'
  const startTimeoutMs = opts.startTimeoutMs ?? 60_000
  const stopTimeoutMs = opts.stopTimeoutMs ?? 30_000
  const libs = await ensureJars({ version, quiet })

  let [port, controllerPort] = [opts.port, opts.controllerPort]
  if (!port || !controllerPort) {
    const free = await freePorts(3)
    port ??= free.find((p) => p !== controllerPort)
    controllerPort ??= free.find((p) => p !== port)
  }

  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'fairgate-kafka-'))
  const dataDir = path.join(dir, 'data')
  const logsDir = path.join(dir, 'logs')
  const logFile = path.join(logsDir, 'server.log')
  const stdoutFile = path.join(logsDir, 'stdout.log')
  const propsFile = path.join(dir, 'server.properties')
  const log4jFile = path.join(dir, 'log4j2.properties')
  const toolLog4jFile = path.join(dir, 'log4j2-tools.properties')
  await fsp.mkdir(logsDir, { recursive: true })
  await fsp.writeFile(propsFile, serverProperties({
    port, controllerPort, dataDir,
    autoCreateTopics: opts.autoCreateTopics ?? false,
    overrides: opts.serverProperties ?? {},
  }))
  await fsp.writeFile(log4jFile, log4j2Properties(logFile))
  // The storage tool dumps the whole broker config at INFO; keep that out of server.log.
  await fsp.writeFile(toolLog4jFile, log4j2Properties(path.join(logsDir, 'tools.log'), 'WARN'))
  const useCds = opts.cds ?? process.env.FAIRGATE_KAFKA_CDS !== '0'

  const classpath = `${libs}${path.sep}*` // the JVM expands `dir/*` to all jars; no shell involved
  const clusterId = randomClusterId()

  // Format once. start() after shutdown()/kill() must NOT reformat: that is what keeps
  // topics and committed data across the simulated outage.
  {
    const jsa = useCds ? cdsUseArgs(libs) : []
    const { code, output } = await runCaptured(javaBin(), [
      '-Xmx256m', ...FAST_START_JVM_ARGS, ...jsa, `-Dlog4j2.configurationFile=${toolLog4jFile}`,
      '-cp', classpath, 'kafka.tools.StorageTool',
      'format', '-t', clusterId, '-c', propsFile,
    ])
    if (code !== 0) throw new Error(`kafka StorageTool format failed (exit ${code}); dir kept: ${dir}\n${output}`)
  }

  const jvmArgs = [
    '-Xms128m', `-Xmx${opts.heap ?? '512m'}`,
    // Same GC settings as kafka-run-class.sh (minus the heap size the tarball picks for prod).
    '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:InitiatingHeapOccupancyPercent=35',
    '-XX:+ExplicitGCInvokesConcurrent', '-Djava.awt.headless=true',
    ...FAST_START_JVM_ARGS,
    ...(opts.jvmArgs ?? []), // after ours: later -XX flags win
    `-Dlog4j2.configurationFile=${log4jFile}`,
    `-Dkafka.logs.dir=${logsDir}`,
    '-cp', classpath, 'kafka.Kafka', propsFile,
  ]

  installExitHook()
  let child = null // the running JVM, or null
  let exited = null // promise resolving when `child` exits
  let stopped = false

  const brokers = `127.0.0.1:${port}`

  async function failureDetail() {
    return `--- ${logFile} (tail) ---\n${await tail(logFile, 60)}\n--- ${stdoutFile} (tail) ---\n${await tail(stdoutFile, 20)}`
  }

  /** (Re)launch the JVM on the existing config + data and wait until it serves metadata. */
  async function start() {
    if (stopped) throw new Error('broker was stop()ped (temp dir removed); start a new one')
    if (child) return
    const t0 = Date.now()
    // stdout/stderr go to a file, not a pipe: nobody reads a pipe during a long test
    // and a full pipe buffer would eventually block the broker.
    const cds = useCds ? await cdsPlan(libs) : { args: [], finish: async () => {} }
    const out = fs.openSync(stdoutFile, 'a')
    let c
    try {
      // CDS flags go first so opts.jvmArgs can still override them.
      c = spawn(javaBin(), [...cds.args, ...jvmArgs], { stdio: ['ignore', out, out], cwd: dir })
    } finally {
      fs.closeSync(out)
    }
    child = c
    liveChildren.add(c)
    exited = new Promise((resolve) => {
      c.on('error', (err) => resolve({ code: null, signal: null, err }))
      c.on('exit', (code, signal) => resolve({ code, signal }))
    }).then(async (r) => {
      liveChildren.delete(c)
      await cds.finish() // publish a freshly dumped CDS archive, if any
      if (child === c) child = null
      return r
    })
    try {
      await waitReady(brokers, exited, startTimeoutMs)
    } catch (err) {
      const detail = await failureDetail()
      await killChild('SIGKILL', 5_000)
      err.message = `Kafka ${version} broker on ${brokers} did not become ready: ${err.message}\n(dir kept: ${dir})\n${detail}`
      throw err
    }
    if (!quiet) log(`Kafka ${version} ready at ${brokers} in ${((Date.now() - t0) / 1000).toFixed(1)} s (pid ${c.pid}, log ${logFile})`)
  }

  /** Signal the JVM and wait for it to exit; escalate to SIGKILL after `timeoutMs`. */
  async function killChild(signal, timeoutMs) {
    const c = child
    if (!c) return
    const done = exited
    c.kill(signal)
    const timer = sleep(timeoutMs).then(() => 'timeout')
    if ((await Promise.race([done, timer])) === 'timeout') {
      if (!quiet) log(`broker pid ${c.pid} ignored ${signal} for ${timeoutMs} ms; sending SIGKILL`)
      c.kill('SIGKILL')
      await done
    }
  }

  /** Graceful stop (SIGTERM → clean shutdown, logs flushed); data dir kept so start() resumes. */
  async function shutdown() {
    await killChild('SIGTERM', stopTimeoutMs)
  }

  /** Crash-stop (SIGKILL, no clean shutdown); data dir kept. Kafka recovers the log on start(). */
  async function kill() {
    await killChild('SIGKILL', stopTimeoutMs)
  }

  /** shutdown(), optionally stay down for `downMs`, then start() on the same port and data. */
  async function restart({ downMs = 0 } = {}) {
    await shutdown()
    if (downMs > 0) await sleep(downMs)
    await start()
  }

  /** Final stop: shutdown(), then delete the temp dir unless keep. Idempotent. */
  async function stop({ keep: keepNow = keep } = {}) {
    if (stopped) return
    await shutdown()
    stopped = true
    if (keepNow) {
      if (!quiet) log(`broker stopped; kept ${dir}`)
    } else {
      await fsp.rm(dir, { recursive: true, force: true })
    }
  }

  try {
    await start()
  } catch (err) {
    stopped = true
    throw err
  }

  return {
    brokers, // 'host:port' — pass as `brokers: [handle.brokers]` to kafkajs
    host: '127.0.0.1',
    port,
    controllerPort,
    clusterId,
    version,
    dir, // temp root: server.properties, log4j2.properties, data/, logs/
    logDir: dataDir, // Kafka's log.dirs (the partition data)
    logFile, // broker's own log4j output
    get pid() { return child?.pid ?? null },
    get running() { return child !== null },
    start,
    shutdown,
    kill,
    restart,
    stop,
    logTail: (lines = 60) => tail(logFile, lines),
  }
}

/**
 * Poll until the broker answers metadata with itself registered. Uses a kafkajs admin
 * because that is the client the code under test uses: "kafkajs can describe the
 * cluster" is exactly the readiness we need. Fails fast if the JVM exits.
 */
async function waitReady(brokers, exited, timeoutMs) {
  // Lazy import: `fetch` must work before `npm ci` has installed kafkajs.
  const { Kafka, logLevel } = await import('kafkajs')
  const deadline = Date.now() + timeoutMs
  let lastErr = null
  let dead = null
  exited.then((r) => (dead = r))
  while (Date.now() < deadline) {
    if (dead) {
      const why = dead.err ? dead.err.message : `exit code ${dead.code}, signal ${dead.signal}`
      throw new Error(`JVM exited during startup (${why})`)
    }
    const admin = new Kafka({
      clientId: 'fairgate-kafka-broker-probe',
      brokers: [brokers],
      logLevel: logLevel.NOTHING, // connection-refused noise is expected while it boots
      connectionTimeout: 1_000,
      requestTimeout: 5_000,
      retry: { retries: 0 },
    }).admin()
    try {
      await admin.connect()
      const { brokers: live } = await admin.describeCluster()
      // Metadata lists only registered, unfenced brokers; empty means "still starting".
      if (live.length > 0) return
      lastErr = new Error('metadata lists no live broker yet')
    } catch (err) {
      lastErr = err
    } finally {
      await admin.disconnect().catch(() => {})
    }
    await sleep(250)
  }
  throw new Error(`timed out after ${timeoutMs} ms (last error: ${lastErr?.message ?? 'none'})`)
}

// ---------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------

const SIGNALS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 }

async function cliRun(cmdArgs) {
  if (cmdArgs.length === 0) throw new Error('usage: kafka-broker.mjs run -- <command> [args...]')
  // A single argument with spaces ("tap --reporter=dot") is treated as a shell line.
  const useShell = cmdArgs.length === 1 && /\s/.test(cmdArgs[0])

  let broker = null
  // Like `npm run`, put the repo's node_modules/.bin first on PATH, so
  // `node scripts/kafka-broker.mjs run -- tap` also works outside npm scripts.
  const binDir = path.join(SCRIPTS_DIR, '..', 'node_modules', '.bin')
  const env = { ...process.env, PATH: [binDir, process.env.PATH].filter(Boolean).join(path.delimiter) }
  if (process.env.KAFKA_BROKERS) {
    log(`KAFKA_BROKERS=${process.env.KAFKA_BROKERS} already set; not starting a broker`)
  } else {
    broker = await startBroker()
    env.KAFKA_BROKERS = broker.brokers
  }

  let child = null
  let stopping = null
  const cleanup = () => (stopping ??= broker ? broker.stop() : Promise.resolve())

  // Ctrl-C / CI cancel: pass the signal on to the command, stop the broker, and exit
  // with the conventional 128+signo. Without this the JVM would outlive `npm test`.
  for (const sig of Object.keys(SIGNALS)) {
    process.on(sig, async () => {
      log(`${sig}: stopping`)
      try { child?.kill(sig) } catch {}
      await cleanup().catch((e) => log(e.message))
      process.exit(128 + SIGNALS[sig])
    })
  }

  child = spawn(cmdArgs[0], cmdArgs.slice(1), { stdio: 'inherit', env, shell: useShell })
  const [code, signal] = await new Promise((resolve) => {
    child.on('error', (err) => {
      log(`cannot run ${cmdArgs[0]}: ${err.message}`)
      resolve([127, null])
    })
    child.on('exit', (c, s) => resolve([c, s]))
  })
  await cleanup()
  return code ?? 128 + (os.constants.signals[signal] ?? 1)
}

async function cliStart() {
  const broker = await startBroker()
  console.log(`KAFKA_BROKERS=${broker.brokers}`)
  log(`dir ${broker.dir}; Ctrl-C to stop`)
  await new Promise((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  await broker.stop()
}

async function main(argv) {
  const [cmd, ...rest] = argv
  switch (cmd) {
    case 'fetch': {
      const libs = await ensureJars()
      console.log(libs)
      return 0
    }
    case 'run':
      return cliRun(rest[0] === '--' ? rest.slice(1) : rest)
    case 'start':
      await cliStart()
      return 0
    default:
      console.error('usage: node scripts/kafka-broker.mjs fetch | start | run -- <command...>')
      return 2
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(fs.realpathSync(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      log(err.stack || err.message)
      process.exit(1)
    },
  )
}
