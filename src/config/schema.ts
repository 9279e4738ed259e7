// The one schema of fairgate's configuration: it gives the TypeScript type (Config), the
// defaults, and the validation that runs once at start. Keys are snake_case because they are
// what operators write in YAML and FAIRGATE_* variables (FAIRGATE_BATCHING_MAX_BATCH_SIZE).
import { hostname } from 'node:os'
import { z } from 'zod'

const port = z.number().int().min(0).max(65535)
const positiveInt = z.number().int().positive()
const nonNegative = z.number().min(0)

export const configSchema = z.strictObject({
  replica: z.string().min(1).default(hostname()),
  log: z.strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')
  }).prefault({}),
  http: z.strictObject({
    host: z.string().min(1).default('0.0.0.0'),
    port: port.default(8080),
    /** Larger bodies get 413 before they are parsed. */
    body_limit_bytes: positiveInt.default(1_048_576),
    /** Rows one request may carry; more is a client mistake, not a batch. */
    max_rows_per_request: positiveInt.default(1024),
    /** A gzip/deflate request body may inflate to this many bytes; more gets 413. */
    inflated_limit_bytes: positiveInt.default(4_194_304),
    /** A whole request (headers and body) must have arrived within this; a dripped body is cut (408). */
    request_timeout_ms: z.number().int().min(100).max(600_000).default(30_000),
    /** Headers must have arrived within this (≤ request_timeout_ms). */
    headers_timeout_ms: z.number().int().min(100).max(600_000).default(10_000),
    /** An idle keep-alive connection is closed after this (above a load balancer's idle timeout). */
    keep_alive_timeout_ms: z.number().int().min(100).max(600_000).default(72_000),
    /** Open connections at most; more are refused at accept. */
    max_connections: z.number().int().min(1).max(1_000_000).default(10_000)
  }).prefault({}),
  grpc: z.strictObject({
    /** KServe v2 gRPC inference service and grpc.health.v1 on this port; 0 turns gRPC off. */
    port: port.default(8081),
    host: z.string().min(1).default('0.0.0.0')
  }).prefault({}),
  models: z.strictObject({
    /** Every <dir>/<name>/model.yaml is a model. */
    dir: z.string().min(1).default('models'),
    /** Execution provider; cuda falls back to cpu with a warning where CUDA is missing. */
    execution_provider: z.enum(['cpu', 'cuda']).default('cpu'),
    /** Threads that run inference (each holds every variant); 0 runs it on the HTTP thread. */
    inference_threads: z.number().int().min(0).max(64).default(2),
    /** Niceness of the inference threads that run long batches (Linux; 0 = same as the HTTP thread). */
    inference_nice: z.number().int().min(0).max(19).default(10),
    /**
     * With inference threads: a batch expected to run this long or less (ms, measured at warm-up
     * on this thread) runs on the HTTP thread instead, skipping the hop to a thread and back
     * (the start log shows both: distilled 0.43 ms for one row on a thread, 0.09 ms here). 0 = never (CPU only).
     */
    inline_max_ms: nonNegative.default(0.25),
    intra_op_threads: positiveInt.default(1),
    inter_op_threads: positiveInt.default(1),
    warmup_runs: z.number().int().min(0).default(3),
    verify_sha256: z.boolean().default(true)
  }).prefault({}),
  batching: z.strictObject({
    max_batch_size: positiveInt.default(64),
    /** How long a partial batch may wait for company while a run slot is free. 0 = greedy. */
    max_queue_delay_ms: nonNegative.default(0),
    /** Rows waiting per variant beyond which requests get 429. */
    max_queue_rows: positiveInt.default(8192),
    /**
     * Batches of one variant running at once (each on its own inference thread). Only the first
     * may be partial: a second starts when a full batch is queued. Two partial batches at once
     * would split the same rows into smaller batches, which cost more per row (full: 109 µs per
     * row at 32, 509 at 1, models/income/latency.json) and take the core the HTTP thread needs on
     * a small machine.
     */
    max_inflight: positiveInt.default(2),
    /** Budget for requests that bring none; 0 = no deadline. */
    default_latency_budget_ms: nonNegative.default(0)
  }).prefault({}),
  events: z.strictObject({
    /** Put the encoded feature vector in each prediction event. Off: features can identify people. */
    include_features: z.boolean().default(false),
    /** Put group labels in prediction events (the monitor needs them). */
    include_groups: z.boolean().default(true),
    /** Events held while Kafka is slow or down; beyond it the oldest are dropped and counted. */
    buffer_size: positiveInt.default(100_000),
    /**
     * The same buffer bounded in bytes (ids, request ids, features, prebuilt messages): 64 MiB
     * by default, a sixteenth of a 1 GiB pod. Past it the oldest are dropped and counted too.
     */
    buffer_bytes: positiveInt.default(64 * 1024 * 1024),
    batch_size: positiveInt.default(500),
    linger_ms: nonNegative.default(50),
    send_timeout_ms: positiveInt.default(10_000),
    retry_initial_ms: positiveInt.default(100),
    retry_max_ms: positiveInt.default(5_000),
    /** How long shutdown waits for the buffer to reach Kafka. */
    flush_timeout_ms: nonNegative.default(10_000)
  }).prefault({}),
  kafka: z.strictObject({
    /** Empty: no Kafka, events only feed the in-process monitor. */
    brokers: z.array(z.string().min(1)).default([]),
    client_id: z.string().min(1).default('fairgate'),
    topic_prefix: z.string().default('fairgate.'),
    partitions: positiveInt.default(3),
    replication_factor: z.number().int().min(-1).default(-1)
  }).prefault({}),
  monitor: z.strictObject({
    /** Rolling window of the fairness statistics, made of buckets of bucket_ms. */
    window_ms: positiveInt.default(300_000),
    bucket_ms: positiveInt.default(5_000),
    /** Groups with fewer rows in the window are reported "insufficient" and left out of gaps. */
    min_samples: positiveInt.default(30),
    /** TPR needs this many labelled positives in a group, FPR this many labelled negatives. */
    min_labelled: positiveInt.default(20),
    /** Groups with fewer rows are not reported at all (small groups can identify people). */
    report_min: z.number().int().min(0).default(5),
    /** Intersectional attributes, e.g. [["sex", "race"]] adds "sex×race". */
    intersections: z.array(z.array(z.string().min(1)).min(2)).default([]),
    /** Confidence of the intervals in reports (Wilson, Newcombe). */
    confidence: z.number().gt(0).lt(1).default(0.95),
    /** Reports and per-group gauges are recomputed at most this often. */
    refresh_ms: z.number().int().min(0).default(1_000),
    /** Recent predictions remembered to join delayed feedback (labels) by prediction id. */
    feedback_store_size: positiveInt.default(200_000),
    /** Feedback later than this after its prediction is counted as late, not joined. */
    feedback_ttl_ms: positiveInt.default(3_600_000),
    /**
     * Scale out (docs/scale-out.md): monitors share one consumer group, each owns some partitions
     * and publishes their bucket summaries; each merges everyone's into the fleet's windows.
     */
    sharded: z.boolean().default(false),
    /** A sharded monitor publishes the buckets that changed this often. */
    summary_interval_ms: positiveInt.default(1_000),
    /** A partition whose summary is older than this is reported missing (the report is incomplete). */
    summary_stale_ms: positiveInt.default(15_000)
  }).prefault({}),
  policy: z.strictObject({
    /** Every <dir>/*.yaml is a policy (one per model). */
    dir: z.string().min(1).default('policies'),
    /** Run the policy engine in this process (turn off on gateways when fairgate monitor decides). */
    evaluate: z.boolean().default(true)
  }).prefault({}),
  admin: z.strictObject({
    /** Bearer token for admin endpoints; empty disables them. */
    token: z.string().default('')
  }).prefault({}),
  shutdown: z.strictObject({
    /** Longest a SIGTERM waits for queued requests to be answered. */
    drain_timeout_ms: nonNegative.default(15_000)
  }).prefault({}),
  tracing: z.strictObject({
    /**
     * OpenTelemetry traces, exported as the standard OTEL_* variables say (OTLP/HTTP by default).
     * Also on when OTEL_TRACES_EXPORTER=otlp is set; off costs nothing on the request path.
     */
    enabled: z.boolean().default(false)
  }).prefault({})
})

export type Config = z.output<typeof configSchema>
export type ConfigInput = z.input<typeof configSchema>
