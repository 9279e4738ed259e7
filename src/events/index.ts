// The events subsystem's only public face. createEventStream checks its options, then returns
// the gateway's Kafka sink, or nothing in the embedded default (no brokers configured). The
// kafkajs client itself runs in a worker thread (kafka-worker.ts) behind the publisher.
import type { Clock } from '../clock.js'
import type { Config } from '../config/index.js'
import type { Logger } from '../models/index.js'
import type { GatewayMetrics } from '../telemetry/index.js'
import { KafkaPublisher, TOPIC_DECISIONS, TOPIC_FEEDBACK, TOPIC_PREDICTIONS } from './kafka-publisher.js'
import { feedbackMessage, KafkaPredictionSink } from './prediction-events.js'
import type { FeedbackEvent } from './schema.js'

export { noopSink, type PredictionSink } from './sink.js'
export { consumeEvents, defaultMonitorGroup, type EventConsumer, type EventHandlers } from './event-consumer.js'
export { decisionMessage, followDecisions, followDecisionsRetrying, type DecisionFollower } from './decision-events.js'
export { createDecisionWriter, type DecisionWriter } from './decision-writer.js'
export { CE_TYPES, ceHeaders, isoTime } from './cloudevents.js'
export type { PredictionEvent, FeedbackEvent, DecisionEvent } from './schema.js'
export type { OutboundMessage } from './event-ring.js'
export { feedbackLabel, LABEL_RULE, PREDICTION_ID_RULE } from './feedback-record.js'
export { KafkaPublisher, TOPIC_PREDICTIONS, TOPIC_FEEDBACK, TOPIC_DECISIONS }
export { consumeShard, shardGroup, type ShardConsumer, type ShardHandlers } from './shard-consumer.js'
export { openSummaryTopic, summaryTopicName, type SummaryTopic } from './summary-topic.js'
export { electLeader, pickLeader, LEADER_SESSION_MS, type Leadership, type LeaderRole } from './leadership.js'

export interface EventStream {
  publisher: KafkaPublisher
  sink: KafkaPredictionSink
  publishFeedback: (ev: FeedbackEvent) => void
}

export function createEventStream (opts: { config: Config, log: Logger, metrics: GatewayMetrics, clock: Clock }): EventStream | null {
  const { config } = opts
  if (config.kafka.brokers.length === 0) return null
  const publisher = new KafkaPublisher(opts)
  publisher.start()
  return {
    publisher,
    sink: new KafkaPredictionSink(publisher),
    publishFeedback: (ev) => { publisher.enqueue(TOPIC_FEEDBACK, feedbackMessage(config, ev)) }
  }
}
