export { GatewayMetrics, VariantSeries, LATENCY_BUCKETS, BATCH_BUCKETS } from './metrics.js'
export { registerFairnessMetrics } from './fairness-metrics.js'
