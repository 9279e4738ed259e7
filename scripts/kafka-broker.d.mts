// Types for scripts/kafka-broker.mjs, so TypeScript tests can
//   import { startBroker } from '../scripts/kafka-broker.mjs'
// under "strict" without TS7016 (no declaration file).

export declare const DEFAULT_KAFKA_VERSION: string

export interface StartBrokerOptions {
  /** Kafka 4.x version (default FAIRGATE_KAFKA_VERSION or DEFAULT_KAFKA_VERSION). */
  version?: string
  /** Client (PLAINTEXT) port; default: a free port. */
  port?: number
  /** KRaft controller port; default: a free port. */
  controllerPort?: number
  /** Keep the temp dir (data + logs) on stop(); default FAIRGATE_KAFKA_KEEP === '1'. */
  keep?: boolean
  /** auto.create.topics.enable; default false. */
  autoCreateTopics?: boolean
  /** Extra or overriding server.properties entries. */
  serverProperties?: Record<string, string | number | boolean>
  /** -Xmx value; default '512m'. */
  heap?: string
  /** Extra JVM args (appended after the defaults, so they win). */
  jvmArgs?: string[]
  /** Use/build the AppCDS archive; default FAIRGATE_KAFKA_CDS !== '0'. */
  cds?: boolean
  /** Readiness timeout for each start()/restart(); default 60000. */
  startTimeoutMs?: number
  /** SIGTERM grace before SIGKILL; default 30000. */
  stopTimeoutMs?: number
  /** No progress lines on stderr. */
  quiet?: boolean
}

export interface KafkaBroker {
  /** '127.0.0.1:<port>' — use as `brokers: [broker.brokers]`. */
  readonly brokers: string
  readonly host: string
  readonly port: number
  readonly controllerPort: number
  readonly clusterId: string
  readonly version: string
  /** Temp root: server.properties, log4j2.properties, data/, logs/. */
  readonly dir: string
  /** Kafka's log.dirs (partition data). */
  readonly logDir: string
  /** The broker's own log file. */
  readonly logFile: string
  /** JVM pid, or null while stopped. */
  readonly pid: number | null
  readonly running: boolean
  /** (Re)launch on the same port, config and data (no reformat); resolves when ready. No-op if running. */
  start(): Promise<void>
  /** Graceful stop (SIGTERM, SIGKILL after stopTimeoutMs); keeps data so start() resumes. */
  shutdown(): Promise<void>
  /** Crash stop (SIGKILL); keeps data so start() resumes (log recovery). */
  kill(): Promise<void>
  /** shutdown(), stay down downMs, start(). */
  restart(opts?: { downMs?: number }): Promise<void>
  /** Final: shutdown() and remove the temp dir unless keep. Idempotent. */
  stop(opts?: { keep?: boolean }): Promise<void>
  /** Last `lines` lines of the broker log. */
  logTail(lines?: number): Promise<string>
}

export declare function startBroker(opts?: StartBrokerOptions): Promise<KafkaBroker>
/** Resolve the broker jars into the cache (runs mvn if needed); returns the libs dir. */
export declare function ensureJars(opts?: { version?: string; quiet?: boolean }): Promise<string>
/** Cache dir for a version: FAIRGATE_KAFKA_CACHE or ~/.cache/fairgate/kafka-<version>. */
export declare function cacheDir(version?: string): string
