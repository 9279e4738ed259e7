// The plain reference serializer of a prediction event (DESIGN.md's schema written the obvious
// way). Production encodes events in the Kafka worker (src/events/wire.ts PredictionEncoder);
// test/events/kafka-worker.test.ts holds that encoder byte for byte equal to this.
import type { InferJob } from '../../src/batching/index.js'
import type { Config } from '../../src/config/index.js'
import { ceHeaders, type OutboundMessage, type PredictionEvent } from '../../src/events/index.js'

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
      decision: score >= job.thresholds[row]! ? 1 : 0,
      threshold: job.thresholds[row]!,
      latency_ms: Math.round((job.finishedAt - job.receivedAt) * 1000) / 1000,
      queue_ms: Math.round(job.queueMs * 1000) / 1000,
      batch_size: job.batchSize,
      request_rows: job.rows,
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

