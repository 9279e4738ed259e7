// Answered predictions → one Kafka event per row (DESIGN.md's fairgate.predictions schema).
// Rows are buffered as (job, row) and serialized when sent, off the request path: the
// publisher passes them to the Kafka worker as compact columns and the worker's
// PredictionEncoder (wire.ts) writes the JSON. predictionSerializer is the plain reference
// implementation of that event, which a test holds the encoder byte-for-byte equal to.
import type { InferJob } from '../batching/index.js'
import type { Config } from '../config/index.js'
import { ceHeaders } from './cloudevents.js'
import type { OutboundMessage } from './event-ring.js'
import type { KafkaPublisher } from './kafka-publisher.js'
import type { PredictionEvent, FeedbackEvent } from './schema.js'
import type { PredictionSink } from './sink.js'

export function predictionSerializer (config: Config): (job: InferJob, row: number) => OutboundMessage {
  const source = `fairgate/${config.replica}`
  const withGroups = config.events.include_groups
  const withFeatures = config.events.include_features
  const replica = config.replica
  return (job, row) => {
    const id = job.ids[row] as string
    const score = job.scores[row] as number
    const ev: PredictionEvent = {
      id,
      request_id: job.requestId,
      ts: job.completedAtWall,
      model: job.model.name,
      variant: job.variant!.name,
      score,
      decision: score >= job.model.manifest.threshold ? 1 : 0,
      latency_ms: Math.round((job.finishedAt - job.receivedAt) * 1000) / 1000,
      queue_ms: Math.round(job.queueMs * 1000) / 1000,
      batch_size: job.batchSize,
      replica
    }
    if (withGroups) ev.groups = job.model.groups.labels(job.groupIds, job.groupsPerRow ? row * job.model.groups.size : 0)
    if (withFeatures) {
      const w = job.model.width
      ev.features = Array.from(job.input.subarray(row * w, (row + 1) * w))
    }
    return { key: id, value: JSON.stringify(ev), headers: ceHeaders('prediction', id, source, job.completedAtWall), timestamp: String(job.completedAtWall) }
  }
}

export function feedbackMessage (config: Config, ev: FeedbackEvent): OutboundMessage {
  // Keyed by prediction id like the prediction itself: same partition, so a consumer of both
  // topics sees a prediction and its label together.
  return {
    key: ev.prediction_id,
    value: JSON.stringify(ev),
    headers: ceHeaders('feedback', `${ev.prediction_id}:feedback:${ev.ts}`, `fairgate/${config.replica}`, ev.ts),
    timestamp: String(ev.ts)
  }
}

/** The sink the gateway calls once per answered job. */
export class KafkaPredictionSink implements PredictionSink {
  constructor (private readonly publisher: KafkaPublisher) {}

  onPredictions (job: InferJob): void {
    for (let r = 0; r < job.rows; r++) this.publisher.enqueuePrediction(job, r)
  }

  async flush (timeoutMs: number): Promise<void> { await this.publisher.flush(timeoutMs) }
  // The gateway flushes (bounded) before it closes; closing only counts what is left.
  async close (): Promise<void> { await this.publisher.close(0) }
}
