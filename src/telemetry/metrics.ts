// Prometheus series named in DESIGN.md. Each gateway has its own registry (tests run several in
// one process). Hot-path series are looked up once per (model, variant) and kept as children;
// gauges that describe state (queue depth, active variant) are filled at scrape time.
import client from 'prom-client'
import type { InferJob } from '../batching/index.js'
import { HotCounter, HotHistogram, type CounterSeries, type HistogramSeries } from './hot-metrics.js'

export const LATENCY_BUCKETS = [0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.2, 0.5, 1, 2, 5]
export const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]

export type Collect = () => void

export class GatewayMetrics {
  readonly registry = new client.Registry()
  /** Counted or observed per request or per batch: hot-metrics.ts, not prom-client's own. */
  readonly requests: HotCounter
  readonly transportRequests: HotCounter
  readonly requestDuration: HotHistogram
  readonly queueDuration: HotHistogram
  readonly batchSize: HotHistogram
  readonly queueDepth: client.Gauge<'model' | 'variant'>
  readonly activeVariant: client.Gauge<'model' | 'variant'>
  readonly policyActions: client.Counter<'model' | 'rule' | 'action'>
  readonly policyWriter: client.Gauge<'model'>
  readonly decisionsWithoutGroup: client.Counter<'model' | 'variant'>
  readonly fairnessBudgetMissed: client.Counter<'model' | 'variant'>
  readonly events: client.Counter<'topic' | 'outcome'>
  readonly eventBuffer: client.Gauge<'topic'>
  readonly feedback: client.Counter<'outcome'>
  private readonly collectors: Collect[] = []

  constructor (opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry]
    const collectors = this.collectors
    // One scrape-time hook runs every registered collector once per scrape.
    const collect = function (this: client.Gauge): void { for (const c of collectors) c() }
    this.requests = new HotCounter('fairgate_requests_total', 'Inference requests answered, by HTTP status code', ['model', 'variant', 'code'], registers)
    this.transportRequests = new HotCounter('fairgate_transport_requests_total', 'Inference requests answered, by transport (http, grpc) and HTTP-equivalent status code', ['transport', 'code'], registers)
    this.requestDuration = new HotHistogram('fairgate_request_duration_seconds', 'Time from request arrival to answer', ['model', 'variant'], LATENCY_BUCKETS, registers)
    this.queueDuration = new HotHistogram('fairgate_queue_duration_seconds', 'Time a request waited in the batch queue', ['model', 'variant'], LATENCY_BUCKETS, registers)
    this.batchSize = new HotHistogram('fairgate_batch_size', 'Rows per inference batch', ['model', 'variant'], BATCH_BUCKETS, registers)
    this.queueDepth = new client.Gauge({ name: 'fairgate_queue_depth', help: 'Rows waiting in the batch queue', labelNames: ['model', 'variant'], registers, collect })
    this.activeVariant = new client.Gauge({ name: 'fairgate_active_variant', help: '1 for the variant the policy currently prefers', labelNames: ['model', 'variant'], registers })
    this.policyActions = new client.Counter({ name: 'fairgate_policy_actions_total', help: 'Decisions taken: switch, rollback, alert, recover (policy) or manual (admin)', labelNames: ['model', 'rule', 'action'], registers })
    // The fairness page reads the writer's series only (deploy/prometheus/rules/fairgate-alerts.yml):
    // a non-leader's gaps are its own share of the traffic, not the aggregate the policy acts on.
    this.policyWriter = new client.Gauge({ name: 'fairgate_policy_writer', help: '1 on the process that takes the model\'s automatic decisions (the elected leader with Kafka, fairgate monitor when it runs; the one process without Kafka), 0 elsewhere', labelNames: ['model'], registers })
    this.decisionsWithoutGroup = new client.Counter({ name: 'fairgate_decisions_without_group_total', help: 'Rows decided by a by_group rule without the rule\'s attribute (they got the rule\'s default threshold)', labelNames: ['model', 'variant'], registers })
    this.fairnessBudgetMissed = new client.Counter({ name: 'fairgate_fairness_budget_missed_total', help: 'Requests whose latency budget no variant satisfying the fairness rule in force could meet; the mitigated variant served them anyway', labelNames: ['model', 'variant'], registers })
    this.events = new client.Counter({ name: 'fairgate_events_total', help: 'Events by topic and outcome, each event counted once per outcome: buffered (accepted), sent (acked by Kafka), dropped (lost), failed (a send carrying it failed at least once; retried), rejected (refused by Kafka for its content, e.g. larger than max.message.bytes; dropped)', labelNames: ['topic', 'outcome'], registers })
    this.eventBuffer = new client.Gauge({ name: 'fairgate_event_buffer', help: 'Events waiting for Kafka', labelNames: ['topic'], registers, collect })
    this.feedback = new client.Counter({ name: 'fairgate_feedback_total', help: 'Feedback records read from the feedback topic (fairgate monitor): accepted (a valid label, joined now or when its prediction arrives) or invalid (no prediction id, a label other than 0/1/true/false; skipped)', labelNames: ['outcome'], registers })
    if (opts.defaultMetrics !== false) client.collectDefaultMetrics({ register: this.registry })
  }

  /** Adds a function run at every scrape (fills state gauges). */
  onCollect (fn: Collect): void { this.collectors.push(fn) }

  /** The hot-path children of one (model, variant). */
  children (model: string, variant: string): VariantSeries {
    return new VariantSeries(this, model, variant)
  }
}

export class VariantSeries {
  readonly requestDuration: HistogramSeries
  readonly queueDuration: HistogramSeries
  readonly batchSize: HistogramSeries
  private readonly codes = new Map<number, CounterSeries>()
  private readonly withoutGroup: client.Counter.Internal

  constructor (private readonly m: GatewayMetrics, private readonly model: string, private readonly variant: string) {
    this.withoutGroup = m.decisionsWithoutGroup.labels(model, variant)
    this.requestDuration = m.requestDuration.labels(model, variant)
    this.queueDuration = m.queueDuration.labels(model, variant)
    this.batchSize = m.batchSize.labels(model, variant)
  }

  /** Fills the job's per-row thresholds from its variant's decision rule; counts rows without the rule's attribute. */
  decide (job: InferJob): void {
    const missing = job.variant!.rule.thresholds(job.groupIds, job.model.groups.size, job.groupsPerRow, job.thresholds, job.rows)
    if (missing > 0) this.withoutGroup.inc(missing)
  }

  countRequest (code: number): void {
    let c = this.codes.get(code)
    if (c === undefined) {
      c = this.m.requests.labels(this.model, this.variant, String(code))
      this.codes.set(code, c)
    }
    c.inc()
  }
}
