// Answered predictions → one Kafka event per row (DESIGN.md's fairgate.predictions schema).
// Rows are buffered as the columns their event needs (event-ring.ts) and serialized when sent, off the request path: the
// publisher passes them to the Kafka worker as compact columns and the worker's
// PredictionEncoder (wire.ts) writes the JSON. Feedback messages are built here.
import type { InferJob } from '../batching/index.js'
import type { Config } from '../config/index.js'
import { ceHeaders } from './cloudevents.js'
import type { OutboundMessage } from './event-ring.js'
import type { KafkaPublisher } from './kafka-publisher.js'
import type { FeedbackEvent } from './schema.js'
import type { PredictionSink } from './sink.js'

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
    this.publisher.enqueuePredictions(job)
  }

  async flush (timeoutMs: number): Promise<void> { await this.publisher.flush(timeoutMs) }
  // The gateway flushes (bounded) before it closes; closing only counts what is left.
  async close (): Promise<void> { await this.publisher.close(0) }
}
